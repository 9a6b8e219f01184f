package dev.jvmm.pcie.util;

/**
 * The one place for byte-size arithmetic: units, power-of-two checks, alignment, access-size masks and size text.
 *
 * <p>It lives in vmm-pcie, which depends on nothing of ours, because the PCIe model needs it too (an access that
 * reaches nothing reads all ones of its size; BAR sizes and MSI vector counts are powers of two); vmm-core, which
 * depends on vmm-pcie, uses the same class for its memory map, boot layout, buses and devices. vmm-pcie's
 * module-info exports this package to vmm-core only: it is shared plumbing, not part of the PCIe model's API.
 */
public final class Sizes {
    public static final long KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;

    private Sizes() {}

    /** Whether {@code value} is a power of two (1, 2, 4, ...); false for 0 and negative values. */
    public static boolean isPowerOfTwo(long value) {
        return value > 0 && (value & (value - 1)) == 0;
    }

    /**
     * {@code value} rounded up to a multiple of {@code alignment}, which must be a power of two (every caller passes
     * a constant or a power of two it computed). Wraps around for values within {@code alignment} of 2^63.
     */
    public static long alignUp(long value, long alignment) {
        return (value + alignment - 1) & -alignment;
    }

    /** {@code value} rounded down to a multiple of {@code alignment}, which must be a power of two. */
    public static long alignDown(long value, long alignment) {
        return value & -alignment;
    }

    /**
     * All ones in the low {@code size} bytes (size 1..8): the mask that truncates a value to an access of that width,
     * and the value of a read that reaches nothing. 0 for {@code size <= 0}; -1 from 8 bytes up.
     */
    public static long sizeMask(int size) {
        return size <= 0 ? 0 : size >= 8 ? -1L : (1L << (8 * size)) - 1;
    }

    /**
     * {@code bytes} in the largest binary unit that divides it, for messages and tables: "64 MiB", "4 KiB", "100 B".
     * (The CLI's own size syntax, "64M", is MemorySize's: it echoes what a user types.)
     */
    public static String format(long bytes) {
        if (bytes % GiB == 0) return bytes / GiB + " GiB";
        if (bytes % MiB == 0) return bytes / MiB + " MiB";
        if (bytes % KiB == 0) return bytes / KiB + " KiB";
        return bytes + " B";
    }
}
