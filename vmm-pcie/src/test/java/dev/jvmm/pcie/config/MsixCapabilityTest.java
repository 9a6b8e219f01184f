package dev.jvmm.pcie.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.pcie.msi.MsiTarget;
import dev.jvmm.pcie.msi.RequesterId;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** MSI-X, PCIe Base 6.0 §7.7.2 (structures) and §6.1.4.5 (masking); PCI Local Bus 3.0 §6.8.2. */
class MsixCapabilityTest {
    private static final int VECTORS = 70; // more than 64, so the PBA spans two QWORDs
    private final RecordingSink sink = new RecordingSink();
    private ConfigSpace cs;
    private int at;
    private MsixCapability msix;

    @BeforeEach
    void setUp() {
        MsiTarget target = new MsiTarget();
        target.connect(() -> 0x21, 0, 5, sink);
        msix = new MsixCapability(VECTORS, 2, 0x1000, 2, 0x3000, target);
        cs = new ConfigSpace();
        new Type0Header(0x1234, 0x5678, 0xFF0000, 0, 0, 0, 0).install(cs);
        at = CapabilityChain.install(cs, List.of(msix))[0];
        cs.write(0x04, 2, 0x4); // Bus Master Enable, as every MSI-X driver sets it
    }

    private void entry(int vector, long address, int data, int control) {
        msix.tableWrite(vector * 16L, 8, address);
        msix.tableWrite(vector * 16L + 8, 4, data);
        msix.tableWrite(vector * 16L + 12, 4, control);
    }

    private void control(int value) {
        cs.write(at + 2, 2, value);
    }

    /** §7.7.2.2-4: Table Size is N-1 (RO), Function Mask (14) and Enable (15) RW; Offset/BIR RO. */
    @Test
    void capabilityRegisters() {
        assertEquals(0x11, cs.read(at, 1));
        assertEquals(VECTORS - 1, cs.read(at + 2, 2));
        control(0xFFFF);
        assertEquals(VECTORS - 1 | 1 << 14 | 1 << 15, cs.read(at + 2, 2));
        assertEquals(0x1000 | 2, cs.read(at + 4, 4));
        assertEquals(0x3000 | 2, cs.read(at + 8, 4));
        cs.write(at + 4, 4, 0);
        assertEquals(0x1000 | 2, cs.read(at + 4, 4));
    }

    /** §7.7.2.8: every entry's Mask bit is set after reset; address and data start 0. */
    @Test
    void entriesStartMasked() {
        for (int v = 0; v < VECTORS; v++) {
            assertEquals(1, msix.tableRead(v * 16L + 12, 4));
            assertEquals(0, msix.tableRead(v * 16L, 8));
        }
    }

    /** §7.7.2.5, .8: address bits 1:0 and Vector Control bits 31:1 are not writable. */
    @Test
    void reservedTableBitsAreNotWritable() {
        msix.tableWrite(0, 4, 0xFFFF_FFFFL);
        msix.tableWrite(12, 4, 0xFFFF_FFFFL);
        assertEquals(0xFFFF_FFFCL, msix.tableRead(0, 4));
        assertEquals(1, msix.tableRead(12, 4));
    }

    /** §7.7.2: table accesses are aligned DWORDs or QWORDs; a QWORD read returns two entries' DWORDs. */
    @Test
    void qwordAndDwordTableAccess() {
        entry(1, 0x0000_0001_FEE0_1000L, 0x77, 0);
        assertEquals(0x0000_0001_FEE0_1000L, msix.tableRead(16, 8));
        assertEquals(0x0000_0001, msix.tableRead(20, 4));
        assertEquals(0x77, msix.tableRead(24, 8) & 0xFFFF_FFFFL);
        assertEquals(0, msix.tableRead(24, 8) >>> 32, "vector control of entry 1 is unmasked");
    }

    /** Other accesses are undefined by §7.7.2; the model reads all ones and drops them. */
    @ParameterizedTest(name = "{1} bytes at {0}")
    @CsvSource({"1, 4", "0, 2", "0, 1", "4, 8", "2, 4", "1120, 4", "-4, 4"})
    void invalidTableAccessesReadAllOnes(long offset, int size) {
        assertEquals(size >= 8 ? -1L : (1L << (8 * size)) - 1, msix.tableRead(offset, size));
        msix.tableWrite(offset, size, 0);
        assertEquals(1, msix.tableRead(12, 4), "entry 0 untouched");
    }

    /** §6.1.4.3: no message while MSI-X Enable is clear, even for an unmasked vector. */
    @Test
    void disabledSendsNothing() {
        entry(0, 0xFEE0_0000L, 1, 0);
        assertFalse(msix.signal(0));
        assertEquals(List.of(), sink.messages);
        assertFalse(msix.isPending(0));
    }

    /** §6.1.4.4: an enabled, unmasked vector sends its entry's address and data with the function's RID. */
    @Test
    void unmaskedVectorIsSent() {
        control(1 << 15);
        entry(7, 0x8_0808_0040L, 0x29, 0);
        assertTrue(msix.signal(7));
        assertEquals(
                List.of(new RecordingSink.Message(0x8_0808_0040L, 0x29, new RequesterId(0x21, 0, 5))), sink.messages);
    }

    /**
     * §6.1.4.5: a masked vector sets its Pending bit instead of sending; unmasking it sends the message with
     * the entry's current address and data and clears the Pending bit.
     */
    @Test
    void maskedVectorIsPendingUntilUnmasked() {
        control(1 << 15);
        entry(66, 0xFEE0_0000L, 0x10, 1);
        assertTrue(msix.signal(66));
        assertEquals(List.of(), sink.messages);
        assertEquals(1L << 2, msix.pbaRead(8, 8), "vector 66 is bit 2 of the second PBA QWORD");
        assertEquals(1L << 2, msix.pbaRead(8, 4));
        assertEquals(0, msix.pbaRead(12, 4));

        msix.tableWrite(66 * 16L + 8, 4, 0x11); // software may update the entry while masked
        msix.tableWrite(66 * 16L + 12, 4, 0);
        assertEquals(
                List.of(new RecordingSink.Message(0xFEE0_0000L, 0x11, new RequesterId(0x21, 0, 5))), sink.messages);
        assertEquals(0, msix.pbaRead(8, 8));

        msix.tableWrite(66 * 16L + 12, 4, 0);
        assertEquals(1, sink.messages.size(), "a vector is sent once per event");
    }

    /** §6.1.4.5: Function Mask holds every vector pending; clearing it sends the pending unmasked ones. */
    @Test
    void functionMaskHoldsAllVectors() {
        control(1 << 15 | 1 << 14);
        entry(0, 0xFEE0_0000L, 0xA0, 0);
        entry(1, 0xFEE0_0000L, 0xA1, 1);
        msix.signal(0);
        msix.signal(1);
        assertEquals(List.of(), sink.messages);
        assertEquals(0b11, msix.pbaRead(0, 8));

        control(1 << 15);
        assertEquals(
                List.of(new RecordingSink.Message(0xFEE0_0000L, 0xA0, new RequesterId(0x21, 0, 5))), sink.messages);
        assertEquals(0b10, msix.pbaRead(0, 8), "vector 1 is still masked by its entry");
    }

    /**
     * §7.5.1.1.3: MSI-X messages are memory writes and stop while Bus Master Enable is clear; a vector
     * unmasked meanwhile stays pending and goes out when bus mastering returns.
     */
    @Test
    void busMasterEnableGatesMessages() {
        control(1 << 15);
        entry(4, 0xFEE0_0000L, 0x44, 1);
        msix.signal(4);
        cs.write(0x04, 2, 0);
        assertFalse(msix.signal(5), "dropped without bus mastering");
        msix.tableWrite(4 * 16L + 12, 4, 0);
        assertEquals(List.of(), sink.messages);
        assertTrue(msix.isPending(4));
        cs.write(0x04, 2, 0x4);
        assertEquals(
                List.of(new RecordingSink.Message(0xFEE0_0000L, 0x44, new RequesterId(0x21, 0, 5))), sink.messages);
        assertFalse(msix.isPending(4));
    }

    /** §7.7.2.9: the PBA is read-only. */
    @Test
    void pbaIsReadOnly() {
        control(1 << 15);
        msix.signal(3);
        msix.pbaWrite(0, 8, 0);
        assertEquals(1L << 3, msix.pbaRead(0, 8));
        assertTrue(msix.isPending(3));
        msix.clearPending(3);
        assertFalse(msix.isPending(3));
    }

    @Test
    void outOfRangeVectorsAreDropped() {
        control(1 << 15);
        assertFalse(msix.signal(VECTORS));
        assertFalse(msix.signal(-1));
    }

    /** Function-level reset masks every entry and clears the PBA; config reset clears Enable. */
    @Test
    void resetRestoresMaskedEntries() {
        control(1 << 15);
        entry(2, 0xFEE0_0000L, 1, 0);
        msix.tableWrite(3 * 16L + 12, 4, 1);
        msix.signal(3);
        cs.reset();
        msix.resetTable();
        assertFalse(msix.isEnabled());
        assertEquals(1, msix.tableRead(2 * 16L + 12, 4));
        assertEquals(0, msix.pbaRead(0, 8));
    }

    @Test
    void badPlacementIsRejected() {
        MsiTarget t = new MsiTarget();
        assertThrows(IllegalArgumentException.class, () -> new MsixCapability(0, 0, 0, 0, 0x800, t));
        assertThrows(IllegalArgumentException.class, () -> new MsixCapability(2049, 0, 0, 0, 0x800, t));
        assertThrows(IllegalArgumentException.class, () -> new MsixCapability(4, 6, 0, 0, 0x800, t));
        assertThrows(IllegalArgumentException.class, () -> new MsixCapability(4, 0, 4, 0, 0x800, t));
    }
}
