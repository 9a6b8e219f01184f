package dev.jvmm.pcie.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * BAR sizing and decoding, PCIe Base 6.0 §7.5.1.2.1: software writes all ones, reads back, clears the type
 * bits and the two's complement of the rest is the size.
 */
class BaseAddressRegistersTest {

    private static ConfigSpace withBars(BarDefinition... defs) {
        ConfigSpace cs = new ConfigSpace();
        new Type0Header(0x1234, 0x5678, 0xFF0000, 0, 0, 0, 0).install(cs);
        BarDefinition[] six = new BarDefinition[6];
        System.arraycopy(defs, 0, six, 0, defs.length);
        new BaseAddressRegisters(cs, six);
        return cs;
    }

    /** 32-bit memory BAR: type bits 00b, size = ~(readback & ~0xF) + 1. */
    @ParameterizedTest(name = "size 0x{0}")
    @ValueSource(longs = {0x80, 0x1000, 0x10_0000, 0x8000_0000L})
    void sizing32BitMemoryBar(long size) {
        ConfigSpace cs = withBars(BarDefinition.memory32(size));
        assertEquals(0, cs.read(0x10, 4), "a 32-bit non-prefetchable BAR resets to address 0, type 0");
        cs.write(0x10, 4, 0xFFFF_FFFF);
        int readback = cs.read(0x10, 4);
        assertEquals(0, readback & 0xF, "memory space, 32-bit, not prefetchable");
        assertEquals(size, Integer.toUnsignedLong(~(readback & ~0xF)) + 1);
    }

    /** 64-bit BAR: type bits 10b, the next BAR holds address bits 63:32 and sizes with it. */
    @ParameterizedTest(name = "size 0x{0}")
    @ValueSource(longs = {0x4000, 0x1_0000_0000L, 0x40_0000_0000L})
    void sizing64BitMemoryBar(long size) {
        ConfigSpace cs = withBars(BarDefinition.memory64(size, true));
        cs.write(0x10, 4, 0xFFFF_FFFF);
        cs.write(0x14, 4, 0xFFFF_FFFF);
        long low = Integer.toUnsignedLong(cs.read(0x10, 4));
        long high = Integer.toUnsignedLong(cs.read(0x14, 4));
        assertEquals(0b1100, low & 0xF, "prefetchable (bit 3), 64-bit (bits 2:1 = 10b), memory (bit 0 = 0)");
        long mask = high << 32 | (low & ~0xFL);
        assertEquals(size, ~mask + 1);
    }

    /** I/O BAR: bit 0 = 1, bit 1 reserved 0, address from bit 2. */
    @Test
    void sizingIoBar() {
        ConfigSpace cs = withBars(BarDefinition.io(0x20));
        assertEquals(1, cs.read(0x10, 4));
        cs.write(0x10, 4, 0xFFFF_FFFF);
        int readback = cs.read(0x10, 4);
        assertEquals(1, readback & 0x3);
        assertEquals(0x20, ~(readback & ~0x3) + 1);
    }

    /** Unimplemented BARs are hardwired to 0, which is how software tells them apart (§7.5.1.2.1). */
    @Test
    void unimplementedBarsReadZeroAfterSizing() {
        ConfigSpace cs = withBars(BarDefinition.memory32(0x1000));
        for (int offset = 0x14; offset <= 0x24; offset += 4) {
            cs.write(offset, 4, 0xFFFF_FFFF);
            assertEquals(0, cs.read(offset, 4), "BAR at 0x" + Integer.toHexString(offset));
        }
    }

    /** The programmed address reads back with the type bits, and low address bits below the size stay 0. */
    @Test
    void programmedAddressReadsBack() {
        ConfigSpace cs = withBars(null, null, BarDefinition.memory64(0x1_0000, false));
        cs.write(0x18, 4, 0xFEDC_BA98);
        cs.write(0x1C, 4, 0x0000_0080);
        assertEquals(0xFEDC_0004, cs.read(0x18, 4), "bits 15:4 are below the 64 KiB size");
        assertEquals(0x80, cs.read(0x1C, 4));
    }

    record Change(int bar, OptionalLong before, OptionalLong after) {}

    /** A BAR decodes only while its space is enabled in Command (§7.5.1.1.3); the listener follows. */
    @Test
    void listenerLearnsRelocationsAndDecodeChanges() {
        ConfigSpace cs = new ConfigSpace();
        new Type0Header(0x1234, 0x5678, 0xFF0000, 0, 0, 0, 0).install(cs);
        BaseAddressRegisters bars = new BaseAddressRegisters(cs, new BarDefinition[] {
            BarDefinition.memory64(0x4000, false), null, BarDefinition.io(0x10), null, null, null
        });
        List<Change> changes = new ArrayList<>();
        bars.setListener((bar, def, before, after) -> changes.add(new Change(bar, before, after)));

        cs.write(0x10, 4, 0x1000_0000);
        cs.write(0x14, 4, 0x0000_0001);
        assertEquals(List.of(), changes, "no decode without Memory Space Enable");
        assertEquals(0x1_1000_0000L, bars.programmedAddress(0));

        cs.write(0x04, 2, 0x0002);
        assertEquals(List.of(new Change(0, OptionalLong.empty(), OptionalLong.of(0x1_1000_0000L))), changes);

        changes.clear();
        cs.write(0x10, 4, 0x2000_0000);
        assertEquals(List.of(new Change(0, OptionalLong.of(0x1_1000_0000L), OptionalLong.of(0x1_2000_0000L))), changes);
        assertEquals(0, bars.barAt(0x1_2000_3FFFL));
        assertEquals(-1, bars.barAt(0x1_2000_4000L));

        changes.clear();
        cs.write(0x18, 4, 0x0000_1000);
        cs.write(0x04, 2, 0x0001);
        assertEquals(
                List.of(
                        new Change(0, OptionalLong.of(0x1_2000_0000L), OptionalLong.empty()),
                        new Change(2, OptionalLong.empty(), OptionalLong.of(0x1000))),
                changes);
    }

    @Test
    void badLayoutsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> BarDefinition.memory32(0x1800));
        assertThrows(
                IllegalArgumentException.class,
                () -> BarDefinition.memory32(64),
                "below the 128-byte minimum of §1.3.2.2");
        assertThrows(
                IllegalArgumentException.class,
                () -> new BarDefinition(BarDefinition.Kind.MEMORY_32, 0x1000, true),
                "prefetchable endpoint BARs are 64-bit (§1.3.2.2)");
        assertThrows(IllegalArgumentException.class, () -> BarDefinition.io(512));
        assertThrows(
                IllegalArgumentException.class,
                () -> withBars(null, null, null, null, null, BarDefinition.memory64(0x1000, false)));
        assertThrows(
                IllegalArgumentException.class,
                () -> withBars(BarDefinition.memory64(0x1000, false), BarDefinition.memory32(0x1000)));
    }
}
