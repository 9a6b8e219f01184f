package dev.jvmm.pcie.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The Type 0 header of PCIe Base 6.0 §7.5.1.1 and §7.5.1.2. Expected values come from the spec text. */
class Type0HeaderTest {
    private ConfigSpace cs;

    @BeforeEach
    void setUp() {
        cs = new ConfigSpace();
        new Type0Header(0x1AF4, 0x1042, 0x010000, 0x01, 0x1AF4, 0x0002, 1).install(cs);
    }

    /** §7.5.1.1.1-6, §7.5.1.2.3: identity registers read back and are read-only. */
    @Test
    void identityRegistersReadBackAndAreReadOnly() {
        assertEquals(0x1042_1AF4, cs.read(0x00, 4));
        assertEquals(0x0100_0001, cs.read(0x08, 4), "class code 010000h in bytes 0Bh..09h, revision 01h in 08h");
        assertEquals(0x0002_1AF4, cs.read(0x2C, 4));
        for (int offset : new int[] {0x00, 0x08, 0x2C}) {
            int before = cs.read(offset, 4);
            cs.write(offset, 4, 0xFFFF_FFFF);
            cs.write(offset, 4, 0);
            assertEquals(before, cs.read(offset, 4));
        }
    }

    /**
     * §7.5.1.1.3: in PCI Express the Command register implements I/O Space (0), Memory Space (1), Bus Master
     * (2), Parity Error Response (6), SERR# Enable (8) and Interrupt Disable (10); bits 3, 4, 5, 7 and 9 "do
     * not apply to PCI Express" and are hardwired to 0.
     */
    @Test
    void commandRegisterImplementsExactlyThePciExpressBits() {
        Registers.assertAfterZerosAndOnes(cs, 0x04, 2, 0, 1 << 0 | 1 << 1 | 1 << 2 | 1 << 6 | 1 << 8 | 1 << 10);
    }

    /** §7.5.1.1.4 bit 4: Capabilities List is hardwired to 1 (every PCIe function has the PCIe capability). */
    @Test
    void statusReportsCapabilitiesListAndItIsReadOnly() {
        assertEquals(0x0010, cs.read(0x06, 2));
        Registers.assertAfterZerosAndOnes(cs, 0x06, 2, 0x0010, 0x0010);
    }

    /** §7.5.1.1.4: Status bits 8, 11, 12, 13, 14, 15 are RW1C. */
    @ParameterizedTest(name = "Status bit {0}")
    @ValueSource(ints = {8, 11, 12, 13, 14, 15})
    void statusErrorBitsAreRw1c(int bit) {
        cs.setBits(0x06, 2, 1L << bit, true);
        assertEquals(0x0010 | 1 << bit, cs.read(0x06, 2));
        cs.write(0x06, 2, ~(1 << bit) & 0xFFFF);
        assertEquals(0x0010 | 1 << bit, cs.read(0x06, 2), "writing 0 to the bit keeps it");
        cs.write(0x06, 2, 1 << bit);
        assertEquals(0x0010, cs.read(0x06, 2), "writing 1 clears it");
    }

    /** Writing the Status register through a DWORD write to Command must not disturb Status (RW1C semantics). */
    @Test
    void dwordCommandWriteWithZeroStatusKeepsStatusBits() {
        cs.setBits(0x06, 2, 1 << 13, true);
        cs.write(0x04, 4, 0x0000_0006);
        assertEquals(0x2010_0006, cs.read(0x04, 4));
    }

    /** §7.5.1.1.9: Header Type 00h for a single-function Type 0 function. */
    @Test
    void headerTypeIsZero() {
        assertEquals(0x00, cs.read(0x0E, 1));
    }

    /**
     * §7.5.1.1.7-8, .10, .12-13, §7.5.1.2.2, .4, .5: Cache Line Size and Interrupt Line are RW storage;
     * Latency Timer, BIST, Cardbus CIS, Expansion ROM, Min_Gnt/Max_Lat read 0; Interrupt Pin is RO.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            only Cache Line Size is writable in 0Ch-0Fh                   | 0x0C | 0x00000000 | 0x000000FF
            Interrupt Line RW, Interrupt Pin 01h RO, Min_Gnt/Max_Lat 0    | 0x3C | 0x00000100 | 0x000001FF
            Cardbus CIS pointer 0                                         | 0x28 | 0x00000000 | 0x00000000
            no expansion ROM: the BAR reads 0 even after sizing           | 0x30 | 0x00000000 | 0x00000000
            """)
    void miscellaneousHeaderRegisters(String what, int offset, long afterZeros, long afterOnes) {
        Registers.assertAfterZerosAndOnes(cs, offset, 4, afterZeros, afterOnes);
    }

    @Test
    void invalidIdentityIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> new Type0Header(0xFFFF, 1, 0, 0, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new Type0Header(1, 0x10000, 0, 0, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new Type0Header(1, 1, 0x1000000, 0, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new Type0Header(1, 1, 0, 0, 0, 0, 5));
    }
}
