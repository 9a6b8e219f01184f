package dev.jvmm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * jvmm boots Debian's stock arm64 kernel inside the emulated arm64 KVM host and the guest reports what it saw.
 * One emulated-host boot runs several guests in turn (each boot of the host costs ~10 s under TCG); every guest
 * run's console and exit status are framed by markers so the assertions know which run printed what.
 */
class Aarch64BootIT {
    static EmulatedAarch64Host.Result result;

    // Each guest gets its own bound (busybox timeout sends SIGTERM: jvmm then exits 5 and the test names the run).
    private static final String JVMM = "timeout 300 /work/jvmm/bin/jvmm run --kernel /work/guest/Image"
            + " --initrd /work/guest/initramfs.cpio.gz";

    @BeforeAll
    static void bootGuests(@TempDir Path tmp) throws Exception {
        EmulatedAarch64Host.skipIfAsked();
        Path share = GuestImage.share(tmp);
        String script = String.join(
                "\n",
                // The full boot log once, with earlycon; the other runs are quiet (each console byte is a VM exit).
                guest(
                        "two-cpus",
                        "--cpus 2 --memory 256M --cmdline 'console=ttyAMA0 earlycon=pl011,0x09000000 panic=-1'"),
                guest("one-cpu", "--cpus 1 --memory 256M --cmdline 'console=ttyAMA0 quiet panic=-1'"),
                // Verbose, so the kernel's own report of its MSI controller is on the console.
                guest("v2m", "--cpus 1 --memory 256M --gic-msi=v2m --cmdline 'console=ttyAMA0 panic=-1'"),
                guest("panic", "--cpus 1 --memory 256M --cmdline 'console=ttyAMA0 quiet panic=-1 jvmm.panic'"),
                guest("reboot", "--cpus 1 --memory 256M --cmdline 'console=ttyAMA0 quiet panic=-1 jvmm.reboot'"),
                guest("bad-memory", "--cpus 1 --memory 1M"),
                "echo '@@BEGIN nisv'; timeout 120 /work/jvmm/bin/jvmm run --kernel /work/guest/nisv.img --memory 64M --stats;"
                        + " echo \"@@END nisv rc=$?\"",
                "echo '@@BEGIN gzip-kernel'; " + JVMM.replace("/work/guest/Image", "/work/guest/Image.gz")
                        + " --cpus 1 --memory 256M --cmdline 'console=ttyAMA0 quiet panic=-1'; echo \"@@END gzip-kernel rc=$?\"",
                // A guest that waits at a shell forever, stopped with SIGTERM once it is up.
                "echo '@@BEGIN sigterm'; " + JVMM
                        + " --cpus 1 --memory 256M --cmdline 'console=ttyAMA0 quiet panic=-1 jvmm.shell'"
                        + " < /dev/null & pid=$!; sleep 30; kill -TERM $pid; wait $pid; echo \"@@END sigterm rc=$?\"",
                "true");
        result = EmulatedAarch64Host.runShared(share, script, List.of(), 1200);
    }

    private static String guest(String name, String args) {
        return EmulatedAarch64Host.marked(name, JVMM + " " + args);
    }

    /** The console between a run's markers, and its exit status. */
    static EmulatedAarch64Host.Section run(String name) {
        return result.section(name);
    }

    private static void assertGuestLine(EmulatedAarch64Host.Section r, String line) {
        assertTrue(
                r.console().lines().anyMatch(l -> l.strip().equals(line)),
                "guest did not print '" + line + "':\n" + r.console());
    }

    @Test
    void twoVcpuGuestBootsToInitAndPowersOff() {
        EmulatedAarch64Host.Section r = run("two-cpus");
        assertGuestLine(r, "JVMM-GUEST cpus-online=2");
        assertGuestLine(r, "JVMM-GUEST ready");
        assertGuestLine(r, "JVMM-GUEST done");
        assertTrue(
                r.console().lines().anyMatch(l -> l.strip().matches("JVMM-GUEST kernel=6\\.\\d+\\.\\d+.*-cloud-arm64")),
                r.console());
        assertTrue(
                r.console().contains("earlycon: pl11 at MMIO 0x0000000009000000"),
                "earlycon did not start:\n" + r.console());
        assertTrue(r.console().contains("Booting Linux on physical CPU 0x0000000000"), r.console());
        // --gic-msi=auto on a host with an ITS: the guest finds the ITS at its place in the memory map.
        assertTrue(r.console().contains("ITS [mem 0x08080000-0x0809ffff]"), r.console());
        assertEquals(0, r.status(), "jvmm exits 0 when the guest powers off");
    }

    @Test
    void oneVcpuGuestBootsToInitAndPowersOff() {
        EmulatedAarch64Host.Section r = run("one-cpu");
        assertGuestLine(r, "JVMM-GUEST cpus-online=1");
        assertGuestLine(r, "JVMM-GUEST done");
        assertEquals(0, r.status());
    }

    @Test
    void withGicMsiV2mTheGuestDrivesJvmmsEmulatedFrame() {
        EmulatedAarch64Host.Section r = run("v2m");
        // irq-gic-v2m.c bound to the frame: 64 SPIs from INTID 80. Linux takes the range from the device tree's
        // arm,msi-base-spi/num-spis ("DT overriding V2M MSI_TYPER"); Gicv2mFrameTest checks MSI_TYPER agrees.
        assertTrue(r.console().contains("GICv2m: range[mem 0x08020000-0x08020fff], SPI[80:143]"), r.console());
        assertFalse(r.console().contains("ITS [mem"), "no ITS with --gic-msi=v2m:\n" + r.console());
        assertGuestLine(r, "JVMM-GUEST done");
        assertEquals(0, r.status());
    }

    @Test
    void aPanickingGuestGivesStatus4() {
        EmulatedAarch64Host.Section r = run("panic");
        assertGuestLine(r, "JVMM-GUEST panic");
        assertTrue(r.console().contains("jvmm: the guest crashed: Kernel panic - not syncing"), r.console());
        assertEquals(ExitStatus.GUEST_PANIC.code(), r.status());
    }

    @Test
    void aRebootingGuestGivesStatus3() {
        EmulatedAarch64Host.Section r = run("reboot");
        assertGuestLine(r, "JVMM-GUEST reboot");
        assertEquals(ExitStatus.GUEST_RESET.code(), r.status());
    }

    /** The bare-metal payload checks ESR_EL1 and FAR_EL1 in its vector and powers off only if all is right. */
    @Test
    void mmioWithoutSyndromeGivesTheGuestASynchronousExternalAbort() {
        EmulatedAarch64Host.Section r = run("nisv");
        assertEquals(ExitStatus.OK.code(), r.status(), "SYSTEM_OFF from the abort handler:\n" + r.console());
        assertTrue(r.console().lines().anyMatch(l -> l.equals("SEA")), r.console());
    }

    @Test
    void aGzipCompressedKernelBootsToo() {
        EmulatedAarch64Host.Section r = run("gzip-kernel");
        assertGuestLine(r, "JVMM-GUEST done");
        assertEquals(0, r.status());
    }

    @Test
    void sigtermStopsTheGuestWithStatus5() {
        EmulatedAarch64Host.Section r = run("sigterm");
        assertEquals(ExitStatus.STOPPED.code(), r.status(), r.console());
        assertTrue(r.console().contains("jvmm: stopped by a signal"), r.console());
    }

    @Test
    void badOptionsAreRefusedBeforeBooting() {
        EmulatedAarch64Host.Section r = run("bad-memory");
        assertEquals(2, r.status());
        assertTrue(r.console().contains("jvmm: --memory 1M is too small: at least 64M"), r.console());
    }
}
