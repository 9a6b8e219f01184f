package dev.jvmm.pcie.config;

import dev.jvmm.pcie.util.Sizes;

/**
 * What a function asks for in one Base Address Register: the kind of space and its size (PCIe Base 6.0
 * §7.5.1.2.1). The guest learns the size by writing all ones and reading back; the bits below the size are
 * hardwired to 0, so the size must be a power of two.
 *
 * <p>Rules checked here, at build time (a bad definition is a VMM bug, so it throws):
 * memory BARs are at least 128 bytes (§1.3.2.2), a prefetchable BAR of a PCI Express endpoint is 64-bit
 * (§1.3.2.2), a 32-bit BAR is at most 2 GiB, and an I/O BAR is 4 to 256 bytes (PCI Local Bus 3.0 §6.2.5.1).
 *
 * @param kind         memory (32 or 64-bit) or I/O
 * @param size         bytes, a power of two
 * @param prefetchable memory only; reads have no side effects
 */
public record BarDefinition(Kind kind, long size, boolean prefetchable) {
    public enum Kind {
        MEMORY_32,
        MEMORY_64,
        IO;

        public boolean isMemory() {
            return this != IO;
        }
    }

    public static final long MIN_MEMORY_SIZE = 128;
    public static final long MAX_MEMORY_32_SIZE = 1L << 31;
    public static final long MIN_IO_SIZE = 4;
    public static final long MAX_IO_SIZE = 256;

    public BarDefinition {
        if (kind == null) {
            throw new IllegalArgumentException("BAR kind is null");
        }
        if (!Sizes.isPowerOfTwo(size)) {
            throw new IllegalArgumentException("BAR size " + size + " is not a power of two");
        }
        switch (kind) {
            case MEMORY_32 -> {
                if (size < MIN_MEMORY_SIZE || size > MAX_MEMORY_32_SIZE) {
                    throw new IllegalArgumentException(
                            "32-bit memory BAR size " + size + " out of range 128 B - 2 GiB");
                }
                if (prefetchable) {
                    throw new IllegalArgumentException("a prefetchable BAR of a PCI Express endpoint must be 64-bit");
                }
            }
            case MEMORY_64 -> {
                if (size < MIN_MEMORY_SIZE) {
                    throw new IllegalArgumentException("64-bit memory BAR size " + size + " below 128 bytes");
                }
            }
            case IO -> {
                if (size < MIN_IO_SIZE || size > MAX_IO_SIZE) {
                    throw new IllegalArgumentException("I/O BAR size " + size + " out of range 4-256 bytes");
                }
                if (prefetchable) {
                    throw new IllegalArgumentException("an I/O BAR cannot be prefetchable");
                }
            }
        }
    }

    public static BarDefinition memory32(long size) {
        return new BarDefinition(Kind.MEMORY_32, size, false);
    }

    public static BarDefinition memory64(long size, boolean prefetchable) {
        return new BarDefinition(Kind.MEMORY_64, size, prefetchable);
    }

    public static BarDefinition io(long size) {
        return new BarDefinition(Kind.IO, size, false);
    }
}
