package dev.jvmm.core.irq;

import dev.jvmm.kvm.ErrnoException;
import dev.jvmm.pcie.msi.DeviceIdScheme;
import java.util.concurrent.atomic.AtomicLong;

/**
 * MSIs to the in-kernel GICv3 ITS: a device's (address, data) plus its DeviceID becomes KVM_SIGNAL_MSI with
 * KVM_MSI_VALID_DEVID (api.rst §4.71). The ITS translates (DeviceID, EventID = data) to an LPI through the tables
 * the guest programmed (GICv3 architecture, IHI 0069, §5.2).
 *
 * <p>The message must be a write to the ITS's GITS_TRANSLATER (ITS base + 0x10040, IHI 0069 §12.19); anything
 * else is a guest that programmed a vector wrongly, and is counted and dropped. Injection failures (EBUSY while
 * the guest has not enabled its ITS, a DeviceID the guest never mapped) are counted and logged rate-limited, never
 * thrown into the device that signalled.
 */
public final class ItsMsiDelivery implements DeviceIdScheme.DeviceIdSink {
    private static final System.Logger LOG = System.getLogger(ItsMsiDelivery.class.getName());
    /** GITS_TRANSLATER's offset from the ITS base: in the second 64 KiB frame (IHI 0069 §12.19). */
    public static final long GITS_TRANSLATER = 0x1_0040;

    /** KVM_SIGNAL_MSI with a DeviceID. */
    @FunctionalInterface
    public interface Injector {
        void signalMsi(long address, int data, int deviceId) throws ErrnoException;
    }

    private final long doorbell;
    private final Injector injector;
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong wrongAddress = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();

    public ItsMsiDelivery(long itsBase, Injector injector) {
        this.doorbell = itsBase + GITS_TRANSLATER;
        this.injector = injector;
    }

    /** The address the guest must program into MSI/MSI-X vectors. */
    public long doorbell() { return doorbell; }

    @Override
    public void signal(long address, int data, int deviceId) {
        if (address != doorbell) {
            if (wrongAddress.getAndIncrement() == 0) {
                LOG.log(System.Logger.Level.WARNING, "MSI to 0x{0} dropped: the ITS doorbell is 0x{1}",
                        Long.toHexString(address), Long.toHexString(doorbell));
            }
            return;
        }
        try {
            injector.signalMsi(address, data, deviceId);
            delivered.incrementAndGet();
        } catch (ErrnoException e) {
            long n = failed.incrementAndGet();
            if (Long.bitCount(n) == 1) { // 1st, 2nd, 4th, 8th ... failure: rate-limited
                LOG.log(System.Logger.Level.WARNING, "MSI devid 0x{0} event {1}: {2} ({3} failures so far)",
                        Integer.toHexString(deviceId), data, e.getMessage(), n);
            }
        }
    }

    public long delivered() { return delivered.get(); }

    public long wrongAddress() { return wrongAddress.get(); }

    public long failed() { return failed.get(); }
}
