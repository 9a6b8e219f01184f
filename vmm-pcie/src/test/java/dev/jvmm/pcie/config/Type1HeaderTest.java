package dev.jvmm.pcie.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

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

    /** What each register holds after writing zeros and after writing all ones (PCIe Base 6.0 §7.5.1.3). */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            §7.5.1.3.1 a port without BARs reads 0 from BAR 0 even after sizing  | 0x10 | 4 | 0x00000000 | 0x00000000
            §7.5.1.3.1 ... and from BAR 1                                         | 0x14 | 4 | 0x00000000 | 0x00000000
            §7.5.1.3.8 Memory Base/Limit: bits 15:4 are address bits 31:20       | 0x20 | 4 | 0x00000000 | 0xFFF0FFF0
            §7.5.1.3.9 Prefetchable Base/Limit: 64-bit, low nibble 1h RO         | 0x24 | 4 | 0x00010001 | 0xFFF1FFF1
            §7.5.1.3.6 I/O Base/Limit: 16-bit decode, bits 3:0 RO 0h             | 0x1C | 2 | 0x0000     | 0xF0F0
            §7.5.1.3.11 so the I/O Upper 16 Bits registers are RO 0              | 0x30 | 4 | 0x00000000 | 0x00000000
            Interrupt Line RW; Interrupt Pin 0: ports signal through MSI          | 0x3C | 2 | 0x0000     | 0x00FF
            no Type 1 expansion ROM at 38h                                       | 0x38 | 4 | 0x00000000 | 0x00000000
            """)
    void registerAttributes(String what, int offset, int size, long afterZeros, long afterOnes) {
        Registers.assertAfterZerosAndOnes(cs, offset, size, afterZeros, afterOnes);
    }

    /** §7.5.1.3.10: the upper halves of the prefetchable window are RW. */
    @Test
    void prefetchableUpperHalvesAreReadWrite() {
        cs.write(0x28, 4, 0x1234_5678);
        cs.write(0x2C, 4, 0x9ABC_DEF0);
        assertEquals(0x1234_5678, cs.read(0x28, 4));
        assertEquals(0x9ABC_DEF0, cs.read(0x2C, 4));
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
        Registers.assertAfterZerosAndOnes(cs, 0x3E, 2, 0, 0b101_1111);
    }
}
