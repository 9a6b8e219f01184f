package dev.jvmm.pcie;

import dev.jvmm.pcie.config.PcieDeviceType;
import dev.jvmm.pcie.config.SlotCapabilities;
import java.util.Optional;

/**
 * A Switch Downstream Port (Device/Port Type 0110b): a downstream port at device {@code index}, function 0,
 * on the internal bus of its {@link Switch} (the upstream port's secondary bus).
 */
public final class SwitchDownstreamPort extends DownstreamPort {
    private final int index;

    SwitchDownstreamPort(String name, int index, Optional<SlotCapabilities> slot) {
        super(name, BridgeFunction.SWITCH_DOWNSTREAM_IDENTITY, PcieDeviceType.DOWNSTREAM_SWITCH_PORT, index, slot);
        this.index = index;
    }

    /** Its device number on the switch's internal bus. */
    public int index() {
        return index;
    }
}
