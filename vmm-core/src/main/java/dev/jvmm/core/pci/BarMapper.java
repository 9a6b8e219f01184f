package dev.jvmm.core.pci;

import dev.jvmm.core.bus.Bus;
import dev.jvmm.core.bus.AddressRange;
import dev.jvmm.core.bus.RateLimitedLogger;
import dev.jvmm.pcie.PciFunction;
import dev.jvmm.pcie.config.BarDefinition;
import dev.jvmm.pcie.config.BarListener;
import dev.jvmm.pcie.spec.PciSpec;

import java.lang.System.Logger.Level;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Keeps the MMIO bus in step with where the guest puts one function's BARs. The function reports a BAR's decoded
 * base whenever the BAR or the Command register's decode enables change (PCIe Base 6.0 §7.5.1.1.3, §7.5.1.2.1);
 * the old region leaves the bus and, if the BAR decodes, a new one is registered above the window's all-ones
 * background.
 *
 * <p>A host bridge forwards only its own windows, so a BAR is mapped only when it lies entirely inside one of its
 * host bridge's windows: memory BARs in the 32- or 64-bit window (CPU address = PCI address), I/O BARs in the I/O
 * window (translated to the CPU address of the memory-mapped I/O space). A BAR outside them, or overlapping a BAR
 * already mapped, is left unmapped and logged rate-limited: what the guest sees there is what it would see without
 * the BAR. Neither case throws into the vCPU that wrote the register. A refused BAR is not retried on its own: it is
 * mapped the next time the guest writes it or its decode enable (Linux disables decoding while it moves BARs).
 *
 * <p>Runs on the vCPU thread that wrote configuration space, with the function's configuration space locked; it
 * takes its own lock and then the bus's update lock, never the other way round.
 */
public final class BarMapper implements BarListener {
    private static final System.Logger LOG = System.getLogger(BarMapper.class.getName());

    private final Bus bus;
    private final String name;
    private final PciFunction function;
    private final PcieWindows windows;
    private final RateLimitedLogger refused = new RateLimitedLogger(LOG);
    private final RateLimitedLogger faults = new RateLimitedLogger(LOG);
    private final Bus.Region[] regions = new Bus.Region[PciSpec.BAR_COUNT_TYPE0];
    private volatile MappingObserver observer = (bar, where) -> { };

    /**
     * Hears where a BAR is mapped on the bus after each change (e.g. to move a device's ioeventfds with its BAR);
     * runs like {@link #barChanged}, on the vCPU thread with the function's configuration space and this mapper
     * locked, so it sees the changes of one function in order.
     */
    @FunctionalInterface
    public interface MappingObserver {
        /** @param where the address range BAR {@code bar} now occupies, empty when it is not mapped */
        void mapped(int bar, Optional<AddressRange> where);
    }

    /**
     * @param name     for the bus regions and logs, e.g. {@code rc0/ep0.1}
     * @param windows  the windows of the function's host bridge
     */
    public BarMapper(Bus bus, String name, PciFunction function, PcieWindows windows) {
        this.bus = Objects.requireNonNull(bus);
        this.name = Objects.requireNonNull(name);
        this.function = Objects.requireNonNull(function);
        this.windows = Objects.requireNonNull(windows);
    }

    /** Sets the observer and tells it where every BAR is now. */
    public synchronized void observe(MappingObserver observer) {
        this.observer = Objects.requireNonNull(observer);
        for (int bar = 0; bar < regions.length; bar++) {
            observer.mapped(bar, regions[bar] == null ? Optional.empty() : Optional.of(regions[bar].range()));
        }
    }

    /** Installs this mapper as the function's BAR listener (which reports the current state at once). */
    public BarMapper listen() {
        function.setBarListener(this);
        return this;
    }

    @Override
    public synchronized void barChanged(int bar, BarDefinition definition, OptionalLong oldAddress, OptionalLong newAddress) {
        if (bar < 0 || bar >= regions.length) return;
        try {
            place(bar, definition, newAddress);
        } finally {
            observer.mapped(bar, regions[bar] == null ? Optional.empty() : Optional.of(regions[bar].range()));
        }
    }

    private void place(int bar, BarDefinition definition, OptionalLong newAddress) {
        if (regions[bar] != null) {
            bus.remove(regions[bar]);
            regions[bar] = null;
        }
        if (newAddress.isEmpty()) return;
        long address = newAddress.getAsLong();
        Optional<AddressRange> cpu = cpuRange(definition, address);
        if (cpu.isEmpty()) {
            refused.log(Level.INFO, "%s BAR%d: %s BAR at PCI address 0x%x (+0x%x) lies outside the host bridge's windows;"
                    + " not mapped", name, bar, definition.kind(), address, definition.size());
            return;
        }
        String region = "pcie %s BAR%d".formatted(name, bar);
        try {
            regions[bar] = bus.register(region, cpu.get(), Bus.PRIORITY_DEVICE,
                    new BarRegion(region, function, bar, faults));
        } catch (IllegalArgumentException e) {
            refused.log(Level.WARNING, "%s BAR%d: not mapped: %s", name, bar, e.getMessage());
        }
    }

    /** Where BAR {@code bar} is mapped on the bus now, if it is. */
    public synchronized Optional<AddressRange> mapped(int bar) {
        if (bar < 0 || bar >= regions.length || regions[bar] == null) return Optional.empty();
        return Optional.of(regions[bar].range());
    }

    /** BAR placements that were refused (outside the windows, overlapping) since the machine started. */
    public long refusedCount() { return refused.count(); }

    private Optional<AddressRange> cpuRange(BarDefinition d, long address) {
        if (d.kind() == BarDefinition.Kind.IO) return windows.ioToCpu(address, d.size());
        return windows.holdsMemory(address, d.size()) ? Optional.of(new AddressRange(address, d.size())) : Optional.empty();
    }
}
