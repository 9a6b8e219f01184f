package dev.jvmm.pcie.spec;

/**
 * Register offsets and bits of the PCI-compatible configuration header (PCIe Base 6.0 §7.5.1), the
 * capability IDs of PCIe Base 6.0 §7.5/§7.7/§7.9, and the ECAM address layout of §7.2.2.
 *
 * <p>This class holds only values that the specification defines. Nothing device-specific belongs here.
 *
 * <pre>
 *  Type 0 (endpoint)                          Type 1 (bridge / port)
 *  31            16 15             0          31            16 15             0
 * +----------------+----------------+ 00h    +----------------+----------------+ 00h
 * |   Device ID    |   Vendor ID    |        |   Device ID    |   Vendor ID    |
 * |     Status     |    Command     | 04h    |     Status     |    Command     | 04h
 * |      Class Code        | Rev ID | 08h    |      Class Code        | Rev ID | 08h
 * | BIST | HdrType | LatTmr | CLS   | 0Ch    | BIST | HdrType | LatTmr | CLS   | 0Ch
 * |        BAR 0 .. BAR 5           | 10h-24h|   BAR 0 / BAR 1 (not used here)  | 10h-14h
 * |        Cardbus CIS pointer      | 28h    | SecLat | Subord | Second | Prim  | 18h
 * | Subsystem ID | Subsys Vendor ID | 2Ch    | Secondary Status| I/O Lim| I/O Bs| 1Ch
 * |    Expansion ROM base address   | 30h    |  Memory Limit   |  Memory Base   | 20h
 * |           reserved     | CapPtr | 34h    |  Pref Mem Limit |  Pref Mem Base | 24h
 * |           reserved              | 38h    |     Prefetchable Base Upper 32   | 28h
 * | MaxLat| MinGnt | IntPin | IntLn | 3Ch    |     Prefetchable Limit Upper 32  | 2Ch
 * +---------------------------------+        | I/O Limit Up 16 | I/O Base Up 16 | 30h
 *                                            |           reserved     | CapPtr | 34h
 *                                            |    Expansion ROM base address    | 38h
 *                                            | Bridge Control | IntPin | IntLn  | 3Ch
 *                                            +----------------------------------+
 * </pre>
 */
public final class PciSpec {
    private PciSpec() {}

    /** Configuration space of a PCI Express function: 4 KiB (PCIe Base 6.0 §7.2.2.2). */
    public static final int CONFIG_SPACE_SIZE = 4096;
    /** The PCI-compatible part, where the capability list lives (PCIe Base 6.0 §7.5.1). */
    public static final int LEGACY_CONFIG_SPACE_SIZE = 256;
    /** First extended capability header (PCIe Base 6.0 §7.6.1). */
    public static final int EXTENDED_CAPABILITIES_START = 0x100;

    /** Vendor ID value read back for a function that does not exist (PCI Local Bus 3.0 §6.2.1). */
    public static final int INVALID_VENDOR_ID = 0xFFFF;

    // --- ECAM (PCIe Base 6.0 §7.2.2, Table 7-1) ---------------------------------------------
    /** A[(20+n-1):20]: bus number. */
    public static final int ECAM_BUS_SHIFT = 20;
    /** A[19:15]: device number. */
    public static final int ECAM_DEVICE_SHIFT = 15;
    /** A[14:12]: function number. */
    public static final int ECAM_FUNCTION_SHIFT = 12;
    /** A[11:0]: extended register number, register number and byte offset. */
    public static final int ECAM_REGISTER_MASK = 0xFFF;
    /** ECAM bytes per bus: 32 devices x 8 functions x 4 KiB. */
    public static final long ECAM_BYTES_PER_BUS = 1L << ECAM_BUS_SHIFT;

    public static final int MAX_DEVICES_PER_BUS = 32;
    public static final int MAX_FUNCTIONS_PER_DEVICE = 8;

    // --- Type 0/1 common header (PCIe Base 6.0 §7.5.1.1) ---------------------------------------
    public static final int VENDOR_ID = 0x00;
    public static final int DEVICE_ID = 0x02;
    /** §7.5.1.1.3. */
    public static final int COMMAND = 0x04;
    /** §7.5.1.1.4. */
    public static final int STATUS = 0x06;

    public static final int REVISION_ID = 0x08;
    /** Three bytes: programming interface (09h), sub-class (0Ah), base class (0Bh); §7.5.1.1.6. */
    public static final int CLASS_CODE = 0x09;
    /** §7.5.1.1.7: read-write for legacy software, no effect on PCI Express. */
    public static final int CACHE_LINE_SIZE = 0x0C;
    /** §7.5.1.1.8: does not apply to PCI Express, hardwired to 0. */
    public static final int LATENCY_TIMER = 0x0D;
    /** §7.5.1.1.9. */
    public static final int HEADER_TYPE = 0x0E;

    public static final int BIST = 0x0F;
    /** §7.5.1.1.11: bits 1:0 reserved, the list is DWORD aligned. */
    public static final int CAPABILITIES_POINTER = 0x34;
    /** §7.5.1.1.12. */
    public static final int INTERRUPT_LINE = 0x3C;
    /** §7.5.1.1.13: 0 = no INTx, 1..4 = INTA..INTD. */
    public static final int INTERRUPT_PIN = 0x3D;

    /** Header Type bits 6:0 (§7.5.1.1.9). */
    public static final int HEADER_TYPE_0 = 0x00;

    public static final int HEADER_TYPE_1 = 0x01;
    /** Header Type bit 7: Multi-Function Device (§7.5.1.1.9). */
    public static final int HEADER_TYPE_MULTI_FUNCTION = 0x80;

    // Command register bits (§7.5.1.1.3). Bits 3, 4, 5, 7, 9 do not apply to PCI Express and are RO 0.
    public static final int COMMAND_IO_SPACE = 1 << 0;
    public static final int COMMAND_MEMORY_SPACE = 1 << 1;
    public static final int COMMAND_BUS_MASTER = 1 << 2;
    public static final int COMMAND_PARITY_ERROR_RESPONSE = 1 << 6;
    public static final int COMMAND_SERR_ENABLE = 1 << 8;
    public static final int COMMAND_INTERRUPT_DISABLE = 1 << 10;
    /** The Command bits a PCI Express function implements as RW. */
    public static final int COMMAND_RW_BITS = COMMAND_IO_SPACE
            | COMMAND_MEMORY_SPACE
            | COMMAND_BUS_MASTER
            | COMMAND_PARITY_ERROR_RESPONSE
            | COMMAND_SERR_ENABLE
            | COMMAND_INTERRUPT_DISABLE;

    // Status register bits (§7.5.1.1.4).
    public static final int STATUS_INTERRUPT_STATUS = 1 << 3;
    /** Hardwired to 1: every PCI Express function has the PCI Express capability (§7.5.1.1.4). */
    public static final int STATUS_CAPABILITIES_LIST = 1 << 4;

    public static final int STATUS_MASTER_DATA_PARITY_ERROR = 1 << 8;
    public static final int STATUS_SIGNALED_TARGET_ABORT = 1 << 11;
    public static final int STATUS_RECEIVED_TARGET_ABORT = 1 << 12;
    public static final int STATUS_RECEIVED_MASTER_ABORT = 1 << 13;
    public static final int STATUS_SIGNALED_SYSTEM_ERROR = 1 << 14;
    public static final int STATUS_DETECTED_PARITY_ERROR = 1 << 15;
    /** The Status bits that are RW1C (§7.5.1.1.4, §7.5.1.1.14). */
    public static final int STATUS_RW1C_BITS = STATUS_MASTER_DATA_PARITY_ERROR
            | STATUS_SIGNALED_TARGET_ABORT
            | STATUS_RECEIVED_TARGET_ABORT
            | STATUS_RECEIVED_MASTER_ABORT
            | STATUS_SIGNALED_SYSTEM_ERROR
            | STATUS_DETECTED_PARITY_ERROR;

    // --- Type 0 header (§7.5.1.2) ---------------------------------------------------------------
    /** BAR 0; BAR n is at {@code BAR0 + 4 * n} (§7.5.1.2.1). */
    public static final int BAR0 = 0x10;

    public static final int BAR_COUNT_TYPE0 = 6;
    public static final int CARDBUS_CIS_POINTER = 0x28;
    public static final int SUBSYSTEM_VENDOR_ID = 0x2C;
    public static final int SUBSYSTEM_ID = 0x2E;
    public static final int EXPANSION_ROM_BASE = 0x30;
    public static final int MIN_GNT = 0x3E;
    public static final int MAX_LAT = 0x3F;

    /** BAR bit 0: 1 = I/O space indicator (§7.5.1.2.1). */
    public static final int BAR_IO_SPACE = 0x1;
    /** Memory BAR bits 2:1 = 10b: 64-bit decoder (§7.5.1.2.1). */
    public static final int BAR_MEMORY_64 = 0x4;
    /** Memory BAR bit 3: prefetchable (§7.5.1.2.1). */
    public static final int BAR_PREFETCHABLE = 0x8;
    /** Address bits start at bit 4 for memory, bit 2 for I/O. */
    public static final int BAR_MEMORY_FLAGS_MASK = 0xF;

    public static final int BAR_IO_FLAGS_MASK = 0x3;

    // --- Type 1 header (§7.5.1.3) ---------------------------------------------------------------
    public static final int PRIMARY_BUS = 0x18;
    public static final int SECONDARY_BUS = 0x19;
    public static final int SUBORDINATE_BUS = 0x1A;
    public static final int SECONDARY_LATENCY_TIMER = 0x1B;
    /** §7.5.1.3.6: bits 7:4 = address bits 15:12, bits 3:0 = addressing capability (0 = 16-bit). */
    public static final int IO_BASE = 0x1C;

    public static final int IO_LIMIT = 0x1D;
    /** §7.5.1.3.7. */
    public static final int SECONDARY_STATUS = 0x1E;
    /** §7.5.1.3.8: bits 15:4 = address bits 31:20, bits 3:0 RO 0. */
    public static final int MEMORY_BASE = 0x20;

    public static final int MEMORY_LIMIT = 0x22;
    /** §7.5.1.3.9: bits 3:0 = 1 for a 64-bit prefetchable window. */
    public static final int PREFETCHABLE_MEMORY_BASE = 0x24;

    public static final int PREFETCHABLE_MEMORY_LIMIT = 0x26;
    /** §7.5.1.3.10. */
    public static final int PREFETCHABLE_BASE_UPPER_32 = 0x28;

    public static final int PREFETCHABLE_LIMIT_UPPER_32 = 0x2C;
    /** §7.5.1.3.11. */
    public static final int IO_BASE_UPPER_16 = 0x30;

    public static final int IO_LIMIT_UPPER_16 = 0x32;
    /** §7.5.1.3.12 (Type 1 puts the expansion ROM BAR at 38h). */
    public static final int BRIDGE_EXPANSION_ROM_BASE = 0x38;
    /** §7.5.1.3.13. */
    public static final int BRIDGE_CONTROL = 0x3E;

    /** Prefetchable base/limit bits 3:0 = 1h: 64-bit addressing (§7.5.1.3.9). */
    public static final int PREFETCHABLE_64BIT = 0x1;

    // Secondary Status (§7.5.1.3.7): the same RW1C error bits as Status, bit 14 is Received System Error.
    public static final int SECONDARY_STATUS_RW1C_BITS = STATUS_RW1C_BITS;

    // Bridge Control (§7.5.1.3.13). Bits 5 and 7..11 do not apply to PCI Express and are RO 0.
    public static final int BRIDGE_CONTROL_PARITY_ERROR_RESPONSE = 1 << 0;
    public static final int BRIDGE_CONTROL_SERR_ENABLE = 1 << 1;
    public static final int BRIDGE_CONTROL_ISA_ENABLE = 1 << 2;
    public static final int BRIDGE_CONTROL_VGA_ENABLE = 1 << 3;
    public static final int BRIDGE_CONTROL_VGA_16BIT_DECODE = 1 << 4;
    /** Secondary Bus Reset: a Hot Reset of everything below the port while set (§7.5.1.3.13). */
    public static final int BRIDGE_CONTROL_SECONDARY_BUS_RESET = 1 << 6;

    public static final int BRIDGE_CONTROL_RW_BITS = BRIDGE_CONTROL_PARITY_ERROR_RESPONSE
            | BRIDGE_CONTROL_SERR_ENABLE
            | BRIDGE_CONTROL_ISA_ENABLE
            | BRIDGE_CONTROL_VGA_ENABLE
            | BRIDGE_CONTROL_VGA_16BIT_DECODE
            | BRIDGE_CONTROL_SECONDARY_BUS_RESET;

    // --- Capability IDs (PCI Code and ID Assignment spec; structures in PCIe Base 6.0 §7.5, §7.7, §7.9) ---
    /** §7.5.2. */
    public static final int CAP_ID_POWER_MANAGEMENT = 0x01;
    /** §7.7.1. */
    public static final int CAP_ID_MSI = 0x05;
    /** §7.9.4. */
    public static final int CAP_ID_VENDOR_SPECIFIC = 0x09;
    /** §7.5.3. */
    public static final int CAP_ID_PCI_EXPRESS = 0x10;
    /** §7.7.2. */
    public static final int CAP_ID_MSIX = 0x11;

    /** First byte after the Type 0/1 header: where capabilities may start. */
    public static final int CAPABILITIES_START = 0x40;

    // --- Power Management capability (§7.5.2) ---------------------------------------------------
    /** Power Management Capabilities (PMC), 16 bits (§7.5.2.1). */
    public static final int PM_PMC = 0x02;
    /** Power Management Control/Status (PMCSR), 16 bits (§7.5.2.2). */
    public static final int PM_PMCSR = 0x04;
    /** PMCSR bridge extensions, deprecated in PCI Express, RO 0. */
    public static final int PM_PMCSR_BSE = 0x06;
    /** Data register (§7.5.2.3). */
    public static final int PM_DATA = 0x07;

    public static final int PM_CAPABILITY_LENGTH = 8;
    /** PMC bits 2:0 = 011b: compliant with PCI Power Management 1.2. */
    public static final int PM_PMC_VERSION_1_2 = 0x3;

    public static final int PM_PMC_D1_SUPPORT = 1 << 9;
    public static final int PM_PMC_D2_SUPPORT = 1 << 10;
    /** PMC bits 15:11: states from which PME can be signalled. */
    public static final int PM_PMC_PME_SUPPORT_SHIFT = 11;
    /** PMCSR bits 1:0. */
    public static final int PM_PMCSR_POWER_STATE_MASK = 0x3;

    public static final int PM_STATE_D0 = 0;
    public static final int PM_STATE_D1 = 1;
    public static final int PM_STATE_D2 = 2;
    public static final int PM_STATE_D3_HOT = 3;
    /** PMCSR bit 3: the function keeps its state across D3hot to D0 (no internal reset). */
    public static final int PM_PMCSR_NO_SOFT_RESET = 1 << 3;

    public static final int PM_PMCSR_PME_ENABLE = 1 << 8;
    public static final int PM_PMCSR_PME_STATUS = 1 << 15;
}
