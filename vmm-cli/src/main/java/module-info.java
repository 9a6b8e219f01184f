/** The {@code jvmm} command: the process, its arguments, environment and exit status. */
module dev.jvmm.cli {
    requires dev.jvmm.core;
    requires info.picocli;
    requires java.management; // run --stats: the JVM's uptime
    // System.Logger's backend, as it was on the class path: java.util.logging's format and configuration
    // (without it in the module graph the JDK falls back to a bare console logger).
    requires java.logging;

    // Picocli reads and sets the annotated fields and methods of the commands reflectively.
    opens dev.jvmm.cli to info.picocli;
}
