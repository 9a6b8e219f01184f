package dev.jvmm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a guest or a stalled host cannot do to jvmm, in the emulated arm64 host (issue 15): an {@code ldp} from a BAR
 * and from an address no device claims (no instruction syndrome: KVM_EXIT_ARM_NISV) gets the guest process a SIGBUS
 * and the VM runs on to poweroff; a console nobody reads neither blocks the guest's poweroff nor a SIGTERM; a
 * guest user who prints the panic line and reboots gets a reset, not a crash; guest RAM beyond what the host can
 * give is refused at start. The guest program is {@code tools/guest/ldpprobe.c}, built here with the cross compiler
 * the binding generator needs anyway; the guest script is {@code 80-hardening.sh}.
 */
class HardeningIT {
    private static final String JVMM = "/work/jvmm/bin/jvmm run --kernel /work/guest/Image"
            + " --initrd /work/guest/initramfs-hard.cpio --cpus 2 --memory 256M --stats";
    private static final int FLOOD_LINES = 1500; // 150 kB: more than a pipe holds, so the writer blocks for good

    static EmulatedAarch64Host.Result result;

    @BeforeAll
    static void bootGuests(@TempDir Path tmp) throws Exception {
        EmulatedAarch64Host.skipIfAsked();
        Path share = GuestImage.share(tmp);
        Path probe = tmp.resolve("ldpprobe");
        Process cc = new ProcessBuilder(
                        "aarch64-linux-gnu-gcc",
                        "-static",
                        "-O2",
                        "-Wall",
                        "-Wextra",
                        "-o",
                        probe.toString(),
                        EmulatedAarch64Host.repo()
                                .resolve("tools/guest/ldpprobe.c")
                                .toString())
                .inheritIO()
                .start();
        assertTrue(
                cc.waitFor(120, TimeUnit.SECONDS) && cc.exitValue() == 0,
                "aarch64-linux-gnu-gcc builds ldpprobe (scripts/install-deps installs it)");
        GuestImage.jvmmScript(HardeningIT.class, "80-hardening.sh")
                .file("ldpprobe", 0755, Files.readAllBytes(probe))
                .appendTo(share.resolve("guest/initramfs.cpio.gz"), share.resolve("guest/initramfs-hard.cpio"));

        String quiet = "console=ttyAMA0 quiet panic=-1";
        // stdout into a FIFO whose reader never reads: the pipe fills, then the console writer's ring.
        String stalled = "rm -f /tmp/stall; mkfifo /tmp/stall; sleep 900 < /tmp/stall & holder=$!; ";
        String host = String.join(
                "\n",
                EmulatedAarch64Host.marked("ldp", JVMM + " --rng --cmdline '" + quiet + "'"),
                EmulatedAarch64Host.marked(
                        "stall-poweroff",
                        stalled + "timeout 600 " + JVMM + " --cmdline '" + quiet
                                + " jvmm.flood=" + FLOOD_LINES
                                + "' > /tmp/stall 2> /tmp/stall.err; rc=$?; kill $holder;"
                                + " cat /tmp/stall.err; (exit $rc)"),
                EmulatedAarch64Host.marked(
                        "stall-sigterm",
                        stalled + JVMM + " --cmdline '" + quiet
                                + " jvmm.flood-forever' > /tmp/stall 2> /tmp/stall.err & pid=$!;"
                                + " i=0; while ! grep -q msi-controller /tmp/stall.err && [ $i -lt 300 ]; do sleep 1; i=$((i+1)); done;"
                                + " sleep 20; t0=$(date +%s); kill -TERM $pid; wait $pid; rc=$?; t1=$(date +%s); kill $holder;"
                                + " cat /tmp/stall.err; echo \"JVMM-HOST sigterm-to-exit-s=$((t1 - t0))\"; (exit $rc)"),
                EmulatedAarch64Host.marked("pvpanic", JVMM + " --cmdline '" + quiet + " jvmm.pvpanic'"),
                EmulatedAarch64Host.marked("fake-panic", JVMM + " --cmdline '" + quiet + " jvmm.fake-panic'"),
                // Set-up held deterministically: opening a read-only disk that is a FIFO blocks until a writer comes.
                // The JVM itself takes ~15 s to start under emulation; the signal goes once a thread of jvmm has sat
                // in openat (syscall 56 on arm64) for 3 s in a row, which is the disk's open.
                EmulatedAarch64Host.marked(
                        "sigterm-setup",
                        "rm -f /tmp/setup-fifo; mkfifo /tmp/setup-fifo; " + JVMM
                                + " --disk path=/tmp/setup-fifo,readonly --cmdline '" + quiet
                                + "' > /tmp/setup.log 2>&1 & pid=$!;"
                                + " i=0; n=0; while [ $n -lt 3 ] && [ $i -lt 300 ]; do sleep 1; i=$((i+1));"
                                + " if grep -qs '^56 ' /proc/$pid/task/*/syscall; then n=$((n+1)); else n=0; fi; done;"
                                + " kill -TERM $pid; wait $pid; rc=$?; cat /tmp/setup.log; echo \"JVMM-HOST waited-s=$i\"; (exit $rc)"),
                EmulatedAarch64Host.marked("too-much-memory", JVMM.replace("--memory 256M", "--memory 512G")),
                "true");
        result = EmulatedAarch64Host.runShared(share, host, List.of(), 1800);
    }

    private static Map<String, String> probe(EmulatedAarch64Host.Section s, String name, String insn) {
        return s.lines("JVMM-HARD probe=" + name + " insn=" + insn).stream()
                .map(EmulatedAarch64Host::fields)
                .findFirst()
                .orElseThrow(() -> new AssertionError("no probe " + name + "/" + insn + ":\n" + s.console()));
    }

    @Test
    void anUndecodableAccessIsASigbusForTheGuestProcessAndTheVmRunsOn() {
        EmulatedAarch64Host.Section s = result.section("ldp");
        assertEquals(0, s.status(), "the guest powered off:\n" + s.console());
        assertTrue(s.console().contains("JVMM-HARD bar pci=0000:01:00.0"), s.console());
        assertEquals("135", probe(s, "bar", "ldp").get("rc"), "ldp from a BAR: SIGBUS (128 + 7)\n" + s.console());
        assertEquals("0", probe(s, "bar", "ldr").get("rc"), "a plain ldr from the BAR works\n" + s.console());
        assertEquals("135", probe(s, "unclaimed", "ldp").get("rc"), "ldp from unclaimed space: SIGBUS\n" + s.console());
        assertEquals("0", probe(s, "unclaimed", "ldr").get("rc"), s.console());
        assertTrue(s.console().contains("JVMM-HARD probes-done"), s.console());
        assertTrue(s.console().contains("JVMM-GUEST done"), s.console());
        Map<String, String> stats = EmulatedAarch64Host.fields(s.lines("jvmm-stats").stream()
                .filter(l -> l.startsWith("setup-ms="))
                .findFirst()
                .orElseThrow());
        assertEquals("2", stats.get("external-aborts"), "one abort per ldp: " + stats);
    }

    @Test
    void aConsoleNobodyReadsDoesNotStopTheGuestFromPoweringOff() {
        EmulatedAarch64Host.Section s = result.section("stall-poweroff");
        assertEquals(
                0, s.status(), "powered off although stdout never drained (124 = hung until timeout):\n" + s.console());
        assertTrue(
                s.console()
                        .lines()
                        .anyMatch(l -> l.matches(
                                "jvmm: \\d+ bytes of guest console output were dropped:" + " stdout did not keep up")),
                s.console());
    }

    @Test
    void aConsoleNobodyReadsDoesNotDelaySigterm() {
        EmulatedAarch64Host.Section s = result.section("stall-sigterm");
        assertEquals(ExitStatus.STOPPED.code(), s.status(), s.console());
        int seconds = Integer.parseInt(
                EmulatedAarch64Host.fields(s.lines("JVMM-HOST").getFirst()).get("sigterm-to-exit-s"));
        // The signal hook gives up on a stuck teardown after 10 s; the run must end well before that on its own.
        assertTrue(seconds < 8, "SIGTERM to exit took " + seconds + " s:\n" + s.console());
    }

    @Test
    void printingThePanicLineAndRebootingIsAResetNotACrash() {
        EmulatedAarch64Host.Section s = result.section("fake-panic");
        assertTrue(s.console().contains("Kernel panic - not syncing: printed by a guest user"), s.console());
        assertEquals(ExitStatus.GUEST_RESET.code(), s.status(), s.console());
    }

    @Test
    void aPanicReportedThroughPvpanicIsACrashAtOnce() {
        EmulatedAarch64Host.Section s = result.section("pvpanic");
        Map<String, String> dev =
                EmulatedAarch64Host.fields(s.lines("JVMM-HARD pvpanic").getFirst());
        assertEquals("qemu,pvpanic-mmio", dev.get("compatible"), "the device tree describes it:\n" + s.console());
        assertEquals("0x03", dev.get("offered"), "PANICKED | CRASH_LOADED, as Linux's driver reads them");
        assertEquals(ExitStatus.GUEST_PANIC.code(), s.status(), s.console());
        assertTrue(
                s.console().contains("jvmm: the guest crashed: the guest kernel reported a panic (pvpanic)"),
                s.console());
        assertTrue(!s.console().contains("JVMM-HARD pvpanic-ignored"), "the run ended at the write:\n" + s.console());
    }

    @Test
    void aSignalDuringSetUpExits5() {
        EmulatedAarch64Host.Section s = result.section("sigterm-setup");
        assertEquals(ExitStatus.STOPPED.code(), s.status(), "not 143 (the JVM's default for SIGTERM):\n" + s.console());
        assertTrue(s.console().contains("jvmm: stopped by a signal during set-up"), s.console());
    }

    @Test
    void guestMemoryBeyondWhatTheHostCanGiveIsOneLineAndStatus2() {
        EmulatedAarch64Host.Section s = result.section("too-much-memory");
        assertEquals(ExitStatus.USAGE.code(), s.status(), s.console());
        assertTrue(
                s.console()
                        .lines()
                        .anyMatch(l -> l.startsWith(
                                "jvmm: guest memory of 512.0 GiB is more than this" + " host can give: it has ")),
                s.console());
    }
}
