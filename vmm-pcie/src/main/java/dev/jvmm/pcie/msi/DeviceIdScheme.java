package dev.jvmm.pcie.msi;

import java.lang.System.Logger.Level;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How a (PCI segment, requester id) pair becomes the DeviceID an interrupt translation service sees:
 * {@code devid = (segment << 16) | RID}, accepted only if it fits in {@code deviceIdBits}.
 *
 * <p>Why the width matters: KVM's in-kernel vITS accepts 16-bit DeviceIDs only ({@code VITS_TYPER_DEVBITS 16}
 * in {@code arch/arm64/kvm/vgic/vgic-its.c}; MAPD and injection reject larger ids). With this formula only
 * segment 0 fits, so a device on segment 1 would enumerate but never get an interrupt (ARCHITECTURE.md §3, §7).
 * Such ids come back empty here and the message is dropped and counted, never thrown. Folding the segment
 * into the bus byte, or one vITS per segment, are the known ways out; the scheme is a value so the machine
 * can choose one later. The guest must compute the same devid: device tree {@code msi-map} or ACPI IORT
 * ID mappings describe this formula.
 *
 * @param deviceIdBits width of the DeviceID space, 16..32
 */
public record DeviceIdScheme(int deviceIdBits) {
    private static final System.Logger LOG = System.getLogger(DeviceIdScheme.class.getName());

    /** DeviceID bits of KVM's emulated ITS. */
    public static final int KVM_VITS_DEVICE_ID_BITS = 16;

    /** The scheme that KVM's vITS accepts: segment 0 only. */
    public static final DeviceIdScheme KVM_VITS = new DeviceIdScheme(KVM_VITS_DEVICE_ID_BITS);

    public DeviceIdScheme {
        if (deviceIdBits < 16 || deviceIdBits > 32) {
            throw new IllegalArgumentException("deviceIdBits " + deviceIdBits + " out of range 16-32");
        }
    }

    /** The DeviceID for a requester on {@code segment}, or empty if it does not fit in this scheme. */
    public OptionalInt deviceId(int segment, RequesterId rid) {
        if (segment < 0 || segment > 0xFFFF) {
            return OptionalInt.empty();
        }
        long devid = (long) segment << 16 | rid.value();
        if (devid >>> deviceIdBits != 0) {
            return OptionalInt.empty();
        }
        return OptionalInt.of((int) devid);
    }

    /** A sink that has the DeviceID already composed, e.g. {@code KVM_SIGNAL_MSI} with {@code KVM_MSI_VALID_DEVID}. */
    @FunctionalInterface
    public interface DeviceIdSink {
        void signal(long address, int data, int deviceId);
    }

    /**
     * A decorator that adds the DeviceID for one segment in front of {@code target}; messages whose DeviceID
     * does not fit are dropped, counted in {@code dropped}, and logged once.
     */
    public MsiSink forSegment(int segment, DeviceIdSink target, AtomicLong dropped) {
        return (address, data, rid) -> {
            OptionalInt devid = deviceId(segment, rid);
            if (devid.isPresent()) {
                target.signal(address, data, devid.getAsInt());
            } else if (dropped.getAndIncrement() == 0) {
                LOG.log(Level.WARNING, "MSI from {0} on segment {1} dropped: its DeviceID does not fit in {2} bits",
                        rid, segment, deviceIdBits);
            }
        };
    }
}
