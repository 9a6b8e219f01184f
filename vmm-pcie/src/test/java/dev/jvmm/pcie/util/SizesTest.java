package dev.jvmm.pcie.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SizesTest {
    @Test
    void powersOfTwo() {
        for (int bit = 0; bit < 63; bit++) assertTrue(Sizes.isPowerOfTwo(1L << bit), "2^" + bit);
        for (long v : new long[] {0, 3, 6, 0x1001, -1, -2, Long.MIN_VALUE, Integer.MIN_VALUE}) {
            assertFalse(Sizes.isPowerOfTwo(v), Long.toString(v));
        }
    }

    @Test
    void alignment() {
        assertEquals(0, Sizes.alignUp(0, 0x1000));
        assertEquals(0x1000, Sizes.alignUp(1, 0x1000));
        assertEquals(0x1000, Sizes.alignUp(0x1000, 0x1000));
        assertEquals(0x2000, Sizes.alignUp(0x1001, 0x1000));
        assertEquals(0x1_4000_0000L, Sizes.alignUp(0x1_0000_0001L, Sizes.GiB));
        assertEquals(0x1000, Sizes.alignDown(0x1fff, 0x1000));
        assertEquals(0x2000, Sizes.alignDown(0x2000, 0x1000));
        assertEquals(0, Sizes.alignDown(0xfff, 0x1000));
    }

    @Test
    void accessSizeMasks() {
        assertEquals(0xffL, Sizes.sizeMask(1));
        assertEquals(0xffffL, Sizes.sizeMask(2));
        assertEquals(0xff_ffffL, Sizes.sizeMask(3));
        assertEquals(0xffff_ffffL, Sizes.sizeMask(4));
        assertEquals(-1L, Sizes.sizeMask(8));
        assertEquals(-1L, Sizes.sizeMask(16));
        assertEquals(0, Sizes.sizeMask(0));
        assertEquals(0, Sizes.sizeMask(-4));
    }

    @Test
    void text() {
        assertEquals("64 MiB", Sizes.format(64 * Sizes.MiB));
        assertEquals("4 KiB", Sizes.format(4 * Sizes.KiB));
        assertEquals("512 GiB", Sizes.format(512 * Sizes.GiB));
        assertEquals("1536 KiB", Sizes.format(1536 * Sizes.KiB));
        assertEquals("100 B", Sizes.format(100));
    }
}
