package dev.jvmm.core.virtio;

/**
 * The notifications a device sends its driver (virtio 1.2 §2.3), as the transport delivers them. The transport
 * hands one to {@link VirtioDevice#activate}; it is valid until the device is reset and may be called from any
 * thread. Calls never throw and never block on the guest.
 *
 * <p>Implemented by transports only (virtio-pci today). It is not sealed because the unnamed module cannot seal
 * an interface in {@code dev.jvmm.core.virtio} to a class in {@code dev.jvmm.core.virtio.pci}.
 */
public interface VirtioInterrupt {
    /**
     * A used buffer notification for queue {@code queue}: over PCI, sets ISR bit 0 (§4.1.4.5) and raises the
     * queue's MSI-X vector if the driver mapped one. Call it when the queue's {@code needsInterrupt()} says so.
     */
    void queue(int queue);

    /**
     * A configuration change notification: {@code config_generation} changes, then over PCI ISR bit 1 is set and
     * the configuration vector raised. Use it after a change that is a single atomic update of what
     * {@link VirtioDevice#readConfig} returns; for anything larger use {@link #config(Runnable)}.
     */
    void config();

    /**
     * Runs {@code change} (which updates the device's configuration space) so that no driver access to the
     * configuration space overlaps it and {@code config_generation} changes together with it, then sends the
     * configuration change notification. A driver that reads a multi-field configuration between two reads of
     * {@code config_generation} (§2.5.1) therefore never accepts a torn value. {@code change} must not call back
     * into the transport.
     */
    void config(Runnable change);
}
