package dev.jvmm.pcie.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/** The PCI Express Capability structure, PCIe Base 6.0 §7.5.3. Offsets below are relative to the capability. */
class PciExpressCapabilityTest {
    private ConfigSpace cs;
    private int at;

    private PciExpressCapability install(PciExpressCapability cap) {
        cs = new ConfigSpace();
        new Type1Header(0x1B36, 0x000C, 0x060400, 0).install(cs);
        at = CapabilityChain.install(cs, List.of(cap))[0];
        return cap;
    }

    private int reg(int offset, int size) {
        return cs.read(at + offset, size);
    }

    private void write(int offset, int size, int value) {
        cs.write(at + offset, size, value);
    }

    /** §7.5.3.2: version 2h in bits 3:0, Device/Port Type in bits 7:4 (0h, 4h, 5h, 6h, 9h). */
    @ParameterizedTest
    @CsvSource({
        "ENDPOINT, 0",
        "ROOT_PORT, 4",
        "UPSTREAM_SWITCH_PORT, 5",
        "DOWNSTREAM_SWITCH_PORT, 6",
        "ROOT_COMPLEX_INTEGRATED_ENDPOINT, 9"
    })
    void capabilitiesRegisterCarriesVersionAndType(PcieDeviceType type, int code) {
        install(new PciExpressCapability(type, 0, Optional.empty()));
        assertEquals(0x10, reg(0x00, 1), "capability ID 10h");
        assertEquals(0x2 | code << 4, reg(0x02, 2));
    }

    /** §7.5.3.2 bit 8: Slot Implemented, only on downstream ports that have a slot. */
    @Test
    void slotImplementedBitFollowsTheSlot() {
        install(new PciExpressCapability(
                PcieDeviceType.ROOT_PORT, 3, Optional.of(SlotCapabilities.surpriseHotPlug(7))));
        assertEquals(0x0142, reg(0x02, 2));
        assertThrows(
                IllegalArgumentException.class,
                () -> new PciExpressCapability(PcieDeviceType.ENDPOINT, 0, Optional.of(SlotCapabilities.fixed(1))));
    }

    /** §7.5.3.3: Role-Based Error Reporting (bit 15) must be set by functions compliant with 1.1 and later. */
    @Test
    void deviceCapabilitiesReportRoleBasedErrorReporting() {
        install(PciExpressCapability.endpoint());
        assertEquals(1 << 15, reg(0x04, 4) & (1 << 15));
    }

    /** §7.5.3.4: defaults Relaxed Ordering (4) and No Snoop (11) on, Max_Read_Request_Size 010b (512 B). */
    @Test
    void deviceControlDefaultsAndWritableBits() {
        install(PciExpressCapability.endpoint());
        assertEquals(1 << 4 | 1 << 11 | 0b010 << 12, reg(0x08, 2));
        write(0x08, 2, 0);
        assertEquals(0, reg(0x08, 2));
    }

    /** §7.5.3.5: error-detected bits 3:0 and bit 6 of Device Status are RW1C. */
    @Test
    void deviceStatusErrorBitsAreRw1c() {
        install(PciExpressCapability.endpoint());
        cs.set(at + 0x0A, 2, 0x004F);
        write(0x0A, 2, 0x0005);
        assertEquals(0x004A, reg(0x0A, 2));
        write(0x0A, 2, 0xFFFF);
        assertEquals(0, reg(0x0A, 2));
    }

    /**
     * §7.5.3.6: "For a hot-plug capable Downstream Port ... this bit [DLL Link Active Reporting Capable, 20]
     * must be hardwired to 1b"; "For Upstream Ports ... this bit must be hardwired to 0b". Port Number in
     * bits 31:24.
     */
    @Test
    void linkCapabilitiesReportPortNumberAndDllActiveReporting() {
        install(new PciExpressCapability(
                PcieDeviceType.DOWNSTREAM_SWITCH_PORT, 5, Optional.of(SlotCapabilities.surpriseHotPlug(1))));
        int lnkcap = reg(0x0C, 4);
        assertEquals(5, lnkcap >>> 24);
        assertEquals(1 << 20, lnkcap & (1 << 20));
        assertEquals(0x11, lnkcap & 0x3FF, "2.5 GT/s (1h), x1 (bits 9:4 = 1)");

        install(new PciExpressCapability(PcieDeviceType.UPSTREAM_SWITCH_PORT, 0, Optional.empty()));
        assertEquals(0, reg(0x0C, 4) & (1 << 20));
    }

    /** §7.5.3.8 bit 13: Data Link Layer Link Active reflects the link; RO to software. */
    @Test
    void linkStatusDllLinkActiveFollowsTheLinkAndIsReadOnly() {
        PciExpressCapability cap = install(new PciExpressCapability(
                PcieDeviceType.ROOT_PORT, 0, Optional.of(SlotCapabilities.surpriseHotPlug(1))));
        assertEquals(0, reg(0x12, 2) & (1 << 13));
        cap.setLinkActive(true);
        assertEquals(1 << 13, reg(0x12, 2) & (1 << 13));
        write(0x12, 2, 0xFFFF);
        assertEquals(1 << 13, reg(0x12, 2) & (1 << 13));
        assertTrue(cap.isLinkActive());
        assertEquals(0x0011, reg(0x12, 2) & 0x3FF, "current speed 2.5 GT/s, negotiated width x1");
    }

    /** §7.5.3.9: Slot Capabilities carries the hot-plug elements and the Physical Slot Number (31:19). */
    @Test
    void slotCapabilitiesEncodeTheElements() {
        install(new PciExpressCapability(
                PcieDeviceType.ROOT_PORT, 0, Optional.of(SlotCapabilities.surpriseHotPlug(9))));
        // Hot-Plug Surprise (5), Hot-Plug Capable (6), No Command Completed Support (18), slot 9 in 31:19
        assertEquals(1 << 5 | 1 << 6 | 1 << 18 | 9 << 19, reg(0x14, 4));
        assertEquals(SlotCapabilities.surpriseHotPlug(9), SlotCapabilities.fromBits(reg(0x14, 4)));
        SlotCapabilities button = SlotCapabilities.attentionButtonHotPlug(42);
        assertEquals(button, SlotCapabilities.fromBits(button.bits()));
    }

    /**
     * §7.5.3.10: a surprise hot-plug slot implements PDCE (3), HPIE (5) and DLLSCE (12); without a command
     * completed mechanism CCIE (4) is RO 0, without button/power controller/indicators their bits are RO 0.
     */
    @Test
    void slotControlWritableBitsOfASurpriseSlot() {
        install(new PciExpressCapability(
                PcieDeviceType.ROOT_PORT, 0, Optional.of(SlotCapabilities.surpriseHotPlug(1))));
        write(0x18, 2, 0xFFFF);
        assertEquals(1 << 3 | 1 << 5 | 1 << 12, reg(0x18, 2));
    }

    /**
     * §7.5.3.10: with attention button, power controller and both indicators, bits 0, 1, 3, 4, 5, 7:6, 9:8,
     * 10 and 12 are RW; the indicators power on Off (11b).
     */
    @Test
    void slotControlWritableBitsOfAnAttentionButtonSlot() {
        install(new PciExpressCapability(
                PcieDeviceType.ROOT_PORT, 0, Optional.of(SlotCapabilities.attentionButtonHotPlug(1))));
        assertEquals(0b11 << 6 | 0b11 << 8, reg(0x18, 2));
        write(0x18, 2, 0xFFFF);
        assertEquals(0b1_0111_1111_1011, reg(0x18, 2));
    }

    /**
     * §7.5.3.11: Presence Detect Changed (3) and DLL State Changed (8) are RW1C; Presence Detect State (6)
     * is RO and follows the slot.
     */
    @Test
    void slotStatusEventBitsAreRw1cAndPresenceIsReadOnly() {
        PciExpressCapability cap = install(new PciExpressCapability(
                PcieDeviceType.ROOT_PORT, 0, Optional.of(SlotCapabilities.surpriseHotPlug(1))));
        cap.setPresenceDetected(true);
        assertEquals(
                1 << 3 | 1 << 8,
                cap.latchSlotEvents(1 << 3 | 1 << 8 | 1 << 0),
                "no attention button: bit 0 not latched");
        assertEquals(1 << 3 | 1 << 6 | 1 << 8, reg(0x1A, 2));
        write(0x1A, 2, 1 << 3);
        assertEquals(1 << 6 | 1 << 8, reg(0x1A, 2));
        write(0x1A, 2, 0xFFFF);
        assertEquals(1 << 6, reg(0x1A, 2), "PDS cannot be cleared by software");
        cap.setPresenceDetected(false);
        assertEquals(0, reg(0x1A, 2));
    }

    /** §7.5.3.11: "For Downstream Ports not connected to slots ... this bit must be hardwired to 1b." */
    @ParameterizedTest
    @EnumSource(
            value = PcieDeviceType.class,
            names = {"ROOT_PORT", "DOWNSTREAM_SWITCH_PORT"})
    void presenceDetectStateIsOneWithoutASlot(PcieDeviceType type) {
        PciExpressCapability cap = install(new PciExpressCapability(type, 0, Optional.empty()));
        assertEquals(1 << 6, reg(0x1A, 2));
        cap.setPresenceDetected(false);
        assertEquals(1 << 6, reg(0x1A, 2));
        assertEquals(0, reg(0x14, 4), "no Slot Capabilities without a slot");
        write(0x18, 2, 0xFFFF);
        assertEquals(0, reg(0x18, 2));
    }

    /** §7.5.3.12-14: Root Control bits 3:0 RW and Root Status PME Status (16) RW1C, on Root Ports only. */
    @Test
    void rootRegistersExistOnlyOnRootPorts() {
        install(new PciExpressCapability(PcieDeviceType.ROOT_PORT, 0, Optional.empty()));
        write(0x1C, 2, 0xFFFF);
        assertEquals(0xF, reg(0x1C, 2));
        cs.set(at + 0x20, 4, 1 << 16);
        write(0x20, 4, 1 << 16);
        assertEquals(0, reg(0x20, 4));

        install(new PciExpressCapability(PcieDeviceType.DOWNSTREAM_SWITCH_PORT, 0, Optional.empty()));
        write(0x1C, 2, 0xFFFF);
        assertEquals(0, reg(0x1C, 2));
    }

    /** §7.5.3.7: Link Disable (bit 4) is for Downstream Ports; Retrain Link (bit 5) always reads 0. */
    @Test
    void linkControlDiffersBetweenUpstreamAndDownstream() {
        install(new PciExpressCapability(PcieDeviceType.ROOT_PORT, 0, Optional.empty()));
        write(0x10, 2, 0xFFFF);
        assertEquals(0b1101_0011, reg(0x10, 2));
        install(PciExpressCapability.endpoint());
        write(0x10, 2, 0xFFFF);
        assertEquals(0b1100_0011, reg(0x10, 2));
    }

    /** §7.5.3.6-8: an RCiEP has no link, so the link registers read 0. */
    @Test
    void integratedEndpointHasNoLinkRegisters() {
        install(PciExpressCapability.integratedEndpoint());
        assertEquals(0, reg(0x0C, 4));
        assertEquals(0, reg(0x12, 2));
        assertFalse(PcieDeviceType.ROOT_COMPLEX_INTEGRATED_ENDPOINT.hasLink());
    }
}
