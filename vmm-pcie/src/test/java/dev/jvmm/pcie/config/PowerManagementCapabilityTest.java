package dev.jvmm.pcie.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** PCI Power Management, PCIe Base 6.0 §7.5.2. */
class PowerManagementCapabilityTest {
    private ConfigSpace cs;
    private int at;
    private PowerManagementCapability pm;

    @BeforeEach
    void setUp() {
        pm = new PowerManagementCapability();
        cs = new ConfigSpace();
        new Type0Header(0x1234, 0x5678, 0xFF0000, 0, 0, 0, 0).install(cs);
        at = CapabilityChain.install(cs, List.of(pm))[0];
    }

    /** §7.5.2.1: version 011b (PCI PM 1.2), no D1/D2, no PME; the register is RO. */
    @Test
    void capabilitiesRegister() {
        assertEquals(0x01, cs.read(at, 1));
        assertEquals(0x0003, cs.read(at + 2, 2));
        cs.write(at + 2, 2, 0xFFFF);
        assertEquals(0x0003, cs.read(at + 2, 2));
    }

    /** §7.5.2.2: D0 after reset, No_Soft_Reset (3) set; D3hot is accepted. */
    @Test
    void d3HotIsAccepted() {
        assertEquals(1 << 3, cs.read(at + 4, 2));
        cs.write(at + 4, 2, 3);
        assertEquals(3, pm.powerState());
        cs.write(at + 4, 2, 0);
        assertEquals(0, pm.powerState());
    }

    /** §7.5.2.2: "the data is discarded and no state change occurs" for an unsupported state. */
    @ParameterizedTest(name = "D{0}")
    @ValueSource(ints = {1, 2})
    void unsupportedStatesAreDiscarded(int state) {
        cs.write(at + 4, 2, 3);
        cs.write(at + 4, 2, state);
        assertEquals(3, pm.powerState());
        cs.write(at + 4, 2, 0);
        cs.write(at + 4, 2, state);
        assertEquals(0, pm.powerState());
    }

    /** Without PME support PME_En (8) and PME_Status (15) are RO 0. */
    @Test
    void pmeBitsAreNotImplemented() {
        cs.write(at + 4, 2, 0xFFFC);
        assertEquals(1 << 3, cs.read(at + 4, 2));
    }
}
