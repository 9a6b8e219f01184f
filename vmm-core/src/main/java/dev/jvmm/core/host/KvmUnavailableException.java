package dev.jvmm.core.host;

/** The host's KVM cannot be used (absent, no permission, wrong API). The message is one line for the user. */
public final class KvmUnavailableException extends Exception {
    private static final long serialVersionUID = 1L;

    public KvmUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
