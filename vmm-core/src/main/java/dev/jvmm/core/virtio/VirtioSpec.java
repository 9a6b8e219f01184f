package dev.jvmm.core.virtio;

/**
 * Transport-independent values of the virtio 1.2 specification (OASIS, virtio-v1.2-cs01): device status bits
 * (§2.1), the reserved feature bits a transport offers (§6), and the feature-bit ranges (§2.2).
 *
 * <p>Feature constants are bit numbers, as the specification writes them; {@link #bit} turns one into a mask.
 */
public final class VirtioSpec {
    private VirtioSpec() {}

    // --- Device status field (§2.1) ---------------------------------------------------------------
    /** The guest OS has found the device and recognised it as a valid virtio device. */
    public static final int STATUS_ACKNOWLEDGE = 1;
    /** The guest OS knows how to drive the device. */
    public static final int STATUS_DRIVER = 2;
    /** The driver is set up and ready to drive the device. */
    public static final int STATUS_DRIVER_OK = 4;
    /** The driver has acknowledged all the features it understands; feature negotiation is complete. */
    public static final int STATUS_FEATURES_OK = 8;
    /** Set by the device: it has experienced an error from which it cannot recover (§2.1.1). */
    public static final int STATUS_DEVICE_NEEDS_RESET = 0x40;
    /** Something went wrong in the guest and it has given up on the device. */
    public static final int STATUS_FAILED = 0x80;
    /** The bits a driver may set; {@link #STATUS_DEVICE_NEEDS_RESET} belongs to the device, bits 4-5 are reserved. */
    public static final int STATUS_DRIVER_BITS =
            STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_DRIVER_OK | STATUS_FEATURES_OK | STATUS_FAILED;

    // --- Reserved feature bits (§6) --------------------------------------------------------------
    /** The driver can use descriptors with VIRTQ_DESC_F_INDIRECT (§2.7.5.3). */
    public static final int F_RING_INDIRECT_DESC = 28;
    /** The used_event and avail_event fields (§2.7.7, §2.7.10). */
    public static final int F_RING_EVENT_IDX = 29;
    /** Compliance with the 1.x specification; a device without it is legacy (§6). */
    public static final int F_VERSION_1 = 32;

    /** Feature bits 24 to 49 are reserved for the queue and feature negotiation mechanisms (§2.2). */
    public static final long TRANSPORT_FEATURE_MASK = ((1L << 50) - 1) & ~((1L << 24) - 1);

    /** The mask of feature bit {@code bit}. */
    public static long bit(int bit) {
        if (bit < 0 || bit > 63) {
            throw new IllegalArgumentException("feature bit " + bit + " out of range 0-63");
        }
        return 1L << bit;
    }
}
