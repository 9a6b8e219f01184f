package dev.jvmm.pcie.config;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The Type 1 header of PCIe Base 6.0 §7.5.1.3. */
class Type1HeaderTest {
    private ConfigSpace cs;

    @BeforeEach
    void setUp() {
        cs = new ConfigSpace();
        new Type1Header(0x1B36, 0x000C, 0x060400, 0).install(cs);
    }

    /** §7.5.1.1.9: Header Type 01h; §7.5.1.1.6: class 060400h (PCI-to-PCI bridge). */
    @Test
    void headerTypeAndClass() {
        assertEquals(0x01, cs.read(0x0E, 1));
        assertEquals(0x060400, cs.read(0x08, 4) >>> 8);
    }

    /** §7.5.1.3.2-5: the three bus numbers are RW, the secondary latency timer is RO 0. */
    @Test
    void busNumbersAreReadWrite() {
        cs.write(0x18, 4, 0xFF_23_12_01);
        assertEquals(0x00_23_12_01, cs.read(0x18, 4));
        assertEquals(0x12, Type1Header.secondaryBus(cs));
        assertEquals(0x23, Type1Header.subordinateBus(cs));
        assertEquals(0x01, Type1Header.primaryBus(cs));
    }

    /** §7.5.1.3.1: a port without BARs reads 0 from 10h and 14h even after sizing. */
    @Test
    void type1BarsAreNotImplemented() {
        cs.write(0x10, 4, 0xFFFF_FFFF);
        cs.write(0x14, 4, 0xFFFF_FFFF);
        assertEquals(0, cs.read(0x10, 4));
        assertEquals(0, cs.read(0x14, 4));
    }

    /** §7.5.1.3.8: Memory Base/Limit bits 15:4 are address bits 31:20, bits 3:0 RO 0. */
    @Test
    void memoryWindowGranularityIsOneMegabyte() {
        cs.write(0x20, 4, 0xFFFF_FFFF);
        assertEquals(0xFFF0_FFF0, cs.read(0x20, 4));
    }

    /** §7.5.1.3.9-10: the prefetchable window is 64-bit (low nibble 1h RO), upper halves RW. */
    @Test
    void prefetchableWindowIs64Bit() {
        assertEquals(0x0001_0001, cs.read(0x24, 4));
        cs.write(0x24, 4, 0);
        assertEquals(0x0001_0001, cs.read(0x24, 4));
        cs.write(0x24, 4, 0xFFFF_FFFF);
        assertEquals(0xFFF1_FFF1, cs.read(0x24, 4));
        cs.write(0x28, 4, 0x1234_5678);
        cs.write(0x2C, 4, 0x9ABC_DEF0);
        assertEquals(0x1234_5678, cs.read(0x28, 4));
        assertEquals(0x9ABC_DEF0, cs.read(0x2C, 4));
    }

    /** §7.5.1.3.6, .11: 16-bit I/O decode (bits 3:0 = 0h), so the upper 16 bits registers are RO 0. */
    @Test
    void ioWindowIs16Bit() {
        cs.write(0x1C, 2, 0xFFFF);
        assertEquals(0xF0F0, cs.read(0x1C, 2));
        cs.write(0x30, 4, 0xFFFF_FFFF);
        assertEquals(0, cs.read(0x30, 4));
    }

    /** §7.5.1.3.7: Secondary Status bits 8, 11, 12, 13, 14, 15 are RW1C; the rest RO 0. */
    @ParameterizedTest(name = "Secondary Status bit {0}")
    @ValueSource(ints = {8, 11, 12, 13, 14, 15})
    void secondaryStatusErrorBitsAreRw1c(int bit) {
        cs.setBits(0x1E, 2, 1L << bit, true);
        cs.write(0x1E, 2, 0);
        assertEquals(1 << bit, cs.read(0x1E, 2));
        cs.write(0x1E, 2, 0xFFFF);
        assertEquals(0, cs.read(0x1E, 2));
    }

    /**
     * §7.5.1.3.13: Bridge Control bits 0 (Parity Error Response), 1 (SERR#), 2 (ISA), 3 (VGA), 4 (VGA 16-bit)
     * and 6 (Secondary Bus Reset) are RW; bit 5 and bits 7-11 do not apply to PCI Express.
     */
    @Test
    void bridgeControlImplementsThePciExpressBits() {
        cs.write(0x3E, 2, 0xFFFF);
        assertEquals(0b101_1111, cs.read(0x3E, 2));
    }

    /** Ports signal through MSI: Interrupt Pin 0; the Type 1 expansion ROM at 38h reads 0. */
    @Test
    void noIntxAndNoExpansionRom() {
        assertEquals(0, cs.read(0x3D, 1));
        cs.write(0x38, 4, 0xFFFF_FFFF);
        assertEquals(0, cs.read(0x38, 4));
    }
}
