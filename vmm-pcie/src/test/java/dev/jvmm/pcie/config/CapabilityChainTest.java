package dev.jvmm.pcie.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.pcie.msi.MsiTarget;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The capability list of PCIe Base 6.0 §7.5.1.1.11 and the empty extended list of §7.6.3. */
class CapabilityChainTest {

    private static ConfigSpace build(List<Capability> caps) {
        ConfigSpace cs = new ConfigSpace();
        new Type0Header(0x1234, 0x5678, 0xFF0000, 0, 0, 0, 0).install(cs);
        cs.define(0x10, 4, 0, 0xFFFF_F000L, 0);
        CapabilityChain.install(cs, caps);
        return cs;
    }

    /** Walks the list the way system software does: pointer at 34h, bits 1:0 ignored, until 00h. */
    static List<int[]> walk(ConfigSpace cs) {
        List<int[]> found = new ArrayList<>();
        int ptr = cs.read(0x34, 1) & 0xFC;
        while (ptr != 0 && found.size() < 48) {
            found.add(new int[] {ptr, cs.read(ptr, 1)});
            ptr = cs.read(ptr + 1, 1) & 0xFC;
        }
        return found;
    }

    /**
     * §7.5.1.1.11: each structure is DWORD aligned in 40h..FFh, the ID comes first, Next links to the
     * following one and 00h ends the list; Status bit 4 announces the list.
     */
    @Test
    void chainLinksEveryCapabilityInOrder() {
        MsiTarget target = new MsiTarget();
        ConfigSpace cs = build(List.of(
                new PowerManagementCapability(),
                PciExpressCapability.endpoint(),
                new MsiCapability(4, false, target),
                new MsixCapability(8, 0, 0, 0, 0x800, target),
                new VendorSpecificCapability(new byte[13], new byte[13])));
        List<int[]> caps = walk(cs);
        assertEquals(
                List.of(0x01, 0x10, 0x05, 0x11, 0x09),
                caps.stream().map(c -> c[1]).toList());
        for (int i = 0; i < caps.size(); i++) {
            int at = caps.get(i)[0];
            assertEquals(0, at & 3, "DWORD aligned");
            assertTrue(at >= 0x40 && at < 0x100);
            if (i > 0) {
                assertTrue(at > caps.get(i - 1)[0], "structures do not overlap");
            }
        }
        assertEquals(0x10, cs.read(0x06, 2) & 0x10);
        assertEquals(16, cs.read(caps.get(4)[0] + 2, 1), "vendor-specific length byte");
    }

    /** Pointers are RO: software cannot cut or redirect the list. */
    @Test
    void pointersAreReadOnly() {
        ConfigSpace cs = build(List.of(PciExpressCapability.endpoint(), new PowerManagementCapability()));
        List<int[]> before = walk(cs);
        cs.write(0x34, 1, 0);
        for (int[] cap : before) {
            cs.write(cap[0], 2, 0);
        }
        List<int[]> after = walk(cs);
        assertEquals(before.size(), after.size());
        for (int i = 0; i < before.size(); i++) {
            assertEquals(before.get(i)[0], after.get(i)[0]);
            assertEquals(before.get(i)[1], after.get(i)[1]);
        }
    }

    /**
     * §7.6.3: "Absence of any Extended Capabilities is required to be indicated by an Extended Capability
     * header with a Capability ID of 0000h, a Capability Version of 0h, and a Next Capability Offset of 000h."
     */
    @Test
    void extendedCapabilityListIsEmptyWithZeroHeader() {
        ConfigSpace cs = build(List.of(PciExpressCapability.endpoint()));
        assertEquals(0, cs.read(0x100, 4));
        cs.write(0x100, 4, 0xFFFF_FFFF);
        assertEquals(0, cs.read(0x100, 4));
    }

    @Test
    void tooManyCapabilitiesAreRejected() {
        List<Capability> caps = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            caps.add(new VendorSpecificCapability(new byte[60], new byte[60]));
        }
        assertThrows(IllegalArgumentException.class, () -> build(caps));
    }

    @Test
    void aCapabilityInstallsOnlyOnce() {
        PowerManagementCapability pm = new PowerManagementCapability();
        build(List.of(pm));
        assertThrows(IllegalStateException.class, () -> build(List.of(pm)));
    }
}
