package dev.jvmm.core.boot;

import java.io.Serial;

/**
 * A kernel, initrd, devicetree or command line the machine cannot boot. The message is one line: what (usually the
 * file) and the problem, e.g. {@code "/boot/Image: not an arm64 Image (no "ARM\x64" magic at offset 0x38)"}.
 */
public final class BootException extends Exception {
    @Serial
    private static final long serialVersionUID = 1L;

    private final String subject;
    private final String problem;

    public BootException(String subject, String problem) {
        super(subject + ": " + problem);
        this.subject = subject;
        this.problem = problem;
    }

    public BootException(String subject, String problem, Throwable cause) {
        super(subject + ": " + problem, cause);
        this.subject = subject;
        this.problem = problem;
    }

    /** What could not be used: a file name, or e.g. "kernel command line". */
    public String subject() {
        return subject;
    }

    /** The problem, without the subject. */
    public String problem() {
        return problem;
    }
}
