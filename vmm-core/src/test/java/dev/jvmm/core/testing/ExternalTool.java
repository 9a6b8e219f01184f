package dev.jvmm.core.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/** A command-line program the tests use as an oracle (dtc, iasl): found on PATH, run with a time limit. */
public final class ExternalTool {
    private static final long TIMEOUT_SECONDS = 30;

    /** How a run ended: the exit value and everything the program wrote to its standard output. */
    public record Output(int exitValue, String stdout) {}

    private ExternalTool() {}

    /**
     * The program {@code name} on PATH. A missing program fails the test, naming the Debian package to install,
     * unless -Djvmm.test.allowMissingTools=true (then the test is skipped visibly).
     */
    public static Path find(String name, String debianPackage) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator)) {
            Path p = Path.of(dir, name);
            if (Files.isExecutable(p)) return p;
        }
        String msg = "%s not found on PATH: install the Debian package %s (apt-get install %s)"
                .formatted(name, debianPackage, debianPackage);
        if (Boolean.getBoolean("jvmm.test.allowMissingTools")) Assumptions.abort(msg);
        fail(msg);
        return null;
    }

    /** Starts {@code command}, reads its standard output to the end and waits for it; the test fails after 30 s. */
    public static Output run(ProcessBuilder command) throws IOException, InterruptedException {
        Process p = command.start();
        String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail(Path.of(command.command().getFirst()).getFileName() + " timed out");
        }
        return new Output(p.exitValue(), stdout);
    }
}
