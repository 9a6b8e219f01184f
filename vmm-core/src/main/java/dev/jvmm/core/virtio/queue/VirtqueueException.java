package dev.jvmm.core.virtio.queue;

/**
 * Thrown for a malformed ring or descriptor chain; the transport then sets DEVICE_NEEDS_RESET or fails the
 * request. The message names what the driver got wrong, with the guest's numbers.
 */
public final class VirtqueueException extends Exception {
    private static final long serialVersionUID = 1L;

    public VirtqueueException(String message) {
        super(message);
    }
}
