package dev.jvmm.core.devices.pvpanic;

import dev.jvmm.core.bus.MmioDevice;
import java.util.Objects;

/**
 * The pvpanic device, MMIO flavour ({@code compatible = "qemu,pvpanic-mmio"}; QEMU's docs/specs/pvpanic.rst): one
 * byte register at offset 0. Reading it gives the events the device supports; the guest kernel's panic notifier
 * (drivers/misc/pvpanic) writes {@link #PANICKED} when the kernel panics, and {@link #CRASH_LOADED} when a kdump
 * kernel takes over after a crash. This is how a guest kernel tells the VMM it crashed without any console text:
 * the notifier runs inside panic() itself, before any restart, so a guest user cannot forge it short of writing the
 * register as root.
 *
 * <p>Only byte 0 is the register (the spec's one-byte port); other offsets read 0 and ignore writes, as do event
 * bits jvmm does not offer. Thread-safe: it only forwards to the listener.
 */
public final class PvPanic implements MmioDevice {
    /** The guest kernel panicked (bit 0). */
    public static final int PANICKED = 1;
    /** The guest is running its crash (kdump) kernel (bit 1). */
    public static final int CRASH_LOADED = 1 << 1;
    /** What jvmm offers; Linux's driver only uses the events the device reports here. */
    public static final int SUPPORTED = PANICKED | CRASH_LOADED;

    /** Hears the guest's reports. */
    public interface Listener {
        /** The guest kernel panicked. */
        void panicked();

        /** A crash kernel was loaded and runs (the guest will dump and restart on its own). */
        void crashLoaded();
    }

    private final Listener listener;

    public PvPanic(Listener listener) {
        this.listener = Objects.requireNonNull(listener);
    }

    @Override
    public long read(long offset, int size) {
        return offset == 0 ? SUPPORTED : 0;
    }

    @Override
    public void write(long offset, int size, long value) {
        if (offset != 0) return;
        int events = (int) value & SUPPORTED;
        if ((events & PANICKED) != 0) listener.panicked();
        if ((events & CRASH_LOADED) != 0) listener.crashLoaded();
    }
}
