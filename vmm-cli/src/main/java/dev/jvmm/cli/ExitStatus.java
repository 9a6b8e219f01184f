package dev.jvmm.cli;

/** jvmm's exit statuses, documented in the README and in {@code jvmm --help}. */
public final class ExitStatus {
    /** Success; for {@code run}: the guest powered off (PSCI SYSTEM_OFF). */
    public static final int OK = 0;
    /** A runtime failure: no KVM, a device could not be set up, an internal error. */
    public static final int FAILURE = 1;
    /** Bad command line or configuration (picocli's usage status). */
    public static final int USAGE = 2;

    private ExitStatus() { }
}
