package dev.jvmm.pcie;

import dev.jvmm.pcie.config.PciExpressCapability;
import dev.jvmm.pcie.config.PcieDeviceType;
import dev.jvmm.pcie.config.SlotCapabilities;
import dev.jvmm.pcie.config.Type1Header;
import java.util.Objects;
import java.util.Optional;
import java.util.function.IntSupplier;

/**
 * What a Root Port and a Switch Downstream Port share: a Type 1 function with the PCI Express capability, a
 * one-vector MSI for port interrupts, an optional slot, and the device on its link (or nothing).
 *
 * <p>Routing of a Type 1 request that reached the port (PCIe Base 6.0 §7.3.3, §7.3.1):
 * <ul>
 *   <li>bus == secondary: becomes Type 0 for the linked device; only Device 0 exists on a link (no ARI), so
 *       any other device number is an Unsupported Request;</li>
 *   <li>secondary &lt; bus &lt;= subordinate: forwarded unchanged to the linked device;</li>
 *   <li>otherwise, an empty link, or an unassigned range (secondary 0): nothing, which the root complex
 *       turns into all ones.</li>
 * </ul>
 *
 * <p>The link device may change at run time (hot-plug), so it is a volatile field; configuration routing
 * itself is serialised by the root complex.
 */
public abstract sealed class DownstreamPort extends BridgePort permits RootPort, SwitchDownstreamPort {
    private final String name;
    private volatile LinkDevice linked;
    private volatile InterruptDomain domain;

    DownstreamPort(
            String name, Type1Header identity, PcieDeviceType type, int portNumber, Optional<SlotCapabilities> slot) {
        super(new BridgeFunction(identity, new PciExpressCapability(type, portNumber, slot), true));
        this.name = Objects.requireNonNull(name);
        function.setOnSecondaryBusReset(this::resetBelow);
        function.setAfterReset(this::applyLinkState);
        applyLinkState();
    }

    public String name() {
        return name;
    }

    public boolean isHotPlugCapable() {
        return function.pcie().slot().map(SlotCapabilities::hotPlugCapable).orElse(false);
    }

    public Optional<LinkDevice> linkedDevice() {
        return Optional.ofNullable(linked);
    }

    /** Raises the port's interrupt (hot-plug, PME); false if the guest has not enabled it. */
    public boolean signal() {
        return function.signal(0);
    }

    /**
     * Attaches {@code device} to the link, as if it had been there at power-on: link up and, with a slot,
     * presence detected, but no hot-plug events (those belong to the hot-plug controller).
     *
     * @throws IllegalStateException if a device is already attached
     */
    public synchronized void connect(LinkDevice device) {
        Objects.requireNonNull(device);
        if (linked != null) {
            throw new IllegalStateException("port '" + name + "' already has '" + linked.name() + "' attached");
        }
        linked = device;
        InterruptDomain d = domain;
        if (d != null) {
            bindDevice(device, busNumberRange()::secondaryOrUnassigned, 0, d);
        }
        applyLinkState();
    }

    /** Detaches and returns the linked device, if any; its later interrupts are dropped. */
    public synchronized Optional<LinkDevice> disconnect() {
        LinkDevice device = linked;
        if (device != null) {
            linked = null;
            unbindDevice(device);
            applyLinkState();
        }
        return Optional.ofNullable(device);
    }

    /** Places the port at {@code deviceNumber} on the bus {@code bus} reports, under {@code domain}. */
    synchronized void bind(IntSupplier bus, int deviceNumber, InterruptDomain domain) {
        this.domain = domain;
        function.setDomain(domain);
        function.msiTarget().connect(bus, deviceNumber, 0, domain);
        LinkDevice device = linked;
        if (device != null) {
            bindDevice(device, busNumberRange()::secondaryOrUnassigned, 0, domain);
        }
    }

    synchronized void unbind() {
        domain = null;
        function.setDomain(null);
        function.msiTarget().disconnect();
        LinkDevice device = linked;
        if (device != null) {
            unbindDevice(device);
        }
    }

    /** Whether a Type 1 request for {@code bus} is claimed by this port. */
    boolean claims(int bus) {
        return busNumberRange().contains(bus);
    }

    /** Routes a Type 1 request that this port claimed; null when it ends here as an Unsupported Request. */
    PciFunction forward(int bus, int device, int fn) {
        BusNumberRange range = busNumberRange();
        LinkDevice dev = linked;
        if (dev == null || !range.contains(bus)) {
            return null;
        }
        if (bus == range.secondary()) {
            return device == 0 ? type0(dev, fn) : null;
        }
        return type1(dev, bus, device, fn);
    }

    /** Conventional reset of the port and everything below it. */
    void resetHierarchy() {
        function.reset();
        resetBelow();
    }

    private void resetBelow() {
        LinkDevice dev = linked;
        if (dev != null) {
            dev.reset();
        }
    }

    /** Link Status DLLLA and Slot Status PDS follow whether a device is attached. */
    private void applyLinkState() {
        boolean present = linked != null;
        function.pcie().setLinkActive(present);
        function.pcie().setPresenceDetected(present);
    }

    private static PciFunction type0(LinkDevice device, int function) {
        return switch (device) {
            case Endpoint e -> e.type0(function);
            case Switch s -> s.type0(function);
        };
    }

    private static PciFunction type1(LinkDevice device, int bus, int dev, int function) {
        return switch (device) {
            case Endpoint e -> null; // an endpoint answers Type 1 with Unsupported Request (§7.3.3)
            case Switch s -> s.forward(bus, dev, function);
        };
    }

    private static void bindDevice(LinkDevice device, IntSupplier bus, int deviceNumber, InterruptDomain domain) {
        switch (device) {
            case Endpoint e -> e.bind(bus, deviceNumber, domain);
            case Switch s -> s.bind(bus, domain);
        }
    }

    private static void unbindDevice(LinkDevice device) {
        switch (device) {
            case Endpoint e -> e.unbind();
            case Switch s -> s.unbind();
        }
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + " '" + name + "' " + busNumberRange();
    }
}
