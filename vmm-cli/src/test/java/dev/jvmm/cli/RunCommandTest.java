package dev.jvmm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Wrong values for {@code jvmm run} get one clear line and status 2, before any VM is created. */
class RunCommandTest {
    @TempDir
    Path dir;

    private Path kernel() throws Exception {
        return Files.write(dir.resolve("Image"), new byte[4096]);
    }

    private void assertUsage(String expectedLine, String... args) {
        CliRunner r = CliRunner.run(args);
        assertEquals(ExitStatus.USAGE.code(), r.status(), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertEquals("jvmm: " + expectedLine, r.err().strip());
    }

    @Test
    void missingKernelOption() {
        assertUsage("Missing required option: '--kernel=FILE'", "run");
    }

    @Test
    void kernelFileDoesNotExist() {
        assertUsage("--kernel /nonexistent/Image: no such file", "run", "--kernel", "/nonexistent/Image");
    }

    @Test
    void kernelOrInitrdNamingADirectoryOrADeviceSaySo() throws Exception {
        assertUsage("--kernel " + dir + ": is a directory, not a file", "run", "--kernel", dir.toString());
        assertUsage("--kernel /dev/null: not a regular file", "run", "--kernel", "/dev/null");
        assertUsage(
                "--initrd " + dir + ": is a directory, not a file",
                "run",
                "--kernel",
                kernel().toString(),
                "--initrd",
                dir.toString());
    }

    @Test
    void kvmDeviceNamingADirectorySaysSo() throws Exception {
        assertUsage(
                "--kvm-device " + dir + ": is a directory, not the KVM device",
                "run",
                "--kernel",
                kernel().toString(),
                "--kvm-device",
                dir.toString());
    }

    @Test
    void initrdFileDoesNotExist() throws Exception {
        assertUsage(
                "--initrd /nonexistent/initrd: no such file",
                "run",
                "--kernel",
                kernel().toString(),
                "--initrd",
                "/nonexistent/initrd");
    }

    @Test
    void memoryTooSmall() throws Exception {
        assertUsage(
                "--memory 32M is too small: at least 64M", "run", "--kernel", kernel().toString(), "--memory", "32M");
    }

    @Test
    void memoryNotInTwoMegabyteBlocks() throws Exception {
        assertUsage("--memory 65M must be a multiple of 2M", "run", "--kernel", kernel().toString(), "--memory", "65M");
    }

    @Test
    void memoryNotASize() throws Exception {
        assertUsage(
                "--memory: not a size: 'lots' (use e.g. 512M or 2G)",
                "run",
                "--kernel",
                kernel().toString(),
                "--memory",
                "lots");
    }

    @Test
    void cpusOutOfRange() throws Exception {
        assertUsage("--cpus must be between 1 and 123 (got 0)", "run", "--kernel", kernel().toString(), "--cpus", "0");
        assertUsage(
                "--cpus must be between 1 and 123 (got 500)", "run", "--kernel", kernel().toString(), "--cpus", "500");
    }

    @Test
    void cpusNotANumber() throws Exception {
        CliRunner r = CliRunner.run("run", "--kernel", kernel().toString(), "--cpus", "two");
        assertEquals(ExitStatus.USAGE.code(), r.status());
        assertTrue(r.err().startsWith("jvmm: Invalid value for option '--cpus': 'two' is not an int"), r.err());
    }

    @Test
    void badGicMsiMode() throws Exception {
        assertUsage(
                "--gic-msi must be one of auto, its, v2m (got 'msi')",
                "run",
                "--kernel",
                kernel().toString(),
                "--gic-msi",
                "msi");
    }

    @Test
    void cmdlineTooLong() throws Exception {
        assertUsage(
                "--cmdline is 3000 bytes; the arm64 kernel takes at most 2047",
                "run",
                "--kernel",
                kernel().toString(),
                "--cmdline",
                "x".repeat(3000));
    }

    @Test
    void aFileThatIsNoKernelIsBadInput() throws Exception {
        Path notAKernel = Files.writeString(dir.resolve("notes.txt"), "this is not an arm64 kernel\n".repeat(10));
        CliRunner r = CliRunner.run("run", "--kernel", notAKernel.toString());
        assertEquals(ExitStatus.USAGE.code(), r.status(), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("jvmm: " + notAKernel), r.err());
    }

    @Test
    void aValidKernelOnAHostThatIsNotAarch64IsOneLine() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(
                System.getProperty("os.arch").equals("amd64"), "x86_64 hosts only");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(Path.of("/dev/kvm")), "SKIPPED: no /dev/kvm");
        Path kernel = Files.write(dir.resolve("Image"), Aarch64Payloads.loadPairFromDevice());
        CliRunner r = CliRunner.run("run", "--kernel", kernel.toString());
        assertEquals(ExitStatus.FAILURE.code(), r.status(), r.err());
        assertEquals(
                "jvmm: this host is not aarch64: jvmm runs aarch64 guests on aarch64 KVM hosts only",
                r.err().strip());
    }

    @Test
    void helpDocumentsEveryOption() {
        CliRunner r = CliRunner.run("run", "--help");
        assertEquals(0, r.status());
        for (String opt : new String[] {
            "--kernel", "--initrd", "--cmdline", "--memory", "--cpus", "--gic-msi", "--kvm-device", "Exit status"
        }) {
            assertTrue(r.out().contains(opt), "help lacks " + opt + ":\n" + r.out());
        }
    }
}
