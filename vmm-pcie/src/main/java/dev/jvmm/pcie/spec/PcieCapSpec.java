package dev.jvmm.pcie.spec;

/**
 * The PCI Express Capability structure (PCIe Base 6.0 §7.5.3): register offsets relative to the
 * capability, and the bits of each register that jvmm models.
 *
 * <pre>
 *  31                            16 15                 8 7                  0
 * +--------------------------------+--------------------+--------------------+
 * |  PCI Express Capabilities      |  Next Cap Pointer  |  Cap ID (10h)      | 00h
 * |                     Device Capabilities                                  | 04h
 * |  Device Status                 |  Device Control                         | 08h
 * |                     Link Capabilities                                    | 0Ch
 * |  Link Status                   |  Link Control                           | 10h
 * |                     Slot Capabilities                                    | 14h
 * |  Slot Status                   |  Slot Control                           | 18h
 * |  Root Capabilities             |  Root Control                           | 1Ch
 * |                     Root Status                                          | 20h
 * |                     Device Capabilities 2                                | 24h
 * |  Device Status 2               |  Device Control 2                       | 28h
 * |                     Link Capabilities 2                                  | 2Ch
 * |  Link Status 2                 |  Link Control 2                         | 30h
 * |                     Slot Capabilities 2                                  | 34h
 * |  Slot Status 2                 |  Slot Control 2                         | 38h
 * +--------------------------------------------------------------------------+
 * </pre>
 */
public final class PcieCapSpec {
    private PcieCapSpec() {}

    /** Length of a version 2 capability (through Slot Status 2). */
    public static final int LENGTH = 0x3C;

    /** §7.5.3.2. */
    public static final int CAPABILITIES = 0x02;
    /** §7.5.3.3. */
    public static final int DEVICE_CAPABILITIES = 0x04;
    /** §7.5.3.4. */
    public static final int DEVICE_CONTROL = 0x08;
    /** §7.5.3.5. */
    public static final int DEVICE_STATUS = 0x0A;
    /** §7.5.3.6. */
    public static final int LINK_CAPABILITIES = 0x0C;
    /** §7.5.3.7. */
    public static final int LINK_CONTROL = 0x10;
    /** §7.5.3.8. */
    public static final int LINK_STATUS = 0x12;
    /** §7.5.3.9. */
    public static final int SLOT_CAPABILITIES = 0x14;
    /** §7.5.3.10. */
    public static final int SLOT_CONTROL = 0x18;
    /** §7.5.3.11. */
    public static final int SLOT_STATUS = 0x1A;
    /** §7.5.3.12. */
    public static final int ROOT_CONTROL = 0x1C;
    /** §7.5.3.13. */
    public static final int ROOT_CAPABILITIES = 0x1E;
    /** §7.5.3.14. */
    public static final int ROOT_STATUS = 0x20;
    /** §7.5.3.15. */
    public static final int DEVICE_CAPABILITIES_2 = 0x24;
    /** §7.5.3.16. */
    public static final int DEVICE_CONTROL_2 = 0x28;
    /** §7.5.3.18. */
    public static final int LINK_CAPABILITIES_2 = 0x2C;
    /** §7.5.3.19. */
    public static final int LINK_CONTROL_2 = 0x30;
    /** §7.5.3.20. */
    public static final int LINK_STATUS_2 = 0x32;

    // PCI Express Capabilities register (§7.5.3.2).
    /** Bits 3:0: capability version 2h. */
    public static final int CAP_VERSION_2 = 0x2;
    /** Bits 7:4: Device/Port Type. */
    public static final int CAP_DEVICE_TYPE_SHIFT = 4;

    public static final int CAP_DEVICE_TYPE_MASK = 0xF << CAP_DEVICE_TYPE_SHIFT;
    /** Bit 8: Slot Implemented (valid for Root Ports and Switch Downstream Ports only). */
    public static final int CAP_SLOT_IMPLEMENTED = 1 << 8;

    // Device Capabilities (§7.5.3.3).
    /** Bit 15: Role-Based Error Reporting, must be 1 for functions compliant with 1.1 and later. */
    public static final int DEVCAP_ROLE_BASED_ERROR_REPORTING = 1 << 15;

    // Device Control (§7.5.3.4).
    public static final int DEVCTL_CORRECTABLE_ERROR_REPORTING = 1 << 0;
    public static final int DEVCTL_NON_FATAL_ERROR_REPORTING = 1 << 1;
    public static final int DEVCTL_FATAL_ERROR_REPORTING = 1 << 2;
    public static final int DEVCTL_UNSUPPORTED_REQUEST_REPORTING = 1 << 3;
    public static final int DEVCTL_RELAXED_ORDERING = 1 << 4;
    /** Bits 7:5: Max_Payload_Size. */
    public static final int DEVCTL_MAX_PAYLOAD_SIZE = 0x7 << 5;

    public static final int DEVCTL_EXTENDED_TAG = 1 << 8;
    public static final int DEVCTL_AUX_POWER_PM = 1 << 10;
    public static final int DEVCTL_NO_SNOOP = 1 << 11;
    /** Bits 14:12: Max_Read_Request_Size, default 010b (512 bytes). */
    public static final int DEVCTL_MAX_READ_REQUEST_SIZE = 0x7 << 12;

    public static final int DEVCTL_MAX_READ_REQUEST_512 = 0x2 << 12;
    public static final int DEVCTL_RW_BITS = DEVCTL_CORRECTABLE_ERROR_REPORTING
            | DEVCTL_NON_FATAL_ERROR_REPORTING
            | DEVCTL_FATAL_ERROR_REPORTING
            | DEVCTL_UNSUPPORTED_REQUEST_REPORTING
            | DEVCTL_RELAXED_ORDERING
            | DEVCTL_MAX_PAYLOAD_SIZE
            | DEVCTL_EXTENDED_TAG
            | DEVCTL_AUX_POWER_PM
            | DEVCTL_NO_SNOOP
            | DEVCTL_MAX_READ_REQUEST_SIZE;
    /** Power-on value: Relaxed Ordering and No Snoop enabled, 512-byte read requests (§7.5.3.4 defaults). */
    public static final int DEVCTL_DEFAULT = DEVCTL_RELAXED_ORDERING | DEVCTL_NO_SNOOP | DEVCTL_MAX_READ_REQUEST_512;

    // Device Status (§7.5.3.5): bits 3:0 and 6 are RW1C.
    public static final int DEVSTA_CORRECTABLE_ERROR = 1 << 0;
    public static final int DEVSTA_NON_FATAL_ERROR = 1 << 1;
    public static final int DEVSTA_FATAL_ERROR = 1 << 2;
    public static final int DEVSTA_UNSUPPORTED_REQUEST = 1 << 3;
    public static final int DEVSTA_EMERGENCY_POWER_REDUCTION = 1 << 6;
    public static final int DEVSTA_RW1C_BITS = DEVSTA_CORRECTABLE_ERROR
            | DEVSTA_NON_FATAL_ERROR
            | DEVSTA_FATAL_ERROR
            | DEVSTA_UNSUPPORTED_REQUEST
            | DEVSTA_EMERGENCY_POWER_REDUCTION;

    // Link Capabilities (§7.5.3.6).
    /** Bits 3:0: Max Link Speed, an index into the Supported Link Speeds Vector; 1 = 2.5 GT/s. */
    public static final int LNKCAP_SPEED_2_5GT = 0x1;
    /** Bits 9:4: Maximum Link Width. */
    public static final int LNKCAP_WIDTH_SHIFT = 4;
    /** Bit 20: Data Link Layer Link Active Reporting Capable; 1 for hot-plug capable Downstream Ports. */
    public static final int LNKCAP_DLL_LINK_ACTIVE_REPORTING = 1 << 20;
    /** Bits 31:24: Port Number. */
    public static final int LNKCAP_PORT_NUMBER_SHIFT = 24;

    // Link Control (§7.5.3.7).
    /** Bits 1:0: ASPM Control. */
    public static final int LNKCTL_ASPM_CONTROL = 0x3;
    /** Bit 4: Link Disable; Downstream Ports only. */
    public static final int LNKCTL_LINK_DISABLE = 1 << 4;
    /** Bit 5: Retrain Link; Downstream Ports only, always reads 0. */
    public static final int LNKCTL_RETRAIN_LINK = 1 << 5;

    public static final int LNKCTL_COMMON_CLOCK = 1 << 6;
    public static final int LNKCTL_EXTENDED_SYNCH = 1 << 7;

    // Link Status (§7.5.3.8).
    /** Bits 3:0: Current Link Speed. */
    public static final int LNKSTA_SPEED_MASK = 0xF;
    /** Bits 9:4: Negotiated Link Width. */
    public static final int LNKSTA_WIDTH_SHIFT = 4;
    /** Bit 12: Slot Clock Configuration. */
    public static final int LNKSTA_SLOT_CLOCK = 1 << 12;
    /** Bit 13: Data Link Layer Link Active (DLLLA). */
    public static final int LNKSTA_DLL_LINK_ACTIVE = 1 << 13;
    /** Bit 14: Link Bandwidth Management Status, RW1C. */
    public static final int LNKSTA_BANDWIDTH_MANAGEMENT = 1 << 14;
    /** Bit 15: Link Autonomous Bandwidth Status, RW1C. */
    public static final int LNKSTA_AUTONOMOUS_BANDWIDTH = 1 << 15;

    // Slot Capabilities (§7.5.3.9).
    public static final int SLTCAP_ATTENTION_BUTTON = 1 << 0;
    public static final int SLTCAP_POWER_CONTROLLER = 1 << 1;
    public static final int SLTCAP_MRL_SENSOR = 1 << 2;
    public static final int SLTCAP_ATTENTION_INDICATOR = 1 << 3;
    public static final int SLTCAP_POWER_INDICATOR = 1 << 4;
    public static final int SLTCAP_HOT_PLUG_SURPRISE = 1 << 5;
    public static final int SLTCAP_HOT_PLUG_CAPABLE = 1 << 6;
    public static final int SLTCAP_ELECTROMECHANICAL_INTERLOCK = 1 << 17;
    public static final int SLTCAP_NO_COMMAND_COMPLETED = 1 << 18;
    /** Bits 31:19: Physical Slot Number. */
    public static final int SLTCAP_PHYSICAL_SLOT_SHIFT = 19;

    public static final int SLTCAP_PHYSICAL_SLOT_MAX = 0x1FFF;

    // Slot Control (§7.5.3.10).
    public static final int SLTCTL_ATTENTION_BUTTON_PRESSED_ENABLE = 1 << 0;
    public static final int SLTCTL_POWER_FAULT_DETECTED_ENABLE = 1 << 1;
    public static final int SLTCTL_MRL_SENSOR_CHANGED_ENABLE = 1 << 2;
    /** PDCE. */
    public static final int SLTCTL_PRESENCE_DETECT_CHANGED_ENABLE = 1 << 3;

    public static final int SLTCTL_COMMAND_COMPLETED_INTERRUPT_ENABLE = 1 << 4;
    /** HPIE. */
    public static final int SLTCTL_HOT_PLUG_INTERRUPT_ENABLE = 1 << 5;
    /** Bits 7:6. */
    public static final int SLTCTL_ATTENTION_INDICATOR_CONTROL = 0x3 << 6;
    /** Bits 9:8. */
    public static final int SLTCTL_POWER_INDICATOR_CONTROL = 0x3 << 8;
    /** Bit 10: 1 = power off. */
    public static final int SLTCTL_POWER_CONTROLLER_CONTROL = 1 << 10;

    public static final int SLTCTL_ELECTROMECHANICAL_INTERLOCK_CONTROL = 1 << 11;
    /** DLLSCE. */
    public static final int SLTCTL_DLL_STATE_CHANGED_ENABLE = 1 << 12;

    // Slot Status (§7.5.3.11).
    public static final int SLTSTA_ATTENTION_BUTTON_PRESSED = 1 << 0;
    public static final int SLTSTA_POWER_FAULT_DETECTED = 1 << 1;
    public static final int SLTSTA_MRL_SENSOR_CHANGED = 1 << 2;
    /** PDC. */
    public static final int SLTSTA_PRESENCE_DETECT_CHANGED = 1 << 3;

    public static final int SLTSTA_COMMAND_COMPLETED = 1 << 4;
    public static final int SLTSTA_MRL_SENSOR_STATE = 1 << 5;
    /** PDS: hardwired to 1 on Downstream Ports without a slot. */
    public static final int SLTSTA_PRESENCE_DETECT_STATE = 1 << 6;

    public static final int SLTSTA_ELECTROMECHANICAL_INTERLOCK_STATUS = 1 << 7;
    /** DLLSC. */
    public static final int SLTSTA_DLL_STATE_CHANGED = 1 << 8;

    public static final int SLTSTA_RW1C_BITS = SLTSTA_ATTENTION_BUTTON_PRESSED
            | SLTSTA_POWER_FAULT_DETECTED
            | SLTSTA_MRL_SENSOR_CHANGED
            | SLTSTA_PRESENCE_DETECT_CHANGED
            | SLTSTA_COMMAND_COMPLETED
            | SLTSTA_DLL_STATE_CHANGED;

    // Root Control (§7.5.3.12).
    public static final int RTCTL_SERR_ON_CORRECTABLE = 1 << 0;
    public static final int RTCTL_SERR_ON_NON_FATAL = 1 << 1;
    public static final int RTCTL_SERR_ON_FATAL = 1 << 2;
    public static final int RTCTL_PME_INTERRUPT_ENABLE = 1 << 3;
    public static final int RTCTL_RW_BITS =
            RTCTL_SERR_ON_CORRECTABLE | RTCTL_SERR_ON_NON_FATAL | RTCTL_SERR_ON_FATAL | RTCTL_PME_INTERRUPT_ENABLE;

    // Root Status (§7.5.3.14).
    /** Bit 16: PME Status, RW1C. */
    public static final int RTSTA_PME_STATUS = 1 << 16;

    // Link Capabilities 2 (§7.5.3.18).
    /** Bits 7:1: Supported Link Speeds Vector; bit 1 = 2.5 GT/s. */
    public static final int LNKCAP2_SPEED_2_5GT = 1 << 1;

    // Link Control 2 (§7.5.3.19).
    /** Bits 3:0: Target Link Speed. */
    public static final int LNKCTL2_TARGET_LINK_SPEED = 0xF;
}
