package dev.jvmm.headers.gen;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A gcc that targets one {@link Arch}. Only ever used to preprocess ({@code -E}) and to compile to assembly
 * ({@code -S}); nothing it produces is executed, which is what lets one x86_64 machine probe aarch64.
 */
public record CCompiler(Arch arch, String command) {

    private static final long TIMEOUT_SECONDS = 120;

    /**
     * Finds a compiler for {@code arch}: the {@code jvmm.headers.cc.<arch>} system property if set, else
     * {@code <triple>-gcc}, else plain {@code gcc} when it targets {@code arch} (a native build).
     */
    public static Optional<CCompiler> find(Arch arch) {
        List<String> candidates = new ArrayList<>();
        String override = System.getProperty("jvmm.headers.cc." + arch.id());
        if (override != null && !override.isBlank()) {
            candidates.add(override.strip());
        } else {
            candidates.add(arch.triple() + "-gcc");
            candidates.add("gcc");
        }
        for (String c : candidates) {
            Optional<String> machine = dumpMachine(c);
            if (machine.isPresent() && machine.get().startsWith(arch.id() + "-")) {
                return Optional.of(new CCompiler(arch, c));
            }
        }
        return Optional.empty();
    }

    /** The message for a missing compiler: what was tried and what to install. */
    public static String missingMessage(Arch arch) {
        return "no C compiler for " + arch.id() + " (tried " + arch.triple() + "-gcc, and gcc if it targets "
                + arch.id() + "; override with -Djvmm.headers.cc." + arch.id() + "=<command>). On Debian/Ubuntu: "
                + "apt-get install " + arch.crossPackages() + " (or gcc + linux-libc-dev on a native "
                + arch.id() + " host)";
    }

    private static Optional<String> dumpMachine(String command) {
        try {
            Result r = run(List.of(command, "-dumpmachine"), null);
            return r.exitCode() == 0 ? Optional.of(r.stdout().strip()) : Optional.empty();
        } catch (UncheckedIOException e) {
            return Optional.empty(); // not installed
        }
    }

    /** {@code gcc -E -dD}: preprocessed text that keeps every {@code #define} in place. */
    public String preprocess(String source) {
        return compile(source, "-E", "-dD");
    }

    /** {@code gcc -S}: the assembly text of {@code source}. */
    public String compileToAssembly(String source) {
        return compile(source, "-S", "-O0");
    }

    private String compile(String source, String... flags) {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("jvmm-cprobe");
            Path in = dir.resolve("probe.c");
            Path out = dir.resolve("probe.out");
            Files.writeString(in, source, StandardCharsets.UTF_8);
            List<String> cmd = new ArrayList<>();
            cmd.add(command);
            cmd.addAll(List.of(flags));
            cmd.addAll(List.of("-std=gnu11", "-o", out.toString(), in.toString()));
            Result r = run(cmd, dir);
            if (r.exitCode() != 0) {
                throw new IllegalStateException(arch.id() + ": `" + String.join(" ", cmd) + "` failed ("
                        + r.exitCode() + "). A name in the manifest that the header does not define, or a struct"
                        + " member that does not exist, shows up here:\n" + firstLines(r.stderr(), 40));
            }
            return Files.readString(out, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            deleteQuietly(dir);
        }
    }

    private record Result(int exitCode, String stdout, String stderr) {}

    private static Result run(List<String> cmd, Path dir) {
        Path tmp = null;
        try {
            tmp = Files.createTempDirectory("jvmm-cc");
            Path out = tmp.resolve("stdout");
            Path err = tmp.resolve("stderr");
            ProcessBuilder pb = new ProcessBuilder(cmd)
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile())
                    .redirectInput(
                            ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
            if (dir != null) {
                pb.directory(dir.toFile());
            }
            pb.environment().put("LC_ALL", "C"); // stable diagnostics
            Process p = pb.start();
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out: " + String.join(" ", cmd));
            }
            return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + String.join(" ", cmd), e);
        } finally {
            deleteQuietly(tmp);
        }
    }

    private static String firstLines(String s, int n) {
        return s.lines().limit(n).reduce((a, b) -> a + "\n" + b).orElse("");
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException ignored) {
            // a temp directory left behind is harmless
        }
    }
}
