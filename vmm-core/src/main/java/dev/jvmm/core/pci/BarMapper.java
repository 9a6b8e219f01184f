package dev.jvmm.core.pci;

import dev.jvmm.core.bus.AddressRange;
import dev.jvmm.core.bus.Bus;
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
 * <p>A host bridge forwards only its own windows, so a BAR is mapped only when it lies entirely inside one of them
 * ({@link BarSpace#cpuRange}). A BAR outside them is left unmapped and logged rate-limited until the guest moves it:
 * what the guest sees there is what it would see without the BAR. A BAR over a range another BAR already holds is
 * refused too, and waits in the host bridge's {@link BarSpace}: it is mapped, and its observer told, as soon as
 * the range frees (the other BAR moves or stops decoding), whichever function's change frees it. Neither case
 * throws into the vCPU that wrote the register.
 *
 * <p>Runs on the vCPU thread that wrote configuration space, with the function's configuration space locked; all
 * its state is guarded by the shared {@link BarSpace}'s lock, taken after the configuration space lock and before
 * the bus's update lock, never the other way round (see {@link BarSpace}).
 */
public final class BarMapper implements BarListener {
    private static final System.Logger LOG = System.getLogger(BarMapper.class.getName());

    private final Bus bus;
    private final String name;
    private final PciFunction function;
    private final BarSpace space;
    private final RateLimitedLogger refused = new RateLimitedLogger(LOG);
    private final RateLimitedLogger faults = new RateLimitedLogger(LOG);
    private final Bus.Region[] regions = new Bus.Region[PciSpec.BAR_COUNT_TYPE0]; // guarded by space
    private MappingObserver observer = (bar, where) -> {}; // guarded by space

    /**
     * Hears where a BAR is mapped on the bus after each change (e.g. to move a device's ioeventfds with its BAR),
     * including a waiting BAR mapped because another function's BAR freed its range. Runs on the vCPU thread that
     * made the change, under the {@link BarSpace}'s lock, so it sees the changes of one function in order; it must
     * not take a configuration-space lock. What it throws is logged, never passed to the vCPU.
     */
    @FunctionalInterface
    public interface MappingObserver {
        /** @param where the address range BAR {@code bar} now occupies, empty when it is not mapped */
        void mapped(int bar, Optional<AddressRange> where);
    }

    /**
     * @param name   for the bus regions and logs, e.g. {@code rc0/ep0.1}
     * @param space  the BAR space of the function's host bridge, shared by all its functions' mappers
     */
    public BarMapper(Bus bus, String name, PciFunction function, BarSpace space) {
        this.bus = Objects.requireNonNull(bus);
        this.name = Objects.requireNonNull(name);
        this.function = Objects.requireNonNull(function);
        this.space = Objects.requireNonNull(space);
    }

    /** Sets the observer and tells it where every BAR is now. */
    public void observe(MappingObserver observer) {
        Objects.requireNonNull(observer);
        synchronized (space) {
            this.observer = observer;
            for (int bar = 0; bar < regions.length; bar++) tell(bar);
        }
    }

    /** Installs this mapper as the function's BAR listener (which reports the current state at once). */
    public BarMapper listen() {
        function.setBarListener(this);
        return this;
    }

    @Override
    public void barChanged(int bar, BarDefinition definition, OptionalLong oldAddress, OptionalLong newAddress) {
        if (bar < 0 || bar >= regions.length || definition == null) return;
        synchronized (space) {
            try {
                space.cancel(this, bar);
                if (regions[bar] != null) {
                    bus.remove(regions[bar]);
                    regions[bar] = null;
                    if (space.waitingCount() > 0) {
                        // The observer lets go of the old range first: a waiting BAR may take it over, and KVM
                        // refuses a second ioeventfd at the same address (EEXIST). The waiting BARs asked for their
                        // ranges before this BAR asked for its new one, so they are placed first.
                        tell(bar);
                        space.rangeFreed();
                    }
                }
                if (newAddress.isPresent()) place(bar, definition, newAddress.getAsLong());
            } finally {
                tell(bar);
            }
        }
    }

    private void place(int bar, BarDefinition definition, long address) {
        Optional<AddressRange> cpu = space.cpuRange(definition, address);
        if (cpu.isEmpty()) {
            refused.log(
                    Level.INFO,
                    "%s BAR%d: %s BAR at PCI address 0x%x (+0x%x) lies outside the host bridge's windows;"
                            + " not mapped",
                    name,
                    bar,
                    definition.kind(),
                    address,
                    definition.size());
            return;
        }
        try {
            regions[bar] = register(bar, cpu.get());
        } catch (IllegalArgumentException overlap) {
            refused.log(
                    Level.WARNING,
                    "%s BAR%d: not mapped while the range is taken: %s",
                    name,
                    bar,
                    overlap.getMessage());
            space.await(this, bar, cpu.get());
        }
    }

    /**
     * Maps BAR {@code bar}, which waited for {@code range}, if the range is free now; tells the observer. Called by
     * the {@link BarSpace} under its lock, on whichever vCPU thread freed a range.
     */
    boolean mapWaiting(int bar, AddressRange range) {
        if (regions[bar] != null) return true; // a stale wait (every change of the BAR cancels it): drop it
        try {
            regions[bar] = register(bar, range);
        } catch (IllegalArgumentException stillTaken) {
            return false;
        }
        tell(bar);
        return true;
    }

    private Bus.Region register(int bar, AddressRange range) {
        String region = "pcie %s BAR%d".formatted(name, bar);
        return bus.register(region, range, Bus.PRIORITY_DEVICE, new BarRegion(region, function, bar, faults));
    }

    private void tell(int bar) {
        try {
            observer.mapped(bar, regions[bar] == null ? Optional.empty() : Optional.of(regions[bar].range()));
        } catch (RuntimeException e) {
            faults.log(Level.ERROR, "%s BAR%d: mapping observer threw %s", name, bar, e);
        }
    }

    /** Where BAR {@code bar} is mapped on the bus now, if it is. */
    public Optional<AddressRange> mapped(int bar) {
        if (bar < 0 || bar >= regions.length) return Optional.empty();
        synchronized (space) {
            return regions[bar] == null ? Optional.empty() : Optional.of(regions[bar].range());
        }
    }

    /** BAR placements that were refused (outside the windows, over a taken range) since the machine started. */
    public long refusedCount() {
        return refused.count();
    }
}
