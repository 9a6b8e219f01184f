package dev.jvmm.core.machine;

/** A machine could not be built or started. The message is one line for the user, naming what failed. */
public final class MachineException extends Exception {
    private static final long serialVersionUID = 1L;
    private final boolean badInput;

    public MachineException(String message) {
        this(message, null, false);
    }

    public MachineException(String message, Throwable cause) {
        this(message, cause, false);
    }

    public MachineException(String message, Throwable cause, boolean badInput) {
        super(message, cause);
        this.badInput = badInput;
    }

    /** True when the user's input is at fault (a kernel or initrd that cannot be booted), not the host. */
    public boolean badInput() {
        return badInput;
    }
}
