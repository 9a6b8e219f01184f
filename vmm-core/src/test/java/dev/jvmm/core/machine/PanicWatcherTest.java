package dev.jvmm.core.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PanicWatcherTest {
    private final ByteArrayOutputStream seen = new ByteArrayOutputStream();
    private final PanicWatcher watcher = new PanicWatcher(seen::write);

    private void print(String text) throws Exception {
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) watcher.write(b & 0xff);
    }

    @Test
    void aKernelPanicMakesTheResetACrashAndEveryBytePassesThrough() throws Exception {
        String boot = "[    1.0] Run /init\r\n[    2.5] Kernel panic - not syncing: sysrq triggered crash\r\n"
                + "[    2.5] Rebooting in 1 seconds..\r\n";
        print(boot);
        assertEquals(Optional.of("Kernel panic - not syncing: sysrq triggered crash"), watcher.panic());
        assertEquals(boot, seen.toString(StandardCharsets.UTF_8));
    }

    @Test
    void printingTheMarkerAndThenRebootingIsAReset() throws Exception {
        print("Kernel panic - not syncing: just kidding\n");
        print("[   10.1] reboot: Restarting system\r\n");
        assertEquals(Optional.empty(), watcher.panic());
    }

    @Test
    void aRealPanicAfterASpoofedOneStillCounts() throws Exception {
        print("Kernel panic - not syncing: just kidding\nreboot: Restarting system\n");
        print("[   20.0] Kernel panic - not syncing: Attempted to kill init!\n");
        assertEquals(Optional.of("Kernel panic - not syncing: Attempted to kill init!"), watcher.panic());
    }

    @Test
    void theRestartLineAloneOrAnOrdinaryBootIsNoPanic() throws Exception {
        print("[    0.0] Booting Linux on physical CPU 0x0\nreboot: Restarting system\n");
        assertEquals(Optional.empty(), watcher.panic());
    }

    @Test
    void aMarkerInAnOverlongLineIsStillFoundWithinTheFirst512Bytes() throws Exception {
        print("x".repeat(100) + "Kernel panic - not syncing: late" + "y".repeat(1000) + "\n");
        assertEquals(true, watcher.panic().isPresent());
    }
}
