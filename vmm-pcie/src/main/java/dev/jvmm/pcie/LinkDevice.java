package dev.jvmm.pcie;

/**
 * What can sit on the link below a Root Port or Switch Downstream Port: an {@link Endpoint} (one to eight
 * functions) or a {@link Switch}. Configuration requests reach it as Type 0 when they target the port's
 * secondary bus and as Type 1 when they target a bus further down (PCIe Base 6.0 §7.3.3).
 */
public sealed interface LinkDevice permits Endpoint, Switch {
    String name();

    /** Hot reset of the device and everything below it (PCIe Base 6.0 §6.6.1). */
    void reset();
}
