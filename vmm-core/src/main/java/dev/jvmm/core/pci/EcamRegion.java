package dev.jvmm.core.pci;

import dev.jvmm.core.bus.MmioDevice;
import dev.jvmm.core.bus.RateLimitedLogger;
import dev.jvmm.pcie.RootComplex;
import dev.jvmm.pcie.util.Sizes;
import java.lang.System.Logger.Level;
import java.util.Objects;

/**
 * A root complex's ECAM window as a device on the MMIO bus (PCIe Base 6.0 §7.2.2): offsets go to
 * {@link RootComplex#read}/{@link RootComplex#write}, which decode bus, device, function and register.
 *
 * <p>The PCIe model promises never to throw for guest input; this adapter does not rely on it. Anything a function
 * throws (a bug in a device model) is caught here, logged rate-limited, and the access completes as an Unsupported
 * Request would: reads all ones, writes dropped. A guest access never ends a vCPU.
 */
public final class EcamRegion implements MmioDevice {
    private static final System.Logger LOG = System.getLogger(EcamRegion.class.getName());

    private final RootComplex rootComplex;
    private final RateLimitedLogger faults = new RateLimitedLogger(LOG);

    public EcamRegion(RootComplex rootComplex) {
        this.rootComplex = Objects.requireNonNull(rootComplex);
    }

    @Override
    public long read(long offset, int size) {
        try {
            return rootComplex.read(offset, size);
        } catch (RuntimeException e) {
            faults.log(
                    Level.ERROR,
                    "ECAM of root complex '%s': read of %d bytes at offset 0x%x threw %s",
                    rootComplex.name(),
                    size,
                    offset,
                    e);
            return Sizes.sizeMask(size);
        }
    }

    @Override
    public void write(long offset, int size, long value) {
        try {
            rootComplex.write(offset, size, value);
        } catch (RuntimeException e) {
            faults.log(
                    Level.ERROR,
                    "ECAM of root complex '%s': write of %d bytes at offset 0x%x threw %s",
                    rootComplex.name(),
                    size,
                    offset,
                    e);
        }
    }

    /** Exceptions caught so far (each one is a device-model bug). */
    public long faults() {
        return faults.count();
    }
}
