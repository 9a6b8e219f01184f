package dev.jvmm.core.pci;

import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.pcie.PciFunction;
import dev.jvmm.pcie.Topology;
import java.util.List;
import org.junit.jupiter.api.Test;

class PcieConfigTest {
    private static PcieConfig.RootComplexSpec rc(String name, int segment) {
        return new PcieConfig.RootComplexSpec(name, segment, 256);
    }

    private static String problems(
            List<PcieConfig.RootComplexSpec> rcs,
            List<PcieConfig.RootPortSpec> rps,
            List<PcieConfig.SwitchSpec> sws,
            List<PcieConfig.EndpointSpec> eps) {
        return assertThrows(IllegalArgumentException.class, () -> new PcieConfig(rcs, rps, sws, eps))
                .getMessage();
    }

    @Test
    void segmentsNeedEcamRoomInTheMemoryMap() {
        String m = problems(List.of(rc("rc0", 16)), List.of(), List.of(), List.of());
        assertEquals("root complex 'rc0': segment=16 out of range 0-15 (the memory map has ECAM for 16 segments)", m);
    }

    @Test
    void topologyProblemsNameThePartAndComeOnOneLine() {
        String m = problems(
                List.of(rc("rc0", 0)),
                List.of(new PcieConfig.RootPortSpec("rc9", "rp0", false)),
                List.of(new PcieConfig.SwitchSpec("nope", "sw0", 2, false)),
                List.of());
        assertTrue(m.contains("root port 'rp0': root complex 'rc9' does not exist"), m);
        assertTrue(m.contains("switch 'sw0': port 'nope' does not exist"), m);
        assertFalse(m.contains("\n"), "one line: " + m);
    }

    @Test
    void endpointIdsAndFunctionCountsAreChecked() {
        String m = problems(
                List.of(rc("rc0", 0)),
                List.of(new PcieConfig.RootPortSpec("rc0", "rp0", false)),
                List.of(),
                List.of(new PcieConfig.EndpointSpec("rp0", "ep0", 9, 0xFFFF, 0x1_0000, 0x100_0000, false)));
        assertTrue(m.contains("endpoint 'ep0': functions=9 out of range 1-8"), m);
        assertTrue(m.contains("endpoint 'ep0': vendor=0xffff out of range"), m);
        assertTrue(m.contains("endpoint 'ep0': device=0x10000 out of range"), m);
        assertTrue(m.contains("endpoint 'ep0': class=0x1000000 out of range"), m);
    }

    @Test
    void twoRootComplexesOnOneSegmentOverlap() {
        String m = problems(List.of(rc("a", 3), rc("b", 3)), List.of(), List.of(), List.of());
        assertTrue(m.contains("root complex 'b': buses 00-ff of segment 3 overlap root complex 'a'"), m);
    }

    @Test
    void eachBuildIsAFreshHierarchy() {
        PcieConfig c = PcieHostTest.twoRootComplexes();
        Topology a = c.buildTopology(), b = c.buildTopology();
        PciFunction fa = a.endpoint("ep0").orElseThrow().function(1).orElseThrow();
        PciFunction fb = b.endpoint("ep0").orElseThrow().function(1).orElseThrow();
        assertNotSame(fa, fb);
        assertTrue(a.endpoint("ep0").orElseThrow().isMultiFunction());
        assertEquals(
                List.of("rp0", "rp1", "rp2", "rp3", "sw0.dp0", "sw0.dp1", "sw0.dp2"),
                List.copyOf(a.ports().keySet()));
    }

    @Test
    void noneIsEmpty() {
        assertTrue(PcieConfig.NONE.isEmpty());
        assertFalse(PcieHostTest.twoRootComplexes().isEmpty());
    }
}
