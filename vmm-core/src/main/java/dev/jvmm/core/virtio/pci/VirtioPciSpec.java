package dev.jvmm.core.virtio.pci;

/**
 * Values of the virtio 1.2 PCI transport (§4.1): identification, the {@code virtio_pci_cap} vendor capability,
 * and the {@code virtio_pci_common_cfg} register layout.
 *
 * <pre>
 * struct virtio_pci_cap (§4.1.4)                 struct virtio_pci_common_cfg (§4.1.4.3)
 *  0 cap_vndr (09h)   1 cap_next   2 cap_len      00 le32 device_feature_select   04 le32 device_feature
 *  3 cfg_type         4 bar        5 id           08 le32 driver_feature_select   0C le32 driver_feature
 *  6 padding[2]                                   10 le16 config_msix_vector      12 le16 num_queues
 *  8 le32 offset     12 le32 length               14 u8 device_status  15 u8 config_generation
 * notify cap: 16 le32 notify_off_multiplier       16 le16 queue_select  18 le16 queue_size
 * pci_cfg cap: 16 u8 pci_cfg_data[4]              1A le16 queue_msix_vector  1C le16 queue_enable
 *                                                 1E le16 queue_notify_off
 *                                                 20 le64 queue_desc  28 le64 queue_driver  30 le64 queue_device
 *                                                 (38 le16 queue_notify_data, 3A le16 queue_reset: not offered)
 * </pre>
 */
public final class VirtioPciSpec {
    private VirtioPciSpec() {}

    // --- Identification (§4.1.2) -----------------------------------------------------------------
    public static final int VENDOR_ID = 0x1AF4;
    /** Non-transitional devices: device id = 0x1040 + virtio device id. */
    public static final int DEVICE_ID_BASE = 0x1040;
    /** "Non-transitional devices SHOULD have a PCI Revision ID of 1 or higher." */
    public static final int REVISION_ID = 1;
    /** Subsystem ids as QEMU's modern devices; "SHOULD have a PCI Subsystem Device ID of 0x40 or higher". */
    public static final int SUBSYSTEM_VENDOR_ID = 0x1AF4;

    public static final int SUBSYSTEM_ID = 0x1100;

    // --- struct virtio_pci_cap (§4.1.4) ----------------------------------------------------------
    public static final int CAP_CFG_TYPE = 3;
    public static final int CAP_BAR = 4;
    public static final int CAP_ID = 5;
    public static final int CAP_OFFSET = 8;
    public static final int CAP_LENGTH = 12;
    /** Bytes of struct virtio_pci_cap. */
    public static final int CAP_SIZE = 16;
    /** struct virtio_pci_notify_cap: le32 notify_off_multiplier after the common part (§4.1.4.4). */
    public static final int NOTIFY_CAP_MULTIPLIER = 16;

    public static final int NOTIFY_CAP_SIZE = 20;
    /** struct virtio_pci_cfg_cap: u8 pci_cfg_data[4] after the common part (§4.1.4.9). */
    public static final int PCI_CFG_CAP_DATA = 16;

    public static final int PCI_CFG_CAP_SIZE = 20;

    /** cfg_type values (§4.1.4). */
    public static final int CAP_COMMON_CFG = 1;

    public static final int CAP_NOTIFY_CFG = 2;
    public static final int CAP_ISR_CFG = 3;
    public static final int CAP_DEVICE_CFG = 4;
    public static final int CAP_PCI_CFG = 5;

    // --- struct virtio_pci_common_cfg (§4.1.4.3) -------------------------------------------------
    public static final int DEVICE_FEATURE_SELECT = 0x00;
    public static final int DEVICE_FEATURE = 0x04;
    public static final int DRIVER_FEATURE_SELECT = 0x08;
    public static final int DRIVER_FEATURE = 0x0C;
    public static final int CONFIG_MSIX_VECTOR = 0x10;
    public static final int NUM_QUEUES = 0x12;
    public static final int DEVICE_STATUS = 0x14;
    public static final int CONFIG_GENERATION = 0x15;
    public static final int QUEUE_SELECT = 0x16;
    public static final int QUEUE_SIZE = 0x18;
    public static final int QUEUE_MSIX_VECTOR = 0x1A;
    public static final int QUEUE_ENABLE = 0x1C;
    public static final int QUEUE_NOTIFY_OFF = 0x1E;
    public static final int QUEUE_DESC = 0x20;
    public static final int QUEUE_DRIVER = 0x28;
    public static final int QUEUE_DEVICE = 0x30;
    /** Bytes of the common configuration this transport implements: up to queue_device, the 1.0 layout. */
    public static final int COMMON_CFG_LENGTH = 0x38;

    /** "No vector": an event that raises no MSI-X message (§4.1.5.1.2). */
    public static final int NO_VECTOR = 0xFFFF;

    /** ISR status bits (§4.1.4.5). */
    public static final int ISR_QUEUE = 0x1;

    public static final int ISR_CONFIG = 0x2;
}
