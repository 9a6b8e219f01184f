package dev.jvmm.pcie;

import dev.jvmm.pcie.config.PcieDeviceType;
import dev.jvmm.pcie.config.SlotCapabilities;
import java.util.Optional;

/** A Root Port (Device/Port Type 0100b): a downstream port on the root bus of a {@link RootComplex}. */
public final class RootPort extends DownstreamPort {
    private final int deviceNumber;

    /**
     * @param deviceNumber its device number on the root bus (function 0); also its Link Capabilities port number
     * @param slot         present for a port with a (hot-plug) slot
     */
    RootPort(String name, int deviceNumber, Optional<SlotCapabilities> slot) {
        super(name, BridgeFunction.ROOT_PORT_IDENTITY, PcieDeviceType.ROOT_PORT, deviceNumber, slot);
        this.deviceNumber = deviceNumber;
    }

    public int deviceNumber() {
        return deviceNumber;
    }
}
