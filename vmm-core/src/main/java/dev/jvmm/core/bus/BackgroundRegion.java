package dev.jvmm.core.bus;

import dev.jvmm.pcie.util.Sizes;

/**
 * A region that answers every read with a constant and ignores every write: what a guest sees where nothing
 * decodes an address. PCIe Base 6.0 §2.3.2 has an Unsupported Request to a read complete as all ones on the
 * CPU side (the "master abort" value), which is the default here; a guest probing the space under a PCIe
 * window, an empty ECAM slot or an unassigned platform address then reads ~0 instead of taking an abort.
 *
 * <p>The constant is answered per access size: a 2-byte read of the all-ones background returns 0xffff.
 * Register it at {@link Bus#PRIORITY_BACKGROUND} (see {@link #map}) so that devices mapped at higher
 * priorities show through it.
 */
public final class BackgroundRegion implements MmioDevice {
    /** The default read value: all ones at any access size. */
    public static final long ALL_ONES = -1L;

    private final long value;

    /** A background reading all ones. */
    public BackgroundRegion() {
        this(ALL_ONES);
    }

    /** A background reading {@code value}, truncated to the access size. */
    public BackgroundRegion(long value) {
        this.value = value;
    }

    /** Registers a new background reading {@code value} at {@code range} on {@code bus}, below all devices. */
    public static Bus.Region map(Bus bus, String name, AddressRange range, long value) {
        return bus.register(name, range, Bus.PRIORITY_BACKGROUND, new BackgroundRegion(value));
    }

    /** Registers an all-ones background at {@code range} on {@code bus}, below all devices. */
    public static Bus.Region map(Bus bus, String name, AddressRange range) {
        return map(bus, name, range, ALL_ONES);
    }

    public long value() {
        return value;
    }

    @Override
    public long read(long offset, int size) {
        return value & Sizes.sizeMask(size);
    }

    @Override
    public void write(long offset, int size, long value) {
        // Writes to an undecoded address are dropped (PCIe Base 6.0 §2.3.2: a posted UR write has no effect).
    }
}
