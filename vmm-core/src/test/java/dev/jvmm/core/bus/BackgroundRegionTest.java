package dev.jvmm.core.bus;

import static org.junit.jupiter.api.Assertions.*;

import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BackgroundRegionTest {
    @ParameterizedTest(name = "size {0}")
    @CsvSource({"1, 0xff", "2, 0xffff", "4, 0xffffffff", "8, 0xffffffffffffffff"})
    void readsAllOnesOfTheAccessSize(int size, String expected) {
        long want = Long.parseUnsignedLong(expected.substring(2), 16);
        assertEquals(want, new BackgroundRegion().read(0x123, size));
    }

    @Test
    void customConstantIsTruncatedToTheAccessSizeAndWritesAreIgnored() {
        Bus bus = new Bus("mmio");
        BackgroundRegion.map(bus, "zeros-ish", new AddressRange(0x4000, 0x1000), 0xa5a5_5a5aL);
        assertEquals(OptionalLong.of(0x5a), bus.read(0x4000, 1));
        assertEquals(OptionalLong.of(0xa5a5_5a5aL), bus.read(0x4ffc, 4));
        assertTrue(bus.write(0x4000, 4, 0), "a background decodes the write (and drops it)");
        assertEquals(OptionalLong.of(0xa5a5_5a5aL), bus.read(0x4000, 4));
        assertEquals(Bus.PRIORITY_BACKGROUND, bus.regionAt(0x4000).priority());
    }
}
