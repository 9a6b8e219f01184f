package dev.jvmm.pcie;

/**
 * A device's own registers behind its BARs (the MSI-X table and PBA are served before this is asked).
 * Offsets are relative to the BAR and already checked to lie inside it; sizes are what the guest used.
 */
public interface BarHandler {
    long read(int bar, long offset, int size);

    void write(int bar, long offset, int size, long value);

    /** Reset of the device state behind the registers. */
    default void reset() {}

    /** No device registers: reads return 0, writes are ignored (reserved space). */
    BarHandler NONE = new BarHandler() {
        @Override
        public long read(int bar, long offset, int size) {
            return 0;
        }

        @Override
        public void write(int bar, long offset, int size, long value) {}
    };
}
