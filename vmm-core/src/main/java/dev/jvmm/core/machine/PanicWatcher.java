package dev.jvmm.core.machine;

import dev.jvmm.core.devices.serial.ConsoleOutput;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Watches the console for Linux's panic line ("Kernel panic - not syncing: ..."), passing every byte through, and
 * decides whether the guest's next reset is a crash.
 *
 * <p>Why the console: on arm64 a panicking Linux with {@code panic=N} restarts through PSCI SYSTEM_RESET, the same
 * call a {@code reboot} makes (drivers/firmware/psci, kernel/panic.c emergency_restart()), and the Debian cloud
 * kernel has no pvpanic driver, so KVM and jvmm see the same thing either way.
 *
 * <p>Why not the console text alone: anybody in the guest can print the marker. What a guest cannot print away is
 * what the kernel itself prints on an orderly restart: kernel_restart() (kernel/reboot.c) logs
 * {@code "reboot: Restarting system"} at KERN_EMERG, which reaches the console at every log level but 0, right
 * before it calls PSCI; a panic restarts through emergency_restart(), which prints nothing. So a reset is a crash
 * only when a panic line was seen and the kernel's orderly-restart line did not follow it: a user who prints the
 * marker and then reboots gets a reset, a panic after that still counts. (A guest that runs {@code loglevel=0}
 * prints neither line, and its panics are resets.)
 */
final class PanicWatcher implements ConsoleOutput {
    private static final byte[] MARKER = "Kernel panic - not syncing".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] ORDERLY_RESTART = "reboot: Restarting system".getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_LINE = 512;

    private final ConsoleOutput next;
    private final byte[] line = new byte[MAX_LINE];
    private int length;
    private volatile String panicLine;
    private volatile boolean restartedInOrder;

    PanicWatcher(ConsoleOutput next) {
        this.next = next;
    }

    @Override
    public synchronized void write(int b) throws IOException {
        try {
            next.write(b);
        } finally {
            if (b == '\n' || b == '\r') {
                checkLine();
                length = 0;
            } else if (length < MAX_LINE) {
                line[length++] = (byte) b;
            }
        }
    }

    private void checkLine() {
        int at = indexOf(MARKER);
        if (at >= 0) {
            panicLine = new String(line, at, length - at, StandardCharsets.UTF_8).strip();
            restartedInOrder = false;
        } else if (panicLine != null && indexOf(ORDERLY_RESTART) >= 0) {
            restartedInOrder = true;
        }
    }

    private int indexOf(byte[] text) {
        outer:
        for (int i = 0; i + text.length <= length; i++) {
            for (int j = 0; j < text.length; j++) if (line[i + j] != text[j]) continue outer;
            return i;
        }
        return -1;
    }

    /** The panic line that makes the next reset a crash, if any. */
    Optional<String> panic() {
        return restartedInOrder ? Optional.empty() : Optional.ofNullable(panicLine);
    }
}
