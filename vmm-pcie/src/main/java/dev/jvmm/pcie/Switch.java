package dev.jvmm.pcie;

import dev.jvmm.pcie.config.SlotCapabilities;
import dev.jvmm.pcie.spec.PciSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.IntSupplier;

/**
 * A PCI Express Switch: one {@link SwitchUpstreamPort} on the link above and N {@link SwitchDownstreamPort}s
 * at devices 0..N-1 of its internal bus (PCIe Base 6.0 §1.3.3, Figure 7-2).
 *
 * <p>A Type 1 request that reaches the switch is decoded by the upstream port: for its secondary bus it
 * becomes Type 0 to the downstream port with that device number; for a bus in its range it goes to the
 * first downstream port whose range holds the bus; anything else is an Unsupported Request (§7.3.3).
 * Setting Secondary Bus Reset on the upstream port resets every downstream port and what is below them.
 */
public final class Switch implements LinkDevice {
    private final String name;
    private final SwitchUpstreamPort upstream = new SwitchUpstreamPort();
    private final List<SwitchDownstreamPort> downstream;

    /**
     * @param slotNumbers gives the physical slot number of each hot-plug downstream port in turn; null for none
     */
    Switch(String name, int ports, boolean hotplug, IntSupplier slotNumbers) {
        this.name = Objects.requireNonNull(name);
        if (ports < 1 || ports > PciSpec.MAX_DEVICES_PER_BUS) {
            throw new IllegalArgumentException("switch '" + name + "': " + ports + " downstream ports, must be 1-32");
        }
        List<SwitchDownstreamPort> list = new ArrayList<>(ports);
        for (int i = 0; i < ports; i++) {
            Optional<SlotCapabilities> slot =
                    hotplug ? Optional.of(SlotCapabilities.surpriseHotPlug(slotNumbers.getAsInt())) : Optional.empty();
            list.add(new SwitchDownstreamPort(downstreamPortName(name, i), i, slot));
        }
        this.downstream = List.copyOf(list);
        upstream.function.setOnSecondaryBusReset(this::resetDownstream);
    }

    /** The name of downstream port {@code index} of switch {@code switchName}: {@code sw0.dp3}. */
    public static String downstreamPortName(String switchName, int index) {
        return switchName + ".dp" + index;
    }

    @Override
    public String name() {
        return name;
    }

    public SwitchUpstreamPort upstreamPort() {
        return upstream;
    }

    public List<SwitchDownstreamPort> downstreamPorts() {
        return downstream;
    }

    PciFunction type0(int function) {
        return function == 0 ? upstream.function : null;
    }

    PciFunction forward(int bus, int device, int function) {
        BusNumberRange range = upstream.busNumberRange();
        if (!range.contains(bus)) {
            return null;
        }
        if (bus == range.secondary()) {
            return device < downstream.size() && function == 0 ? downstream.get(device).function : null;
        }
        for (SwitchDownstreamPort port : downstream) {
            if (port.claims(bus)) {
                return port.forward(bus, device, function);
            }
        }
        return null;
    }

    void bind(IntSupplier parentBus, InterruptDomain domain) {
        upstream.function.setDomain(domain);
        upstream.function.msiTarget().connect(parentBus, 0, 0, domain);
        BusNumberRange internal = upstream.busNumberRange();
        for (SwitchDownstreamPort port : downstream) {
            port.bind(internal::secondaryOrUnassigned, port.index(), domain);
        }
    }

    void unbind() {
        upstream.function.setDomain(null);
        upstream.function.msiTarget().disconnect();
        for (SwitchDownstreamPort port : downstream) {
            port.unbind();
        }
    }

    @Override
    public void reset() {
        upstream.function.reset();
        resetDownstream();
    }

    private void resetDownstream() {
        for (SwitchDownstreamPort port : downstream) {
            port.resetHierarchy();
        }
    }
}
