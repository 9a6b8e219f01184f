package dev.jvmm.pcie.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jvmm.pcie.util.Sizes;

/** Register attribute checks shared by the header and capability tests. */
final class Registers {
    private Registers() {}

    /**
     * Writes zeros to the register of {@code size} bytes at {@code offset}, expects {@code afterZeros}, then writes
     * all ones and expects {@code afterOnes}: together they show its RW bits and the values of its RO bits.
     */
    static void assertAfterZerosAndOnes(ConfigSpace cs, int offset, int size, long afterZeros, long afterOnes) {
        String where = "register 0x%02X (%d bytes)".formatted(offset, size);
        cs.write(offset, size, 0);
        assertEquals(afterZeros, Integer.toUnsignedLong(cs.read(offset, size)), where + " after writing zeros");
        cs.write(offset, size, (int) Sizes.sizeMask(size));
        assertEquals(afterOnes, Integer.toUnsignedLong(cs.read(offset, size)), where + " after writing all ones");
    }
}
