package dev.jvmm.pcie;

import dev.jvmm.pcie.config.PciExpressCapability;
import dev.jvmm.pcie.msi.RequesterId;
import java.util.Objects;
import java.util.Optional;

/** What every port of the hierarchy is made of: a Type 1 {@link BridgeFunction} and what it tells about itself. */
abstract sealed class BridgePort permits DownstreamPort, SwitchUpstreamPort {
    final BridgeFunction function;

    BridgePort(BridgeFunction function) {
        this.function = Objects.requireNonNull(function);
    }

    /** The port's own function, for routing tests and for the machine. */
    public PciFunction function() {
        return function;
    }

    public PciExpressCapability pcieCapability() {
        return function.pcie();
    }

    /** The bus numbers the guest gave this port. */
    public BusNumberRange busNumberRange() {
        return function.busNumberRange();
    }

    /** The port's own requester id now (for a downstream port's hot-plug and PME interrupts). */
    public Optional<RequesterId> requesterId() {
        return function.msiTarget().requesterId();
    }
}
