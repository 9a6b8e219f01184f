package dev.jvmm.core.virtio;

import dev.jvmm.core.virtio.queue.SplitQueue;
import dev.jvmm.core.virtio.queue.VirtqueueException;
import java.util.List;

/**
 * A virtio device type as a transport drives it (virtio 1.2 §2, §5): what the device offers (type, features,
 * queues, configuration space) and what it does once the driver has set it up.
 *
 * <p>Life cycle, all driven by the transport: the driver negotiates features and sets up queues through the
 * transport; when it sets DRIVER_OK the transport calls {@link #activate} once; then {@link #queueNotified} for
 * every kick; then {@link #reset} when the driver resets the device (status 0) or the function is reset, after
 * which {@link #activate} may come again.
 *
 * <p>Threading: the transport calls {@code queueNotified(q)} for one queue at a time ({@code q}'s lock is held),
 * possibly on different threads for different queues, and never concurrently with {@link #activate} or
 * {@link #reset}. A device touches a {@link SplitQueue} only from inside {@code queueNotified} for that queue; a
 * device that completes requests on its own threads must serialise with it itself and must stop those threads
 * in {@link #reset}. Configuration reads and writes come from vCPU threads at any time.
 */
public interface VirtioDevice {
    /** The device type: its id and the PCI class it shows. */
    VirtioDeviceType type();

    /**
     * The device-type feature bits the device offers (bits 0-23 and 50-63, §2.2). The transport adds the
     * reserved ones it implements (VERSION_1, RING_INDIRECT_DESC, RING_EVENT_IDX); a device must not set bits
     * 24-49.
     */
    long features();

    /** Number of virtqueues, at least 1. */
    int numQueues();

    /** The largest size queue {@code queue} supports: a power of two, 1 to 32768 (§2.7). */
    int queueMaxSize(int queue);

    /** Bytes of device-specific configuration space (§2.5); 0 for none. */
    default int configSize() {
        return 0;
    }

    /**
     * A driver read of {@code size} (1, 2, 4 or 8) bytes at {@code offset}, little-endian in the low bytes. The
     * transport has checked that the access is naturally aligned and lies inside {@link #configSize}.
     */
    default long readConfig(int offset, int size) {
        return 0;
    }

    /** A driver write, checked like {@link #readConfig}; read-only fields ignore it. */
    default void writeConfig(int offset, int size, long value) {}

    /**
     * The driver set DRIVER_OK (§3.1.1 step 8): start operating.
     *
     * @param features  the negotiated features (device and transport bits)
     * @param queues    every queue, indexed by queue number; only those with {@code isEnabled()} were set up by
     *                  the driver, and the transport notifies only those
     * @param interrupt how to notify the driver, valid until {@link #reset}
     */
    void activate(long features, List<SplitQueue> queues, VirtioInterrupt interrupt);

    /**
     * The driver made buffers available on queue {@code queue} (an enabled queue, after {@link #activate}):
     * process them. A {@link VirtqueueException} means the driver broke the ring; the transport then sets
     * DEVICE_NEEDS_RESET, notifies the driver and stops notifying the device until reset.
     */
    void queueNotified(int queue) throws VirtqueueException;

    /** The device is reset (§2.4): forget the queues and the interrupt handle, return to the initial state. */
    void reset();
}
