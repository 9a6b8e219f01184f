package dev.jvmm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The test-only cpio writer, checked by GNU cpio (the same newc format the kernel unpacks). */
class CpioTest {
    @TempDir
    Path dir;

    @Test
    void gnuCpioExtractsTheArchive() throws Exception {
        byte[] archive = new Cpio()
                .directory("jvmm.d")
                .file("jvmm.d/50-x.sh", 0755, "echo hi\n")
                .toBytes();
        Path a = Files.write(dir.resolve("a.cpio"), archive);
        Path out = Files.createDirectories(dir.resolve("out"));
        Process p = new ProcessBuilder("cpio", "-idm", "--quiet", "-F", a.toString())
                .directory(out.toFile())
                .redirectErrorStream(true)
                .start();
        String log = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), log);
        Path script = out.resolve("jvmm.d/50-x.sh");
        assertEquals("echo hi\n", Files.readString(script));
        assertTrue(Files.getPosixFilePermissions(script).contains(PosixFilePermission.OWNER_EXECUTE));
        assertEquals(0, archive.length % 4, "newc archives are padded to 4 bytes");
    }

    @Test
    void appendedArchiveStartsFourByteAligned() throws Exception {
        Path gz = dir.resolve("base.cpio.gz");
        try (var z = new GZIPOutputStream(Files.newOutputStream(gz))) {
            z.write(new Cpio().file("init", 0755, "#!/bin/sh\n").toBytes());
        }
        long baseSize = Files.size(gz);
        byte[] extra = new Cpio().file("x", 0644, "y").toBytes();
        byte[] all = Files.readAllBytes(new Cpio().file("x", 0644, "y").appendTo(gz, dir.resolve("all")));
        long start = all.length - extra.length;
        assertEquals(0, start % 4);
        assertTrue(start >= baseSize && start < baseSize + 4);
        assertEquals("070701", new String(all, (int) start, 6));
    }
}
