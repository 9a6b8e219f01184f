package dev.jvmm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * virtio-blk end to end in the emulated arm64 host: three disks, one on a root port, one behind a switch, one on
 * segment 1 (read-only). The guest ({@code 70-blk.sh}) checksums the host-prepared disk, writes and syncs a
 * pattern to the writable one, and is refused a write by the read-only one; after jvmm exits, the emulated host
 * checksums the image files, which must hold exactly what the guest wrote. Booted with {@code --gic-msi=its} and,
 * with the console on virtio-console ({@code console=hvc0}), with {@code v2m}; and once stopped with SIGTERM right
 * after the guest's sync, which must lose nothing.
 */
class VirtioBlkIT {
    private static final int READ_SIZE = 8 << 20, WRITE_SIZE = 4 << 20, RO_SIZE = 1 << 20, PATTERN_SIZE = 1 << 20;
    private static final String JVMM = "/work/jvmm/bin/jvmm run --kernel /work/guest/Image"
            + " --initrd /work/guest/initramfs-blk.cpio --cpus 2 --memory 256M --stats";
    /** MsiIT's hierarchy, with disks instead of rngs. */
    private static final String DEVICES = String.join(
            " ",
            MsiIT.TOPOLOGY,
            "--disk path=/work/disk-read.img,port=rp0,id=disk-read",
            "--disk path=/work/disk-write.img,port=sw0.dp0,id=disk-write",
            "--disk path=/work/disk-ro.img,port=rp2,id=disk-ro,readonly");

    static EmulatedAarch64Host.Result result;
    static String readSha, roSha;

    @BeforeAll
    static void bootGuests(@TempDir Path tmp) throws Exception {
        EmulatedAarch64Host.skipIfAsked();
        Path share = GuestImage.share(tmp, VirtioBlkIT.class, "70-blk.sh", "initramfs-blk.cpio");
        Random random = new Random(20261202);
        byte[] read = new byte[READ_SIZE], ro = new byte[RO_SIZE];
        random.nextBytes(read);
        random.nextBytes(ro);
        Files.write(share.resolve("disk-read.img"), read);
        Files.write(share.resolve("disk-ro.img"), ro);
        readSha = sha256(read);
        roSha = sha256(ro);

        // Each run gets a fresh zeroed writable image; afterwards the host checksums the pattern area and the rest.
        String fresh = "rm -f /work/disk-write.img; head -c " + WRITE_SIZE + " /dev/zero > /work/disk-write.img";
        String after = "echo \"JVMM-HOST-FILES pattern=$(head -c " + PATTERN_SIZE
                + " /work/disk-write.img | sha256sum | cut -d' ' -f1)"
                + " rest=$(tail -c +" + (PATTERN_SIZE + 1) + " /work/disk-write.img | sha256sum | cut -d' ' -f1)"
                + " read=$(sha256sum /work/disk-read.img | cut -d' ' -f1) ro=$(sha256sum /work/disk-ro.img | cut -d' ' -f1)\"";
        String quiet = " --cmdline 'console=ttyAMA0 quiet panic=-1'";
        String hvc = " --console=virtio --cmdline 'console=hvc0 quiet panic=-1'";
        String sigterm =
                JVMM + " --gic-msi=its " + DEVICES + " --cmdline 'console=ttyAMA0 quiet panic=-1 jvmm.blk-wait'"
                        + " > /tmp/sigterm.log 2>&1 & pid=$!;"
                        + " i=0; while ! grep -q JVMM-BLK-SYNCED /tmp/sigterm.log && [ $i -lt 300 ]; do sleep 1; i=$((i+1)); done;"
                        + " kill -TERM $pid; wait $pid; rc=$?; cat /tmp/sigterm.log; " + after + "; (exit $rc)";
        String host = String.join(
                "\n",
                fresh,
                EmulatedAarch64Host.marked(
                        "its", JVMM + " --gic-msi=its " + DEVICES + quiet + "; rc=$?; " + after + "; (exit $rc)"),
                fresh,
                EmulatedAarch64Host.marked(
                        "v2m-hvc", JVMM + " --gic-msi=v2m " + DEVICES + hvc + "; rc=$?; " + after + "; (exit $rc)"),
                fresh,
                EmulatedAarch64Host.marked("sigterm", sigterm),
                // A second jvmm on an image the first one holds (busybox in the emulated host has no flock).
                EmulatedAarch64Host.marked(
                        "locked",
                        JVMM + " --disk path=/work/disk-read.img,id=holder"
                                + " --cmdline 'console=ttyAMA0 quiet panic=-1 jvmm.blk-wait' > /tmp/holder.log 2>&1 & holder=$!;"
                                + " i=0; while ! grep -q msi-controller /tmp/holder.log && [ $i -lt 120 ]; do sleep 1; i=$((i+1)); done; "
                                + JVMM + " --disk path=/work/disk-read.img" + quiet
                                + "; rc=$?; kill -TERM $holder; wait $holder; (exit $rc)"),
                EmulatedAarch64Host.marked("missing", JVMM + " --disk path=/work/nope.img" + quiet),
                EmulatedAarch64Host.marked("directory", JVMM + " --disk path=/work" + quiet),
                "true");
        result = EmulatedAarch64Host.runShared(share, host, List.of(), 1500);
    }

    static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }

    static String patternSha() throws Exception {
        byte[] line = "jvmm virtio-blk pattern 0123456789abcdef\n".getBytes(StandardCharsets.US_ASCII);
        byte[] p = new byte[PATTERN_SIZE];
        for (int i = 0; i < p.length; i++) p[i] = line[i % line.length];
        return sha256(p);
    }

    static Map<String, String> line(EmulatedAarch64Host.Section s, String prefix) {
        List<String> lines = s.lines(prefix);
        assertEquals(1, lines.size(), prefix + " in:\n" + s.console());
        return EmulatedAarch64Host.fields(lines.getFirst());
    }

    @ParameterizedTest
    @ValueSource(strings = {"its", "v2m-hvc"})
    void theGuestReadsWritesAndIsRefusedWhereItShouldBe(String run) throws Exception {
        EmulatedAarch64Host.Section s = result.section(run);
        assertEquals(0, s.status(), "the guest powered off:\n" + s.console());
        Map<String, Map<String, String>> disks = s.lines("JVMM-BLK-DEV").stream()
                .map(EmulatedAarch64Host::fields)
                .collect(Collectors.toMap(f -> f.get("serial"), f -> f));
        assertEquals(
                Map.of("disk-read", "0000:01:00.0", "disk-write", "0000:04:00.0", "disk-ro", "0001:01:00.0"),
                disks.entrySet().stream()
                        .collect(Collectors.toMap(
                                Map.Entry::getKey, e -> e.getValue().get("pci"))),
                "each disk where it was put, its serial the id: " + disks);
        assertEquals(String.valueOf(READ_SIZE / 512), disks.get("disk-read").get("sectors"));
        assertEquals("1", disks.get("disk-ro").get("ro"));
        assertEquals("0", disks.get("disk-write").get("ro"));

        assertEquals(readSha, line(s, "JVMM-BLK-READ").get("sha256"), "the guest read the host's bytes");
        Map<String, String> write = line(s, "JVMM-BLK-WRITE");
        assertEquals("0", write.get("rc"));
        assertEquals(patternSha(), write.get("sha256"));
        assertEquals(patternSha(), line(s, "JVMM-BLK-READBACK").get("sha256"), "O_DIRECT read-back of the write");
        assertNotEquals("0", line(s, "JVMM-BLK-RO").get("write-rc"), "a write to the read-only disk fails");

        Map<String, String> files = line(s, "JVMM-HOST-FILES");
        assertEquals(patternSha(), files.get("pattern"), "the host file holds exactly the pattern");
        assertEquals(sha256(new byte[WRITE_SIZE - PATTERN_SIZE]), files.get("rest"), "and nothing else changed");
        assertEquals(readSha, files.get("read"));
        assertEquals(roSha, files.get("ro"), "the read-only image is untouched");
        assertTrue(s.console().contains("JVMM-GUEST script=70-blk.sh rc=0"), s.console());
    }

    @Test
    void theVirtioConsoleCarriesTheGuestsOutput() {
        EmulatedAarch64Host.Section s = result.section("v2m-hvc");
        assertTrue(s.console().contains("JVMM-GUEST ready"), s.console());
        assertTrue(s.console().contains("JVMM-GUEST done"), s.console());
    }

    @Test
    void sigtermRightAfterTheGuestsSyncLosesNothing() throws Exception {
        EmulatedAarch64Host.Section s = result.section("sigterm");
        assertEquals(5, s.status(), "stopped from outside:\n" + s.console());
        assertTrue(s.console().contains("JVMM-BLK-SYNCED"), s.console());
        Map<String, String> files = line(s, "JVMM-HOST-FILES");
        assertEquals(patternSha(), files.get("pattern"), "what the guest synced is in the file");
        assertEquals(sha256(new byte[WRITE_SIZE - PATTERN_SIZE]), files.get("rest"));
    }

    @Test
    void aLockedMissingOrDirectoryImageIsRefusedAtStartWithOneLine() {
        EmulatedAarch64Host.Section locked = result.section("locked");
        assertEquals(2, locked.status(), locked.console());
        assertTrue(
                locked.console()
                        .lines()
                        .anyMatch(l ->
                                l.startsWith("jvmm: disk 'disk0' (/work/disk-read.img): ") && l.contains("in use")),
                locked.console());
        EmulatedAarch64Host.Section missing = result.section("missing");
        assertEquals(2, missing.status(), missing.console());
        assertTrue(missing.console().contains("jvmm: disk 'disk0' (/work/nope.img): "), missing.console());
        EmulatedAarch64Host.Section dir = result.section("directory");
        assertEquals(2, dir.status(), dir.console());
        assertTrue(dir.console().contains("jvmm: disk 'disk0' (/work): "), dir.console());
    }
}
