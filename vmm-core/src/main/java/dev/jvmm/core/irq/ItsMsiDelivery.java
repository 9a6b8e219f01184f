package dev.jvmm.core.irq;

import dev.jvmm.core.bus.RateLimitedLogger;
import dev.jvmm.kvm.ErrnoException;
import dev.jvmm.kvm.IrqRoute;
import dev.jvmm.pcie.msi.MsiSink;
import dev.jvmm.pcie.msi.RequesterId;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * MSIs to the in-kernel GICv3 ITSes, one per PCIe segment ({@link DeviceIdMapping}): a function's (address, data)
 * plus its DeviceID becomes KVM_SIGNAL_MSI with KVM_MSI_VALID_DEVID (api.rst §4.71), and the ITS translates
 * (DeviceID, EventID = data) to an LPI through the tables the guest programmed (GICv3, IHI 0069 §5.2).
 *
 * <p>The message must be a write to GITS_TRANSLATER of its own segment's ITS; anything else is a guest that
 * programmed a vector wrongly, and is counted and dropped. KVM's answer is checked: 0 means the guest's ITS state
 * blocked the message (unmapped DeviceID or EventID), counted as blocked, not delivered; an error (EBUSY while the
 * guest has not enabled its ITS) is counted and logged rate-limited, never thrown into the device that signalled.
 */
public final class ItsMsiDelivery implements MsiBackend {
    private static final System.Logger LOG = System.getLogger(ItsMsiDelivery.class.getName());

    /** KVM_SIGNAL_MSI with a DeviceID; returns KVM's answer (&gt; 0 delivered, 0 blocked). */
    @FunctionalInterface
    public interface Injector {
        int signalMsi(long address, int data, int deviceId) throws ErrnoException;
    }

    private final DeviceIdMapping mapping;
    private final Injector injector;
    private final MsiStats stats = new MsiStats();
    private final RateLimitedLogger failures = new RateLimitedLogger(LOG);
    private final RateLimitedLogger rejects = new RateLimitedLogger(LOG);

    public ItsMsiDelivery(DeviceIdMapping mapping, Injector injector) {
        this.mapping = Objects.requireNonNull(mapping);
        this.injector = Objects.requireNonNull(injector);
    }

    public DeviceIdMapping mapping() {
        return mapping;
    }

    @Override
    public MsiSink sink(int segment) {
        return (address, data, rid) -> signal(segment, address, data, rid);
    }

    /** Sends one message from {@code rid} on {@code segment}. */
    public void signal(int segment, long address, int data, RequesterId rid) {
        if (!accepts(segment, address)) return;
        int devid = DeviceIdMapping.deviceId(rid);
        try {
            if (injector.signalMsi(address, data, devid) > 0) stats.delivered();
            else stats.blocked();
        } catch (ErrnoException e) {
            long n = stats.failed();
            failures.log(
                    System.Logger.Level.WARNING,
                    "MSI segment %d devid 0x%x event %d: %s (%d failures so far)",
                    segment,
                    devid,
                    data,
                    e.getMessage(),
                    n);
        }
    }

    @Override
    public Optional<IrqRoute> route(int gsi, int segment, RequesterId rid, long address, int data) {
        if (!isDoorbellOf(segment, address)) return Optional.empty();
        return Optional.of(new IrqRoute.Msi(gsi, address, data, OptionalInt.of(DeviceIdMapping.deviceId(rid))));
    }

    /** Whether {@code address} is GITS_TRANSLATER of the ITS that serves {@code segment}: the rule both paths share. */
    private boolean isDoorbellOf(int segment, long address) {
        return mapping.its(segment).map(i -> i.doorbell() == address).orElse(false);
    }

    private boolean accepts(int segment, long address) {
        if (isDoorbellOf(segment, address)) return true;
        stats.rejected();
        rejects.log(
                System.Logger.Level.WARNING,
                "MSI to 0x%x from segment %d dropped: %s",
                address,
                segment,
                mapping.its(segment)
                        .map(i -> "its doorbell is 0x" + Long.toHexString(i.doorbell()))
                        .orElse("no ITS serves the segment"));
        return false;
    }

    @Override
    public MsiStats stats() {
        return stats;
    }
}
