package dev.jvmm.cli;

/**
 * The process entry point. The only place jvmm exits the JVM: every command returns a status, and
 * {@link JvmmCommand} turns expected failures into one line on stderr.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        // Link the KVM layer while picocli parses and validates: both take seconds on an emulated CPU.
        if (args.length > 0 && (args[0].equals("run") || args[0].equals("host-info"))) {
            dev.jvmm.core.machine.Machine.preloadInBackground();
        }
        System.exit(run(args));
    }

    /** Runs a command line and returns the exit status (tests call this instead of {@link #main}). */
    public static int run(String... args) {
        return JvmmCommand.commandLine().execute(args);
    }
}
