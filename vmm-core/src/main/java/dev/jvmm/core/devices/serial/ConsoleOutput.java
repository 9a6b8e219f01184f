package dev.jvmm.core.devices.serial;

import java.io.IOException;
import java.io.OutputStream;

/**
 * Where a UART's transmitted bytes go. Called on vCPU threads, one byte per guest write; implementations decide
 * about buffering. A failing sink is the host's problem, never the guest's: the UART logs and drops the byte.
 */
@FunctionalInterface
public interface ConsoleOutput {
    void write(int b) throws IOException;

    /** Drops everything. */
    ConsoleOutput DISCARD = b -> {};

    /**
     * Writes to a stream and flushes after every byte: a console must show a prompt that has no newline, and a
     * guest that transmits at all pays a VM exit per byte anyway.
     */
    static ConsoleOutput of(OutputStream out) {
        return b -> {
            out.write(b);
            out.flush();
        };
    }
}
