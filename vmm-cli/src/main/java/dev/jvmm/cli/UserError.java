package dev.jvmm.cli;

/** A failure the user can act on: printed as one line, exit status as given. */
final class UserError extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int status;

    UserError(String message, int status, Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    UserError(String message, int status) {
        this(message, status, null);
    }

    int status() {
        return status;
    }
}
