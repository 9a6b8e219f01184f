package dev.jvmm.pcie.config;

/** The Device/Port Type field of the PCI Express Capabilities register (PCIe Base 6.0 §7.5.3.2, bits 7:4). */
public enum PcieDeviceType {
    /** PCI Express Endpoint, 0000b. */
    ENDPOINT(0x0),
    /** Root Port of a Root Complex, 0100b. */
    ROOT_PORT(0x4),
    /** Upstream Port of a Switch, 0101b. */
    UPSTREAM_SWITCH_PORT(0x5),
    /** Downstream Port of a Switch, 0110b. */
    DOWNSTREAM_SWITCH_PORT(0x6),
    /** Root Complex Integrated Endpoint, 1001b: no link. */
    ROOT_COMPLEX_INTEGRATED_ENDPOINT(0x9);

    private final int code;

    PcieDeviceType(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** Root Ports and Switch Downstream Ports: the ones that may have a slot. */
    public boolean isDownstreamPort() {
        return this == ROOT_PORT || this == DOWNSTREAM_SWITCH_PORT;
    }

    /** Every type except an RCiEP sits on a link and implements the link registers. */
    public boolean hasLink() {
        return this != ROOT_COMPLEX_INTEGRATED_ENDPOINT;
    }
}
