package dev.jvmm.core.memory;

/** An access outside guest RAM, or a region that cannot hold what was asked of it. */
public final class GuestMemoryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public GuestMemoryException(String message) {
        super(message);
    }
}
