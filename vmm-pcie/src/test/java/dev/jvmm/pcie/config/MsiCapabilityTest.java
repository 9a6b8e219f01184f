package dev.jvmm.pcie.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.pcie.msi.MsiTarget;
import dev.jvmm.pcie.msi.RequesterId;
import java.util.List;
import org.junit.jupiter.api.Test;

/** MSI, PCIe Base 6.0 §7.7.1 (registers) and §6.1.4 (operation). Offsets are relative to the capability. */
class MsiCapabilityTest {
    private final RecordingSink sink = new RecordingSink();
    private ConfigSpace cs;
    private int at;
    private MsiCapability msi;

    private void install(int vectors, boolean perVectorMask) {
        MsiTarget target = new MsiTarget();
        target.connect(() -> 3, 0, 0, sink);
        msi = new MsiCapability(vectors, perVectorMask, target);
        cs = new ConfigSpace();
        new Type0Header(0x1234, 0x5678, 0xFF0000, 0, 0, 0, 0).install(cs);
        at = CapabilityChain.install(cs, List.of(msi))[0];
    }

    private void program(long address, int data, int control) {
        cs.write(0x04, 2, 0x4); // Bus Master Enable
        cs.write(at + 0x04, 4, (int) address);
        cs.write(at + 0x08, 4, (int) (address >>> 32));
        cs.write(at + 0x0C, 2, data);
        cs.write(at + 0x02, 2, control);
    }

    /** Writes the Mask Bits register (§7.7.1.7). */
    private void mask(int bits) {
        cs.write(at + 0x10, 4, bits);
    }

    /**
     * MSI with per-vector masking and {@code vectors} vectors (a power of two), all allocated and enabled, sending
     * data 40h + vector to FEE0_0000h, with the vectors in {@code masked} masked.
     */
    private void enabledWithMasks(int vectors, int masked) {
        install(vectors, true);
        program(0xFEE0_0000L, 0x40, 1 | Integer.numberOfTrailingZeros(vectors) << 4);
        mask(masked);
    }

    /**
     * §7.7.1.2: Multiple Message Capable (3:1) = log2(vectors), 64-bit (7) and Per-Vector Masking (8) RO;
     * Enable (0) and Multiple Message Enable (6:4) RW.
     */
    @Test
    void messageControlLayout() {
        install(8, true);
        assertEquals(0x05, cs.read(at, 1));
        assertEquals(3 << 1 | 1 << 7 | 1 << 8, cs.read(at + 2, 2));
        cs.write(at + 2, 2, 0xFFFF);
        assertEquals(3 << 1 | 1 << 7 | 1 << 8 | 1 | 7 << 4, cs.read(at + 2, 2));
    }

    /** §7.7.1.3: Message Address bits 1:0 are RO 0 (DWORD aligned); §7.7.1.5: Message Data is 16 bits. */
    @Test
    void addressAndDataRegisters() {
        install(1, false);
        cs.write(at + 0x04, 4, 0xFFFF_FFFF);
        cs.write(at + 0x08, 4, 0xFFFF_FFFF);
        cs.write(at + 0x0C, 4, 0xFFFF_FFFF);
        assertEquals(0xFFFF_FFFC, cs.read(at + 0x04, 4));
        assertEquals(0xFFFF_FFFF, cs.read(at + 0x08, 4));
        assertEquals(0x0000_FFFF, cs.read(at + 0x0C, 4), "Extended Message Data not implemented");
    }

    /** §6.1.4.3: nothing is sent while MSI Enable is clear. */
    @Test
    void disabledMsiSendsNothing() {
        install(1, false);
        program(0x8080_0040L, 0x55, 0);
        assertFalse(msi.signal(0));
        assertEquals(List.of(), sink.messages);
    }

    /** §6.1.4.4: an enabled vector is a write of Message Data to Message Address. */
    @Test
    void enabledMsiSendsAddressAndData() {
        install(1, false);
        program(0x1_0808_0040L, 0x1234, 1);
        assertTrue(msi.signal(0));
        assertEquals(
                List.of(new RecordingSink.Message(0x1_0808_0040L, 0x1234, new RequesterId(3, 0, 0))), sink.messages);
    }

    /**
     * §6.1.4.1 / §7.7.1.5: with 2^MME vectors allocated the function replaces the low MME bits of Message
     * Data with the vector number; vectors beyond the allocation are not sent.
     */
    @Test
    void multipleMessagesModifyTheLowDataBits() {
        install(8, false);
        program(0xFEE0_0000L, 0x4A7, 1 | 2 << 4); // 4 vectors allocated
        assertTrue(msi.signal(3));
        assertFalse(msi.signal(4));
        assertEquals(0x4A7 & ~3 | 3, sink.messages.getFirst().data());
        assertEquals(1, sink.messages.size());
    }

    /** A Multiple Message Enable above Multiple Message Capable is a guest error; the allocation stays capped. */
    @Test
    void multipleMessageEnableAboveCapableIsCapped() {
        install(2, false);
        program(0xFEE0_0000L, 0, 1 | 5 << 4);
        assertEquals(2, msi.allocatedVectors());
        assertFalse(msi.signal(2));
    }

    /**
     * §6.1.4.5 / §7.7.1.7-8: a masked vector sets its Pending bit instead of being sent; unmasking sends it
     * and clears the bit. Pending Bits are RO to software.
     */
    @Test
    void maskedVectorIsPendingAndSentOnUnmask() {
        enabledWithMasks(4, 0b0100);
        assertTrue(msi.signal(2));
        assertEquals(List.of(), sink.messages);
        assertEquals(0b0100, cs.read(at + 0x14, 4));
        cs.write(at + 0x14, 4, 0);
        assertEquals(0b0100, cs.read(at + 0x14, 4), "Pending Bits are read-only");

        mask(0);
        assertEquals(List.of(new RecordingSink.Message(0xFEE0_0000L, 0x42, new RequesterId(3, 0, 0))), sink.messages);
        assertEquals(0, cs.read(at + 0x14, 4));
    }

    /**
     * §7.5.1.1.3: "because MSI/MSI-X interrupt Messages are in-band memory writes, setting the Bus Master
     * Enable bit to 0b disables MSI/MSI-X interrupt Messages as well." A new message is dropped; a pending
     * one is held until bus mastering is back.
     */
    @Test
    void busMasterEnableGatesMessages() {
        enabledWithMasks(2, 0b10);
        assertTrue(msi.signal(1));
        cs.write(0x04, 2, 0);
        assertFalse(msi.signal(0), "dropped without bus mastering");
        mask(0);
        assertEquals(List.of(), sink.messages, "unmasking does not bypass Bus Master Enable");
        assertEquals(0b10, msi.pendingBits());
        cs.write(0x04, 2, 0x4);
        assertEquals(List.of(new RecordingSink.Message(0xFEE0_0000L, 0x41, new RequesterId(3, 0, 0))), sink.messages);
        assertEquals(0, msi.pendingBits());
    }

    /** §7.7.1.7: only Mask bits of implemented vectors are RW. */
    @Test
    void maskBitsOfUnimplementedVectorsAreReadOnly() {
        install(4, true);
        cs.write(at + 0x10, 4, 0xFFFF_FFFF);
        assertEquals(0xF, cs.read(at + 0x10, 4));
    }

    /** Reset clears enable, masks and pending bits (§6.6.1: registers return to their default values). */
    @Test
    void resetClearsTheState() {
        enabledWithMasks(4, 1);
        msi.signal(0);
        cs.reset();
        assertFalse(msi.isEnabled());
        assertEquals(0, msi.pendingBits());
        assertEquals(0, cs.read(at + 0x10, 4));
    }
}
