package dev.jvmm.pcie.config;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Register attributes of PCIe Base 6.0 §7.4 (Table 7-2) and the access rules of §7.2.2 / §7.3.3. */
class ConfigSpaceTest {
    private final ConfigSpace cs = new ConfigSpace();

    /** §7.4: RW bits take the written value, RO bits keep theirs, whatever is written. */
    @Test
    void rwBitsTakeTheWrittenValueAndRoBitsKeepTheirs() {
        cs.define(0x40, 2, 0xA5A5, 0x0FF0, 0);
        cs.write(0x40, 2, 0x5A5A);
        // bits 11:4 from the write (0x5A5A & 0x0FF0 = 0x0A50), the rest from the initial value (0xA5A5 & 0xF00F)
        assertEquals(0xAA55, cs.read(0x40, 2));
        cs.write(0x40, 2, 0);
        assertEquals(0xA005, cs.read(0x40, 2));
    }

    /** §7.4 RW1C: "A Set bit ... is Cleared by writing a 1b. Writing a 0b to RW1C bits has no effect." */
    @Test
    void rw1cBitsClearOnlyWhereOneIsWritten() {
        cs.define(0x50, 2, 0, 0, 0xF000);
        cs.set(0x50, 2, 0xF000);
        cs.write(0x50, 2, 0x0000);
        assertEquals(0xF000, cs.read(0x50, 2), "writing 0 leaves RW1C bits set");
        cs.write(0x50, 2, 0x5000);
        assertEquals(0xA000, cs.read(0x50, 2), "writing 1 clears exactly those bits");
        cs.write(0x50, 2, 0xFFFF);
        assertEquals(0x0000, cs.read(0x50, 2));
        cs.write(0x50, 2, 0xFFFF);
        assertEquals(0x0000, cs.read(0x50, 2), "writing 1 never sets an RW1C bit");
    }

    /** §7.4: a byte write touches only its byte; RW and RW1C may share a register. */
    @Test
    void partialWritesAffectOnlyTheWrittenBytes() {
        cs.define(0x60, 4, 0x1122_3344L, 0xFFFF_FFFFL, 0);
        cs.write(0x61, 1, 0xAB);
        assertEquals(0x1122_AB44, cs.read(0x60, 4));
        cs.write(0x62, 2, 0xCDEF);
        assertEquals(0xCDEF_AB44, cs.read(0x60, 4));
        assertEquals(0xEF, cs.read(0x62, 1));
    }

    /** §7.3.3: unimplemented registers read 0 and discard writes. */
    @Test
    void undefinedRegistersReadZeroAndIgnoreWrites() {
        cs.write(0x800, 4, 0xFFFF_FFFF);
        assertEquals(0, cs.read(0x800, 4));
        assertEquals(0, cs.read(0xFFC, 4));
    }

    /**
     * §7.2.2: ECAM turns naturally aligned 1, 2 and 4-byte accesses into configuration requests; anything
     * else (size 3 or 8, unaligned, outside 4 KiB) reads all ones and is dropped.
     */
    @ParameterizedTest(name = "{0} bytes at 0x{1}")
    @CsvSource({"3, 40", "8, 40", "0, 40", "-1, 40", "2, 41", "4, 42", "4, 43", "2, fff", "4, ffe", "1, 1000", "4, -4"})
    void invalidAccessesReadAllOnesAndAreDropped(int size, String hexOffset) {
        int offset = Integer.parseInt(hexOffset, 16);
        cs.define(0x40, 4, 0, 0xFFFF_FFFFL, 0);
        cs.define(0xFFC, 4, 0, 0xFFFF_FFFFL, 0);
        byte[] before = cs.snapshot();
        // all ones in the bytes asked for; an access of no bytes has no bits to set
        int expected = size >= 4 ? -1 : size <= 0 ? 0 : (1 << (8 * size)) - 1;
        assertEquals(expected, cs.read(offset, size));
        cs.write(offset, size, 0x1234_5678);
        assertArrayEquals(before, cs.snapshot());
    }

    @ParameterizedTest(name = "{0} bytes at 0x{1}")
    @CsvSource({"1, 43", "2, 42", "4, 40", "4, ffc", "1, fff", "2, ffe"})
    void alignedAccessesAreValid(int size, String hexOffset) {
        int offset = Integer.parseInt(hexOffset, 16);
        cs.define(offset, size, 0, -1L >>> (64 - 8 * size), 0);
        cs.write(offset, size, 0x8182_8384);
        int mask = size == 4 ? -1 : (1 << (8 * size)) - 1;
        assertEquals(0x8182_8384 & mask, cs.read(offset, size));
    }

    /** Hooks run after writes that touch their bytes, not others, and after reset. */
    @Test
    void hooksRunForOverlappingWritesAndOnReset() {
        cs.define(0x44, 4, 0, 0xFFFF_FFFFL, 0);
        AtomicInteger calls = new AtomicInteger();
        cs.onWrite(0x45, 1, calls::incrementAndGet);
        cs.write(0x44, 1, 1);
        assertEquals(0, calls.get());
        cs.write(0x44, 2, 1);
        assertEquals(1, calls.get());
        cs.write(0x44, 4, 1);
        assertEquals(2, calls.get());
        cs.write(0x46, 2, 1);
        assertEquals(2, calls.get());
        cs.reset();
        assertEquals(3, calls.get());
    }

    /** Reset restores the power-on value of every register (PCIe Base 6.0 §6.6.1). */
    @Test
    void resetRestoresPowerOnValues() {
        cs.define(0x48, 2, 0x1234, 0xFFFF, 0);
        cs.write(0x48, 2, 0xBEEF);
        cs.set(0x100, 4, 0xDEAD);
        cs.reset();
        assertEquals(0x1234, cs.read(0x48, 2));
        assertEquals(0, cs.read(0x100, 4));
    }

    @Test
    void modelErrorsThrow() {
        assertThrows(IllegalArgumentException.class, () -> cs.define(0xFFE, 4, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> cs.define(0x40, 2, 0, 0x1, 0x1));
        assertThrows(IllegalArgumentException.class, () -> cs.get(0x40, 9));
    }
}
