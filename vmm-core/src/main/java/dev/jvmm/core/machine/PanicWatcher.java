package dev.jvmm.core.machine;

import dev.jvmm.core.devices.serial.ConsoleOutput;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Watches the console for Linux's panic line ("Kernel panic - not syncing: ..."), passing every byte through.
 *
 * <p>Why: on arm64 a panicking Linux with {@code panic=N} restarts through PSCI SYSTEM_RESET, the same call a
 * {@code reboot} makes, and the Debian cloud kernel has no pvpanic driver. The console is the one place where the
 * two differ, so jvmm remembers the panic line and reports the reset that follows as a crash.
 */
final class PanicWatcher implements ConsoleOutput {
    private static final byte[] MARKER = "Kernel panic - not syncing".getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_LINE = 512;

    private final ConsoleOutput next;
    private final byte[] line = new byte[MAX_LINE];
    private int length;
    private volatile String panicLine;

    PanicWatcher(ConsoleOutput next) { this.next = next; }

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
        if (panicLine != null || length < MARKER.length) return;
        outer:
        for (int i = 0; i + MARKER.length <= length; i++) {
            for (int j = 0; j < MARKER.length; j++) if (line[i + j] != MARKER[j]) continue outer;
            panicLine = new String(line, i, length - i, StandardCharsets.UTF_8).strip();
            return;
        }
    }

    /** The first panic line seen, if any. */
    Optional<String> panic() { return Optional.ofNullable(panicLine); }
}
