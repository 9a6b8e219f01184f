package dev.jvmm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class HostInfoCommandTest {
    @Test
    void versionNamesJvmmAndJava() {
        CliRunner r = CliRunner.run("--version");
        assertEquals(0, r.status());
        assertTrue(r.out().startsWith("jvmm 0."), r.out());
        assertTrue(r.out().contains("Java 25"), r.out());
    }

    @Test
    void missingKvmIsOneLineWithoutStackTrace() {
        CliRunner r = CliRunner.run("host-info", "--kvm-device", "/dev/jvmm-test-no-such-kvm");
        assertEquals(ExitStatus.FAILURE.code(), r.status());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(
                r.err()
                        .startsWith(
                                "jvmm: open /dev/jvmm-test-no-such-kvm: No such file or directory (ENOENT, errno 2)"),
                r.err());
        assertFalse(r.err().contains("Exception"), r.err());
    }

    @Test
    void aFileThatIsNoKvmDeviceIsOneLine() {
        CliRunner r = CliRunner.run("host-info", "--kvm-device", "/dev/null");
        assertEquals(ExitStatus.FAILURE.code(), r.status());
        assertEquals(
                "jvmm: KVM_GET_API_VERSION: Inappropriate ioctl for device (ENOTTY, errno 25)",
                r.err().strip());
    }

    @Test
    void unknownOptionIsAUsageError() {
        CliRunner r = CliRunner.run("host-info", "--no-such-option");
        assertEquals(ExitStatus.USAGE.code(), r.status());
        assertTrue(r.err().startsWith("jvmm: Unknown option: '--no-such-option'"), r.err());
    }

    @Test
    void reportsTheRealKvmOfThisHost() {
        assumeTrue(Files.exists(Path.of("/dev/kvm")), "SKIPPED: /dev/kvm is absent on this host");
        CliRunner r = CliRunner.run("host-info");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("API version 12"), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("\\s+KVM_CAP_USER_MEMORY\\s+1\\s+1")), r.out());
        if (System.getProperty("os.arch").equals("amd64")) {
            assertTrue(r.out().lines().anyMatch(l -> l.matches("\\s+KVM_DEV_TYPE_ARM_VGIC_ITS\\s+no")), r.out());
            assertTrue(r.out().contains("--gic-msi=auto would choose: unavailable: this host is not aarch64"), r.out());
        }
    }
}
