package dev.jvmm.cli;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * jvmm's exit statuses: the one list behind {@code jvmm --help}, {@code jvmm run --help}, the README's table (a
 * test compares them) and the tests.
 */
public enum ExitStatus {
    OK(0, "success; for run: the guest powered off (PSCI SYSTEM_OFF)"),
    FAILURE(1, "runtime failure: no usable KVM, a device could not be set up, a vCPU error; one line on stderr"),
    USAGE(
            2,
            "bad command line, configuration or input (a missing or unbootable kernel, memory or vCPUs beyond what"
                    + " the host can give, ...); one line on stderr"),
    GUEST_RESET(3, "run: the guest reset (PSCI SYSTEM_RESET, e.g. reboot); jvmm does not restart guests yet"),
    GUEST_PANIC(
            4,
            "run: the guest crashed: its kernel reported a panic through pvpanic, or panicked and reset"
                    + " (panic=N) without the orderly restart a reboot makes"),
    STOPPED(5, "run: stopped from outside (SIGINT, SIGTERM), during set-up or while the guest ran");

    private final int code;
    private final String meaning;

    ExitStatus(int code, String meaning) {
        this.code = code;
        this.meaning = meaning;
    }

    /** The process exit status. */
    public int code() {
        return code;
    }

    /** What it means, one line. */
    public String meaning() {
        return meaning;
    }

    /** For picocli's "Exit status:" section: status → meaning, in order. */
    static Map<String, String> helpList() {
        Map<String, String> m = new LinkedHashMap<>();
        for (ExitStatus s : values()) m.put(Integer.toString(s.code), s.meaning);
        return m;
    }
}
