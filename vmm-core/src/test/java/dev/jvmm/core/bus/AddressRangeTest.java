package dev.jvmm.core.bus;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AddressRangeTest {
    @ParameterizedTest(name = "base {0} size {1}")
    @CsvSource({
        "0x0, 0x0", // empty
        "0x1000, -1", // negative size
        "0xfffffffffffff000, 0x1000", // ends exactly at 2^64: wraps to 0
        "0xfffffffffffff000, 0x2000", // wraps past 2^64
    })
    void rejectsEmptyNegativeAndWrappingRanges(String base, String size) {
        long b = Long.parseUnsignedLong(base.substring(2), 16);
        long s = size.startsWith("0x") ? Long.parseUnsignedLong(size.substring(2), 16) : Long.parseLong(size);
        assertThrows(IllegalArgumentException.class, () -> new AddressRange(b, s));
    }

    @Test
    void containsIsUnsignedAndHalfOpen() {
        AddressRange high = new AddressRange(0x8000_0000_0000_0000L, 0x1000);
        assertTrue(high.contains(0x8000_0000_0000_0000L));
        assertTrue(high.contains(0x8000_0000_0000_0fffL));
        assertFalse(high.contains(0x8000_0000_0000_1000L));
        assertFalse(high.contains(0x7fff_ffff_ffff_ffffL));
        assertFalse(high.contains(0));
        assertTrue(high.contains(0x8000_0000_0000_0ff8L, 8));
        assertFalse(high.contains(0x8000_0000_0000_0ffcL, 8));
        assertFalse(high.contains(0x8000_0000_0000_0000L, 0));
        assertEquals(0x8000_0000_0000_0fffL, high.last());
    }

    @Test
    void overlapIsSymmetricAndExcludesTouchingRanges() {
        AddressRange a = new AddressRange(0x1000, 0x1000);
        AddressRange touching = new AddressRange(0x2000, 0x1000);
        AddressRange straddling = new AddressRange(0x1fff, 2);
        assertFalse(a.overlaps(touching));
        assertFalse(touching.overlaps(a));
        assertTrue(a.overlaps(straddling));
        assertTrue(touching.overlaps(straddling));
        assertTrue(new AddressRange(0, 0x10000).contains(a));
        assertFalse(a.contains(new AddressRange(0, 0x10000)));
    }

    @Test
    void mayEndJustBelowTopOfAddressSpace() {
        AddressRange top = new AddressRange(0xffff_ffff_ffff_f000L, 0xfff);
        assertEquals(0xffff_ffff_ffff_ffffL, top.end());
        assertTrue(top.contains(0xffff_ffff_ffff_fffeL));
    }
}
