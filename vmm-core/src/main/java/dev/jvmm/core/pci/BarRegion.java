package dev.jvmm.core.pci;

import dev.jvmm.core.bus.MmioDevice;
import dev.jvmm.core.bus.RateLimitedLogger;
import dev.jvmm.pcie.PciFunction;
import dev.jvmm.pcie.util.Sizes;
import java.lang.System.Logger.Level;

/**
 * One decoded BAR of a PCI function as a device on the MMIO bus: offsets are relative to the BAR's base and go to
 * {@link PciFunction#barRead}/{@link PciFunction#barWrite} (which serve the MSI-X table and PBA before the device's
 * own registers). A function that throws is logged rate-limited; the read completes as all ones.
 */
final class BarRegion implements MmioDevice {
    private final String name;
    private final PciFunction function;
    private final int bar;
    private final RateLimitedLogger faults;

    BarRegion(String name, PciFunction function, int bar, RateLimitedLogger faults) {
        this.name = name;
        this.function = function;
        this.bar = bar;
        this.faults = faults;
    }

    @Override
    public long read(long offset, int size) {
        try {
            return function.barRead(bar, offset, size);
        } catch (RuntimeException e) {
            faults.log(Level.ERROR, "%s: read of %d bytes at offset 0x%x threw %s", name, size, offset, e);
            return Sizes.sizeMask(size);
        }
    }

    @Override
    public void write(long offset, int size, long value) {
        try {
            function.barWrite(bar, offset, size, value);
        } catch (RuntimeException e) {
            faults.log(Level.ERROR, "%s: write of %d bytes at offset 0x%x threw %s", name, size, offset, e);
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
