package dev.jvmm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.TimeUnit;

/**
 * The test guest (Debian's arm64 cloud kernel + a busybox initramfs whose init prints JVMM-GUEST lines), built or
 * found up to date by {@code tools/guest/build-guest}, and a share directory holding it beside jvmm's
 * distribution, for {@code tools/arm64-host/run --share}.
 */
final class GuestImage {
    private GuestImage() {}

    static Path cacheDir() throws IOException, InterruptedException {
        Path script = EmulatedAarch64Host.repo().resolve("tools/guest/build-guest");
        Process p = new ProcessBuilder(script.toString())
                .inheritIO()
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        assertTrue(p.waitFor(900, TimeUnit.SECONDS), "build-guest did not finish");
        assertEquals(0, p.exitValue(), "build-guest failed");
        String cache = System.getenv()
                .getOrDefault(
                        "JVMM_GUEST_CACHE",
                        System.getenv().getOrDefault("XDG_CACHE_HOME", System.getProperty("user.home") + "/.cache")
                                + "/jvmm/guest");
        Path dir = Path.of(cache);
        assertTrue(Files.isRegularFile(dir.resolve("Image")), "no Image in " + dir);
        assertTrue(Files.isRegularFile(dir.resolve("initramfs.cpio.gz")), "no initramfs in " + dir);
        return dir;
    }

    /**
     * A directory with {@code jvmm/} (the distribution) and {@code guest/} (Image, Image.gz made here from it,
     * initramfs.cpio.gz).
     */
    static Path share(Path tmp) throws IOException, InterruptedException {
        Path guest = cacheDir();
        Path share = Files.createDirectories(tmp.resolve("share"));
        copyTree(EmulatedAarch64Host.dist(), share.resolve("jvmm"));
        Files.createDirectories(share.resolve("guest"));
        for (String f : new String[] {"Image", "initramfs.cpio.gz"}) {
            link(guest.resolve(f), share.resolve("guest").resolve(f));
        }
        try (var in = Files.newInputStream(guest.resolve("Image"));
                var out = new java.util.zip.GZIPOutputStream(
                        Files.newOutputStream(share.resolve("guest/Image.gz")), 1 << 16)) {
            in.transferTo(out);
        }
        Files.write(share.resolve("guest/nisv.img"), Aarch64Payloads.loadPairFromDevice());
        return share;
    }

    /**
     * {@link #share(Path)} with the test guest's initramfs extended by {@link #jvmmScript} into
     * guest/{@code initramfs}.
     */
    static Path share(Path tmp, Class<?> owner, String script, String initramfs)
            throws IOException, InterruptedException {
        Path share = share(tmp);
        jvmmScript(owner, script)
                .appendTo(
                        share.resolve("guest/initramfs.cpio.gz"),
                        share.resolve("guest").resolve(initramfs));
        return share;
    }

    /**
     * An addition to the test guest's initramfs: {@code script}, a test resource beside {@code owner}, as
     * /jvmm.d/{@code script}, which tools/guest/init runs. Add more files, then {@link Cpio#appendTo} the initramfs.
     */
    static Cpio jvmmScript(Class<?> owner, String script) throws IOException {
        try (InputStream in = owner.getResourceAsStream(script)) {
            assertNotNull(in, "test resource " + script);
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return new Cpio().directory("jvmm.d").file("jvmm.d/" + script, 0755, text);
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (var files = Files.walk(from)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(t);
                else Files.copy(p, t, StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
    }

    private static void link(Path from, Path to) throws IOException {
        try {
            Files.createLink(to, from);
        } catch (IOException | UnsupportedOperationException e) {
            Files.copy(from, to);
        }
    }
}
