package dev.jvmm.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The plain libc numbers in {@link Libc} (and the per-arch layouts of {@code struct epoll_event} in {@link Epoll} and
 * {@code struct stat} in {@link HostFile})
 * against the C compiler of each arch jvmm runs on, with glibc's own headers. The same asm-offsets trick as
 * native-headers' CProbe (which lives in that module's test sources and probes linux/kvm.h only): each value is
 * an {@code "i"} operand printed into the {@code gcc -S} output. Nothing is linked or run, so the aarch64 cross
 * compiler answers on an x86_64 machine.
 *
 * <p>A missing compiler fails, naming the packages, unless {@code -Djvmm.headers.allowMissingCompiler=true} (the
 * switch native-headers uses for the same compilers), which skips that arch.
 */
class LibcConstantsTest {

    enum Target {
        X86_64("x86_64", "x86_64-linux-gnu", HostArch.X86_64, "gcc-x86-64-linux-gnu libc6-dev-amd64-cross"),
        AARCH64("aarch64", "aarch64-linux-gnu", HostArch.AARCH64, "gcc-aarch64-linux-gnu libc6-dev-arm64-cross");

        final String id;
        final String triple;
        final HostArch arch;
        final String packages;

        Target(String id, String triple, HostArch arch, String packages) {
            this.id = id;
            this.triple = triple;
            this.arch = arch;
            this.packages = packages;
        }
    }

    /** The number each C expression must give, in the order they are reported. */
    private static Map<String, Long> expected(Target t) {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("O_RDWR", (long) Libc.O_RDWR);
        m.put("O_NONBLOCK", (long) Libc.O_NONBLOCK);
        m.put("O_CLOEXEC", (long) Libc.O_CLOEXEC);
        m.put("PROT_READ", (long) Libc.PROT_READ);
        m.put("PROT_WRITE", (long) Libc.PROT_WRITE);
        m.put("MAP_SHARED", (long) Libc.MAP_SHARED);
        m.put("MAP_PRIVATE", (long) Libc.MAP_PRIVATE);
        m.put("MAP_ANONYMOUS", (long) Libc.MAP_ANONYMOUS);
        m.put("MAP_NORESERVE", (long) Libc.MAP_NORESERVE);
        m.put("EFD_CLOEXEC", (long) Libc.EFD_CLOEXEC);
        m.put("EFD_NONBLOCK", (long) Libc.EFD_NONBLOCK);
        m.put("SIG_BLOCK", (long) Libc.SIG_BLOCK);
        m.put("SIG_UNBLOCK", (long) Libc.SIG_UNBLOCK);
        m.put("sizeof(sigset_t)", (long) Libc.GLIBC_SIGSET_BYTES);
        m.put("(_NSIG - 1) / 8", (long) Libc.KERNEL_SIGSET_BYTES); // glibc's _NSIG counts signal 0 too
        m.put("EPOLL_CLOEXEC", (long) Libc.EPOLL_CLOEXEC);
        m.put("EPOLL_CTL_ADD", (long) Libc.EPOLL_CTL_ADD);
        m.put("EPOLL_CTL_DEL", (long) Libc.EPOLL_CTL_DEL);
        m.put("EPOLL_CTL_MOD", (long) Libc.EPOLL_CTL_MOD);
        m.put("EPOLLIN", (long) Libc.EPOLLIN);
        m.put("EPOLLPRI", (long) Libc.EPOLLPRI);
        m.put("EPOLLOUT", (long) Libc.EPOLLOUT);
        m.put("EPOLLERR", (long) Libc.EPOLLERR);
        m.put("EPOLLHUP", (long) Libc.EPOLLHUP);
        m.put("EPOLLRDHUP", (long) Libc.EPOLLRDHUP);
        // glibc declares these in an enum whose values reach bit 31: compare as unsigned 32-bit masks.
        m.put("EPOLLEXCLUSIVE", Integer.toUnsignedLong(Libc.EPOLLEXCLUSIVE));
        m.put("EPOLLWAKEUP", Integer.toUnsignedLong(Libc.EPOLLWAKEUP));
        m.put("EPOLLONESHOT", Integer.toUnsignedLong(Libc.EPOLLONESHOT));
        m.put("EPOLLET", Integer.toUnsignedLong(Libc.EPOLLET));
        m.put("sizeof(struct epoll_event)", (long) Epoll.eventSize(t.arch));
        m.put("__builtin_offsetof(struct epoll_event, events)", 0L);
        m.put("__builtin_offsetof(struct epoll_event, data)", (long) Epoll.dataOffset(t.arch));
        m.put("sizeof(((struct epoll_event *) 0)->data)", 8L);
        m.put("RWF_NOWAIT", (long) Libc.RWF_NOWAIT);
        // HostFile: open/flock/fallocate flags, stat modes and layout, the iovec ABI.
        m.put("O_RDONLY", (long) Libc.O_RDONLY);
        m.put("FALLOC_FL_KEEP_SIZE", (long) Libc.FALLOC_FL_KEEP_SIZE);
        m.put("FALLOC_FL_PUNCH_HOLE", (long) Libc.FALLOC_FL_PUNCH_HOLE);
        m.put("FALLOC_FL_ZERO_RANGE", (long) Libc.FALLOC_FL_ZERO_RANGE);
        m.put("LOCK_SH", (long) Libc.LOCK_SH);
        m.put("LOCK_EX", (long) Libc.LOCK_EX);
        m.put("LOCK_NB", (long) Libc.LOCK_NB);
        m.put("LOCK_UN", (long) Libc.LOCK_UN);
        m.put("S_IFMT", (long) Libc.S_IFMT);
        m.put("S_IFDIR", (long) Libc.S_IFDIR);
        m.put("S_IFREG", (long) Libc.S_IFREG);
        m.put("S_IFBLK", (long) Libc.S_IFBLK);
        m.put("BLKGETSIZE64", Libc.BLKGETSIZE64);
        m.put("IOV_MAX", (long) Libc.IOV_MAX);
        m.put("EISDIR", (long) HostFile.EISDIR);
        m.put("EWOULDBLOCK", (long) Errno.EAGAIN);
        m.put("EOPNOTSUPP", (long) Errno.EOPNOTSUPP);
        m.put("sizeof(struct stat)", (long) HostFile.statSize(t.arch));
        m.put("__builtin_offsetof(struct stat, st_mode)", (long) HostFile.statModeOffset(t.arch));
        m.put("sizeof(((struct stat *) 0)->st_mode)", 4L);
        m.put("__builtin_offsetof(struct stat, st_size)", (long) HostFile.statSizeOffset(t.arch));
        m.put("sizeof(((struct stat *) 0)->st_size)", 8L);
        m.put("sizeof(struct iovec)", 16L);
        m.put("__builtin_offsetof(struct iovec, iov_len)", 8L);
        m.put("sizeof(off_t)", 8L);
        return m;
    }

    @ParameterizedTest
    @EnumSource(Target.class)
    void libcNumbersMatchTheCompiler(Target t) throws Exception {
        Map<String, Long> expected = expected(t);
        Map<String, Long> actual = probe(compiler(t), expected.keySet().stream().toList());
        List<String> wrong = new ArrayList<>();
        for (var e : expected.entrySet()) {
            Long got = actual.get(e.getKey());
            if (!e.getValue().equals(got)) {
                wrong.add("%s: jvmm %d, %s C compiler %s".formatted(e.getKey(), e.getValue(), t.id, got));
            }
        }
        assertTrue(wrong.isEmpty(), String.join("\n", wrong));
    }

    @ParameterizedTest
    @EnumSource(Target.class)
    void epollEventIsPackedOnX86Only(Target t) {
        // What the probe above confirms, stated plainly (include/uapi/linux/eventpoll.h, EPOLL_PACKED).
        assertEquals(t == Target.X86_64 ? 12 : 16, Epoll.eventSize(t.arch));
        assertEquals(t == Target.X86_64 ? 4 : 8, Epoll.dataOffset(t.arch));
    }

    @ParameterizedTest
    @EnumSource(Target.class)
    void statLayoutsDifferWhereTheHeadersSay(Target t) {
        // arch/x86/include/uapi/asm/stat.h vs include/uapi/asm-generic/stat.h
        assertEquals(t == Target.X86_64 ? 24 : 16, HostFile.statModeOffset(t.arch));
        assertEquals(48, HostFile.statSizeOffset(t.arch));
        assertEquals(t == Target.X86_64 ? 144 : 128, HostFile.statSize(t.arch));
    }

    private static final Pattern LINE = Pattern.compile("@@@(\\d+) [$#]?(-?\\d+)");

    /** Compiles one function that emits every expression, and reads the numbers back from the assembly. */
    private static Map<String, Long> probe(String cc, List<String> exprs) throws IOException, InterruptedException {
        StringBuilder c = new StringBuilder("""
                /* jvmm vmm-kvm libc probe: compiled with -S only, never run. */
                #define _GNU_SOURCE
                #include <errno.h>
                #include <fcntl.h>
                #include <limits.h>
                #include <signal.h>
                #include <stddef.h>
                #include <sys/epoll.h>
                #include <sys/eventfd.h>
                #include <sys/file.h>
                #include <sys/mman.h>
                #include <sys/stat.h>
                #include <sys/types.h>
                #include <sys/uio.h>
                #include <linux/falloc.h>
                #include <linux/fs.h>
                #define EMIT(key, v) __asm__ volatile (".ascii \\"@@@" key " %0\\"" : : "i" ((long long) (v)))
                void jvmm_probe(void);
                void jvmm_probe(void) {
                """);
        for (int i = 0; i < exprs.size(); i++) {
            c.append("EMIT(\"").append(i).append("\", ").append(exprs.get(i)).append(");\n");
        }
        c.append("}\n");
        Path dir = Files.createTempDirectory("jvmm-libc-probe");
        try {
            Files.writeString(dir.resolve("probe.c"), c);
            Process p = new ProcessBuilder(cc, "-S", "-O0", "-std=gnu11", "-o", "probe.s", "probe.c")
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("log").toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start();
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), cc + " timed out");
            assertEquals(0, p.exitValue(), () -> cc + " -S failed:\n" + readQuietly(dir.resolve("log")) + "\n" + c);
            Map<String, Long> values = new HashMap<>();
            Matcher m = LINE.matcher(Files.readString(dir.resolve("probe.s")));
            while (m.find()) values.put(exprs.get(Integer.parseInt(m.group(1))), Long.parseLong(m.group(2)));
            return values;
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path f : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(f);
            }
        }
    }

    private static String readQuietly(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /**
     * {@code -Djvmm.headers.cc.<arch>} if set, else {@code <triple>-gcc}, else {@code gcc} when it targets the
     * arch (a native build): the same search as native-headers' CCompiler.
     */
    private static String compiler(Target t) throws InterruptedException {
        List<String> candidates = new ArrayList<>();
        String override = System.getProperty("jvmm.headers.cc." + t.id);
        if (override != null && !override.isBlank()) candidates.add(override.strip());
        else candidates.addAll(List.of(t.triple + "-gcc", "gcc"));
        for (String cc : candidates) {
            if (dumpMachine(cc).filter(m -> m.startsWith(t.id + "-")).isPresent()) return cc;
        }
        String message = "no C compiler with glibc headers for " + t.id + " (tried " + candidates
                + "); on Debian/Ubuntu: apt-get install " + t.packages + " (or gcc on a native " + t.id + " host)";
        if (Boolean.getBoolean("jvmm.headers.allowMissingCompiler")) {
            Assumptions.abort("skipped, jvmm.headers.allowMissingCompiler=true: " + message);
        }
        return Assertions.fail(message + "; or run with -Djvmm.headers.allowMissingCompiler=true to skip " + t.id);
    }

    private static Optional<String> dumpMachine(String cc) throws InterruptedException {
        try {
            Process p = new ProcessBuilder(cc, "-dumpmachine")
                    .redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start();
            String out = new String(p.getInputStream().readAllBytes()).strip();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return Optional.empty();
            }
            return p.exitValue() == 0 ? Optional.of(out) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty(); // not installed
        }
    }
}
