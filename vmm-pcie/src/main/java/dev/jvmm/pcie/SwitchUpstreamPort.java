package dev.jvmm.pcie;

import dev.jvmm.pcie.config.PciExpressCapability;
import dev.jvmm.pcie.config.PcieDeviceType;
import java.util.Optional;

/**
 * The Upstream Port of a {@link Switch} (Device/Port Type 0101b): device 0, function 0 on the link below the
 * parent port. Its secondary bus is the switch's internal bus, where the downstream ports live; its range
 * covers every bus below the switch. It raises no interrupts, so it has no MSI capability.
 */
public final class SwitchUpstreamPort extends BridgePort {
    SwitchUpstreamPort() {
        super(new BridgeFunction(
                BridgeFunction.SWITCH_UPSTREAM_IDENTITY,
                new PciExpressCapability(PcieDeviceType.UPSTREAM_SWITCH_PORT, 0, Optional.empty()),
                false));
    }
}
