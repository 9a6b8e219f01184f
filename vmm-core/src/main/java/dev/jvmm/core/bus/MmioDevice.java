package dev.jvmm.core.bus;

/**
 * A device region on the MMIO (or port I/O) bus. Offsets are relative to the start of the region the device
 * was registered at; sizes are 1, 2, 4 or 8 bytes; values are little-endian and zero-extended.
 *
 * <p>Called from vCPU threads, possibly several at once: implementations synchronize their own state. A
 * guest access the device does not understand is answered (reads: a value, usually 0 or all ones), logged at
 * most rate-limited, and never thrown: a guest must not be able to stop the VM through a device.
 */
public interface MmioDevice {
    long read(long offset, int size);

    void write(long offset, int size, long value);
}
