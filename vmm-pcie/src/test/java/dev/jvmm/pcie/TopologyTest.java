package dev.jvmm.pcie;

import static dev.jvmm.pcie.PcieTestSupport.cfgRead;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.pcie.PcieTestSupport.RecordingSink;
import dev.jvmm.pcie.msi.RequesterId;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Building a hierarchy from names, and the messages that name the bad part when it cannot be built. */
class TopologyTest {

    private static List<String> problems(Topology.Builder builder) {
        return assertThrows(TopologyException.class, builder::build).problems();
    }

    @Test
    void missingRootComplexIsNamed() {
        assertEquals(
                List.of("root port 'rp3': root complex 'rc9' does not exist"),
                problems(Topology.builder().rootComplex("rc0", 0, 16).rootPort("rc9", "rp3", false)));
    }

    @Test
    void duplicateNamesAreNamed() {
        assertEquals(
                List.of("switch 'rp0': name already used by root port 'rp0'"),
                problems(Topology.builder()
                        .rootComplex("rc0", 0, 16)
                        .rootPort("rc0", "rp0", false)
                        .pcieSwitch("rp0", "rp0", 2, false)));
    }

    @Test
    void badPortReferencesAreNamed() {
        EndpointFunction f = PcieTestSupport.plainDevice(1);
        assertEquals(
                List.of(
                        "switch 'sw0': port 'rp7' does not exist",
                        "endpoint 'ep0': 'rc0' is a root complex, not a port",
                        "endpoint 'ep1': port 'rp0.dp9' does not exist"),
                problems(Topology.builder()
                        .rootComplex("rc0", 0, 16)
                        .rootPort("rc0", "rp0", false)
                        .pcieSwitch("rp7", "sw0", 2, false)
                        .endpoint("rc0", "ep0", f)
                        .endpoint("rp0.dp9", "ep1", PcieTestSupport.plainDevice(2))));
    }

    @Test
    void occupiedPortsAreNamed() {
        assertEquals(
                List.of("endpoint 'ep1': port 'rp0' already has endpoint 'ep0'"),
                problems(Topology.builder()
                        .rootComplex("rc0", 0, 16)
                        .rootPort("rc0", "rp0", false)
                        .endpoint("rp0", "ep0", PcieTestSupport.plainDevice(1))
                        .endpoint("rp0", "ep1", PcieTestSupport.plainDevice(2))));
    }

    @Test
    void tooManyDevicesOnTheRootBus() {
        Topology.Builder b = Topology.builder().rootComplex("rc0", 0, 256);
        for (int i = 0; i < 32; i++) {
            b.rootPort("rc0", "rp" + i, false);
        }
        b.integratedEndpoint("rc0", "rciep", PcieTestSupport.plainDevice(1));
        assertEquals(
                List.of("root complex 'rc0': 33 root ports and integrated endpoints on the root bus, at most 32"),
                problems(b));
    }

    @Test
    void tooManySwitchPorts() {
        assertEquals(
                List.of("switch 'sw0': ports=33 out of range 1-32"),
                problems(Topology.builder()
                        .rootComplex("rc0", 0, 64)
                        .rootPort("rc0", "rp0", false)
                        .pcieSwitch("rp0", "sw0", 33, false)));
    }

    /** Root bus + 2 root ports + switch (internal bus + 3 ports) = 7 buses. */
    @Test
    void busNumberRangeTooSmallIsNamed() throws TopologyException {
        Topology.Builder b = Topology.builder()
                .rootComplex("rc0", 0, 6)
                .rootPort("rc0", "rp0", false)
                .rootPort("rc0", "rp1", false)
                .pcieSwitch("rp0", "sw0", 3, false);
        assertEquals(
                List.of("root complex 'rc0': buses=6 is too small, the root bus, the ports and the switches below"
                        + " it need at least 7"),
                problems(b));
        Topology.Builder fits = Topology.builder()
                .rootComplex("rc0", 0, 7)
                .rootPort("rc0", "rp0", false)
                .rootPort("rc0", "rp1", false)
                .pcieSwitch("rp0", "sw0", 3, false);
        assertTrue(fits.build().pcieSwitch("sw0").isPresent());
    }

    @Test
    void switchBelowItselfIsNamed() {
        assertEquals(
                List.of(
                        "switch 'a': is attached below itself, not below a root complex",
                        "switch 'b': is attached below itself, not below a root complex"),
                problems(Topology.builder()
                        .rootComplex("rc0", 0, 16)
                        .pcieSwitch("b.dp0", "a", 1, false)
                        .pcieSwitch("a.dp0", "b", 1, false)));
    }

    @Test
    void rootComplexParametersAndOverlapsAreNamed() {
        assertEquals(
                List.of(
                        "root complex 'bad name': a name is 1-64 letters, digits, '_' or '-'",
                        "root complex 'rc1': buses 00-0f of segment 0 overlap root complex 'rc0'",
                        "root complex 'rc2': segment=65536 out of range 0-65535",
                        "root complex 'rc3': buses=300 out of range 1-256"),
                problems(Topology.builder()
                        .rootComplex("rc0", 0, 0, 256)
                        .rootComplex("rc1", 0, 0, 16)
                        .rootComplex("rc2", 65536, 16)
                        .rootComplex("rc3", 1, 300)
                        .rootComplex("bad name", 2, 16)));
    }

    @Test
    void endpointFunctionsAreChecked() {
        EndpointFunction shared = PcieTestSupport.plainDevice(1);
        assertEquals(
                List.of(
                        "endpoint 'ep0': has no function 0",
                        "endpoint 'ep1': function number 9 out of range 0-7",
                        "endpoint 'ep2': function 0 is the same object as a function of endpoint 'ep1'"),
                problems(Topology.builder()
                        .rootComplex("rc0", 0, 16)
                        .rootPort("rc0", "rp0", false)
                        .rootPort("rc0", "rp1", false)
                        .rootPort("rc0", "rp2", false)
                        .endpoint("rp0", "ep0", Map.of(1, PcieTestSupport.plainDevice(2)))
                        .endpoint("rp1", "ep1", Map.of(0, shared, 9, PcieTestSupport.plainDevice(3)))
                        .endpoint("rp2", "ep2", shared)));
    }

    @Test
    void everyProblemIsReportedAtOnce() {
        List<String> problems = problems(Topology.builder()
                .rootComplex("rc0", 0, 16)
                .rootPort("nope", "rp0", false)
                .rootPort("rc0", "rp0", false)
                .pcieSwitch("x", "sw", 0, false));
        assertEquals(4, problems.size(), String.join("\n", problems));
    }

    /**
     * RCiEPs sit on the root bus with Device/Port Type 1001b and a requester id of (root bus, device, function);
     * a root complex whose root bus is not 0 starts its ECAM window at that bus.
     */
    @Test
    void integratedEndpointOnANonZeroRootBus() throws TopologyException {
        EndpointFunction f0 = EndpointFunction.builder(0x1AF4, 0x10, 0x088000)
                .rootComplexIntegrated()
                .msi(1, false)
                .build();
        EndpointFunction f1 = EndpointFunction.builder(0x1AF4, 0x11, 0x088000)
                .rootComplexIntegrated()
                .build();
        Topology t = Topology.builder()
                .rootComplex("rc0", 3, 0x20, 8)
                .rootPort("rc0", "rp0", false)
                .integratedEndpoint("rc0", "rciep", f0, f1)
                .build();
        RootComplex rc = t.rootComplex("rc0").orElseThrow();
        assertEquals(8L << 20, rc.ecamSize());
        assertEquals(0x0010_1AF4, (int) rc.read(1 << 15, 4), "offset 0 is bus 20h; device 1 is the RCiEP");
        assertEquals(0x0011_1AF4, cfgRead(rc, 0x20, 1, 1, 0, 4));
        assertEquals(0x80, cfgRead(rc, 0x20, 1, 0, 0x0E, 1));
        int cap = PcieTestSupport.findCapability(rc, 0x20, 1, 0, 0x10);
        assertEquals(0x9, cfgRead(rc, 0x20, 1, 0, cap + 2, 2) >>> 4 & 0xF);

        RecordingSink sink = new RecordingSink();
        rc.connectMsiSink(sink);
        PcieTestSupport.enableMsi(rc, 0x20, 1, 0, 0x0808_0040L, 5);
        assertTrue(f0.signal(0));
        assertEquals(List.of(new RequesterId(0x20, 1, 0)), sink.rids());
    }

    /** Two segments: each root complex has its own window and its own sink. */
    @Test
    void segmentsHaveIndependentWindowsAndSinks() throws TopologyException {
        EndpointFunction a = PcieTestSupport.device(0xA);
        EndpointFunction b = PcieTestSupport.device(0xB);
        Topology t = Topology.builder()
                .rootComplex("rc0", 0, 16)
                .rootComplex("rc1", 1, 16)
                .rootPort("rc0", "rp0", false)
                .rootPort("rc1", "rp1", false)
                .endpoint("rp0", "a", a)
                .endpoint("rp1", "b", b)
                .build();
        RootComplex rc0 = t.rootComplex("rc0").orElseThrow();
        RootComplex rc1 = t.rootComplex("rc1").orElseThrow();
        RecordingSink s0 = new RecordingSink();
        RecordingSink s1 = new RecordingSink();
        rc0.connectMsiSink(s0);
        rc1.connectMsiSink(s1);
        new PcieTestSupport.Enumerator(rc0).run();
        new PcieTestSupport.Enumerator(rc1).run();
        PcieTestSupport.enableMsi(rc0, 1, 0, 0, 0xFEE0_0000L, 1);
        PcieTestSupport.enableMsi(rc1, 1, 0, 0, 0xFEE0_0000L, 2);
        a.signal(0);
        b.signal(0);
        assertEquals(List.of(RequesterId.of(0x0100)), s0.rids());
        assertEquals(List.of(RequesterId.of(0x0100)), s1.rids());
        assertEquals(0x000B_1AF4, cfgRead(rc1, 1, 0, 0, 0, 4));
    }

    @Test
    void namesAreLookedUp() throws TopologyException {
        Topology t = Topology.builder()
                .rootComplex("rc0", 0, 16)
                .rootPort("rc0", "rp0", true)
                .pcieSwitch("rp0", "sw0", 4, true)
                .endpoint("sw0.dp3", "ep", PcieTestSupport.plainDevice(1))
                .build();
        assertEquals(
                List.of("rp0", "sw0.dp0", "sw0.dp1", "sw0.dp2", "sw0.dp3"),
                List.copyOf(t.ports().keySet()));
        assertTrue(t.port("sw0.dp3").orElseThrow().linkedDevice().orElseThrow() instanceof Endpoint e
                && e.name().equals("ep"));
        assertTrue(t.port("rp0").orElseThrow().linkedDevice().orElseThrow() instanceof Switch s
                && s.name().equals("sw0"));
    }
}
