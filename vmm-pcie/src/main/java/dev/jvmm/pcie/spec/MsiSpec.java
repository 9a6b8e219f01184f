package dev.jvmm.pcie.spec;

/**
 * MSI and MSI-X capability structures (PCIe Base 6.0 §7.7.1, §7.7.2; PCI Local Bus 3.0 §6.8) and the
 * MSI-X table and Pending Bit Array that live in a BAR.
 *
 * <pre>
 * MSI, 64-bit address, per-vector masking (§7.7.1)      MSI-X capability (§7.7.2)
 * +-----------------+---------+--------+ 00h            +-----------------+---------+--------+ 00h
 * | Message Control | Next    | ID 05h |                | Message Control | Next    | ID 11h |
 * |        Message Address [31:2] | 00 | 04h            |   Table Offset [31:3]  | Table BIR  | 04h
 * |        Message Upper Address       | 08h            |   PBA Offset [31:3]    | PBA BIR    | 08h
 * | (ext data, RO 0)| Message Data     | 0Ch            +------------------------------------+
 * |        Mask Bits                   | 10h
 * |        Pending Bits                | 14h            MSI-X table entry, 16 bytes (§7.7.2.5-8)
 * +------------------------------------+                | Vector Control | Data | Upper Addr | Addr |
 * </pre>
 */
public final class MsiSpec {
    private MsiSpec() {}

    // --- MSI (§7.7.1) ---------------------------------------------------------------------------
    /** §7.7.1.2. */
    public static final int MSI_MESSAGE_CONTROL = 0x02;
    /** §7.7.1.3: bits 1:0 are RO 0 (DWORD aligned). */
    public static final int MSI_MESSAGE_ADDRESS = 0x04;
    /** §7.7.1.4: only with the 64-bit layout. */
    public static final int MSI_MESSAGE_UPPER_ADDRESS = 0x08;
    /** §7.7.1.5: at 08h (32-bit layout) or 0Ch (64-bit layout). */
    public static final int MSI_MESSAGE_DATA_32 = 0x08;

    public static final int MSI_MESSAGE_DATA_64 = 0x0C;
    /** §7.7.1.7: at 0Ch (32-bit) or 10h (64-bit), present only with per-vector masking. */
    public static final int MSI_MASK_BITS_32 = 0x0C;

    public static final int MSI_MASK_BITS_64 = 0x10;
    /** §7.7.1.8. */
    public static final int MSI_PENDING_BITS_32 = 0x10;

    public static final int MSI_PENDING_BITS_64 = 0x14;

    public static final int MSI_CONTROL_ENABLE = 1 << 0;
    /** Bits 3:1: Multiple Message Capable, log2 of the vectors requested. */
    public static final int MSI_CONTROL_MMC_SHIFT = 1;
    /** Bits 6:4: Multiple Message Enable, log2 of the vectors allocated by software. */
    public static final int MSI_CONTROL_MME_SHIFT = 4;

    public static final int MSI_CONTROL_MME_MASK = 0x7 << MSI_CONTROL_MME_SHIFT;
    public static final int MSI_CONTROL_64BIT = 1 << 7;
    public static final int MSI_CONTROL_PER_VECTOR_MASKING = 1 << 8;
    /** MSI supports at most 32 vectors (Multiple Message Capable = 101b). */
    public static final int MSI_MAX_VECTORS = 32;

    // --- MSI-X (§7.7.2) -------------------------------------------------------------------------
    /** §7.7.2.2. */
    public static final int MSIX_MESSAGE_CONTROL = 0x02;
    /** §7.7.2.3. */
    public static final int MSIX_TABLE_OFFSET_BIR = 0x04;
    /** §7.7.2.4. */
    public static final int MSIX_PBA_OFFSET_BIR = 0x08;

    public static final int MSIX_CAPABILITY_LENGTH = 12;

    /** Bits 10:0: Table Size, encoded as N-1. */
    public static final int MSIX_CONTROL_TABLE_SIZE_MASK = 0x7FF;
    /** Bit 14: Function Mask. */
    public static final int MSIX_CONTROL_FUNCTION_MASK = 1 << 14;
    /** Bit 15: MSI-X Enable. */
    public static final int MSIX_CONTROL_ENABLE = 1 << 15;

    public static final int MSIX_MAX_VECTORS = 2048;
    /** Bits 2:0 of Table/PBA Offset registers: BAR Indicator. */
    public static final int MSIX_BIR_MASK = 0x7;

    public static final int MSIX_ENTRY_SIZE = 16;
    /** §7.7.2.5: bits 1:0 of the message address are reserved for DWORD alignment. */
    public static final int MSIX_ENTRY_ADDRESS = 0x0;
    /** §7.7.2.6. */
    public static final int MSIX_ENTRY_UPPER_ADDRESS = 0x4;
    /** §7.7.2.7. */
    public static final int MSIX_ENTRY_DATA = 0x8;
    /** §7.7.2.8: bit 0 = Mask Bit, set after reset. */
    public static final int MSIX_ENTRY_VECTOR_CONTROL = 0xC;

    public static final int MSIX_VECTOR_CONTROL_MASK = 1;
}
