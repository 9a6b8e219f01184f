package dev.jvmm.core.devices.serial;

import java.io.IOException;

/**
 * Where a UART's transmitted bytes go. Called on vCPU threads, one byte per guest write; implementations decide
 * about buffering. A failing sink is the host's problem, never the guest's: the UART logs and drops the byte.
 */
@FunctionalInterface
public interface ConsoleOutput {
    void write(int b) throws IOException;

    /** Drops everything. */
    ConsoleOutput DISCARD = b -> {};
}
