package dev.jvmm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a command inside the project's emulated arm64 KVM host ({@code tools/arm64-host/run}) with jvmm's
 * distribution copied in at /jvmm, and returns what it printed. The same launcher users run on x86_64.
 *
 * <p>Skipped only when asked ({@code -Djvmm.test.arm64=skip}); a missing image or QEMU is a failure, because CI
 * must prove the aarch64 path.
 */
final class EmulatedAarch64Host {
    record Result(int status, String output) {
        /** The output of the command {@link #marked} ran as {@code name}, and its status. */
        Section section(String name) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                            "(?s)@@BEGIN " + name + "\\R(.*?)@@END " + name + " rc=(\\d+)")
                    .matcher(output);
            assertTrue(m.find(), "no run '" + name + "' in the output:\n" + output);
            return new Section(m.group(1), Integer.parseInt(m.group(2)));
        }
    }

    /** What one marked command printed (console of the guest, jvmm's messages) and its exit status. */
    record Section(String console, int status) {
        /** The lines holding {@code prefix + " "}, from after it (indentation after it kept). */
        List<String> lines(String prefix) {
            List<String> out = new ArrayList<>();
            for (String l : console.split("\\R")) {
                int i = l.indexOf(prefix + " ");
                if (i >= 0) out.add(l.substring(i + prefix.length() + 1).stripTrailing());
            }
            return out;
        }
    }

    /** A shell line for the emulated host that runs {@code command} between markers {@link Result#section} finds. */
    static String marked(String name, String command) {
        return "echo '@@BEGIN " + name + "'; " + command + "; echo \"@@END " + name + " rc=$?\"";
    }

    /** {@code key=value} words of one line. */
    static java.util.Map<String, String> fields(String line) {
        java.util.Map<String, String> out = new java.util.LinkedHashMap<>();
        for (String part : line.split(" ")) {
            int eq = part.indexOf('=');
            if (eq > 0) out.put(part.substring(0, eq), part.substring(eq + 1));
        }
        return out;
    }

    private EmulatedAarch64Host() {}

    static Path repo() {
        return Path.of(System.getProperty("jvmm.repo", "..")).toAbsolutePath().normalize();
    }

    static Path dist() {
        return Path.of(System.getProperty("jvmm.dist", "target/jvmm")).toAbsolutePath();
    }

    static void skipIfAsked() {
        assumeFalse(
                "skip".equals(System.getProperty("jvmm.test.arm64")),
                "SKIPPED: emulated arm64 host tests disabled with -Djvmm.test.arm64=skip");
    }

    /** Runs {@code sh -c script} in the emulated host with jvmm's distribution at /jvmm. */
    static Result run(String script, List<String> runOptions, int timeoutSeconds)
            throws IOException, InterruptedException {
        Path dist = dist();
        assertTrue(
                Files.isExecutable(dist.resolve("bin/jvmm")),
                "jvmm distribution missing at " + dist + " (run mvn package)");
        return launch(dist, "/jvmm", script, runOptions, timeoutSeconds);
    }

    /**
     * Runs {@code sh -c script} in the emulated host with {@code share} copied in at /work (its cwd); the test fails
     * if the emulated host itself does not exit 0.
     */
    static Result runShared(Path share, String script, List<String> runOptions, int timeoutSeconds)
            throws IOException, InterruptedException {
        Result result = launch(share, "/work", script, runOptions, timeoutSeconds);
        assertEquals(0, result.status(), "the emulated host itself failed");
        return result;
    }

    private static Result launch(Path share, String at, String script, List<String> runOptions, int timeoutSeconds)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(
                repo().resolve("tools/arm64-host/run").toString(),
                "--share",
                share.toString(),
                "--at",
                at,
                "--timeout",
                Integer.toString(timeoutSeconds)));
        cmd.addAll(runOptions);
        cmd.addAll(List.of("--", "sh", "-c", script));
        Path log = Files.createTempFile("jvmm-arm64-host", ".log");
        try {
            Process p = new ProcessBuilder(cmd)
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start();
            if (!p.waitFor(timeoutSeconds + 300L, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("emulated arm64 host did not finish; log: " + Files.readString(log));
            }
            String output = Files.readString(log, StandardCharsets.UTF_8);
            System.out.println("---- emulated arm64 host output ----\n" + output + "---- end ----");
            return new Result(p.exitValue(), output);
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
