package dev.jvmm.core.bus;

/**
 * A range of guest physical addresses [base, base + size), compared as unsigned 64-bit numbers: where a region
 * sits on the {@link Bus}, a block of the memory map (RAM, GIC frames, PCIe windows), a BAR's CPU address range.
 * Not to be confused with a PCI bus-number range ({@code dev.jvmm.pcie.BusNumberRange}).
 *
 * <p>Validated on construction: size must be positive and the range must not wrap past 2^64 (so the very last
 * byte of the 64-bit space cannot be mapped, which costs nothing: the largest aarch64 IPA is 52 bits).
 */
public record AddressRange(long base, long size) {
    public AddressRange {
        if (size <= 0) {
            throw new IllegalArgumentException(
                    "address range at 0x%x: size 0x%x must be positive".formatted(base, size));
        }
        if (Long.compareUnsigned(base + size, base) <= 0) {
            throw new IllegalArgumentException("address range 0x%x+0x%x wraps the address space".formatted(base, size));
        }
    }

    /** The range [base, end) given by its exclusive end. */
    public static AddressRange ofEnd(long base, long end) {
        return new AddressRange(base, end - base);
    }

    /** One past the last address (exclusive end). Never wraps. */
    public long end() {
        return base + size;
    }

    /** The last address in the range (inclusive). */
    public long last() {
        return base + size - 1;
    }

    public boolean contains(long address) {
        return Long.compareUnsigned(address, base) >= 0 && Long.compareUnsigned(address, end()) < 0;
    }

    /** True when all of [address, address + length) lies in this range; false for a non-positive length. */
    public boolean contains(long address, long length) {
        if (length <= 0 || !contains(address)) return false;
        return Long.compareUnsigned(length, end() - address) <= 0;
    }

    public boolean contains(AddressRange other) {
        return contains(other.base, other.size);
    }

    public boolean overlaps(AddressRange other) {
        return Long.compareUnsigned(base, other.end()) < 0 && Long.compareUnsigned(other.base, end()) < 0;
    }

    @Override
    public String toString() {
        return "[0x%x, 0x%x)".formatted(base, end());
    }
}
