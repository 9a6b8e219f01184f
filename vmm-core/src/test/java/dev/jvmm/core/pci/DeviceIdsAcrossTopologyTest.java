package dev.jvmm.core.pci;

import static dev.jvmm.core.arch.aarch64.MemoryMap.MiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.arch.aarch64.MemoryMap;
import dev.jvmm.core.bus.Bus;
import dev.jvmm.core.irq.DeviceIdMapping;
import dev.jvmm.core.irq.ItsMsiDelivery;
import dev.jvmm.pcie.Endpoint;
import dev.jvmm.pcie.PciFunction;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The DeviceID jvmm injects for every function of a topology, on every segment, equals the requester id the guest
 * sees after it numbered the buses, and goes to the ITS of the function's own segment: the values the guest's
 * {@code msi-map = <0 &its-of-the-segment 0 0x10000>} makes its ITS driver use (MSI domain: devid = msi-base + RID).
 */
class DeviceIdsAcrossTopologyTest {
    private static final MemoryMap MAP = MemoryMap.create(2, 256 * MiB, 40);

    /** Segment 0: root port -> switch (3 ports) -> a 3-function endpoint below dp2, and an RCiEP-free root port with
     *  an endpoint; segment 5: two root ports, a switch and endpoints; segment 15, a 16-bus root complex. */
    private static PcieConfig topology() {
        return new PcieConfig(
                List.of(
                        new PcieConfig.RootComplexSpec("rc0", 0, 256),
                        new PcieConfig.RootComplexSpec("rc5", 5, 256),
                        new PcieConfig.RootComplexSpec("rc15", 15, 16)),
                List.of(
                        new PcieConfig.RootPortSpec("rc0", "rp0", false),
                        new PcieConfig.RootPortSpec("rc0", "rp1", true),
                        new PcieConfig.RootPortSpec("rc5", "rp2", false),
                        new PcieConfig.RootPortSpec("rc5", "rp3", false),
                        new PcieConfig.RootPortSpec("rc15", "rp4", false)),
                List.of(
                        new PcieConfig.SwitchSpec("rp0", "sw0", 3, false),
                        new PcieConfig.SwitchSpec("rp3", "sw1", 2, false)),
                List.of(
                        new PcieConfig.EndpointSpec("sw0.dp2", "ep0", 3),
                        new PcieConfig.EndpointSpec("rp1", "ep1", 1),
                        new PcieConfig.EndpointSpec("rp2", "ep2", 8),
                        new PcieConfig.EndpointSpec("sw1.dp1", "ep3", 2),
                        new PcieConfig.EndpointSpec("rp4", "ep4", 1)));
    }

    @Test
    void everyFunctionSignalsWithItsRequesterIdToItsOwnSegmentsIts() {
        PcieHost host = PcieHost.create(topology(), MAP);
        Bus bus = new Bus("mmio");
        host.attach(bus);
        DeviceIdMapping mapping = DeviceIdMapping.forSegments(host.segments());
        List<String> injected = new ArrayList<>();
        ItsMsiDelivery its = new ItsMsiDelivery(mapping, (address, data, devid) -> {
            injected.add("0x%x %04x".formatted(address, devid));
            return 1;
        });
        host.connectMsi(b -> its.sink(b.segment()));

        List<String> expected = new ArrayList<>();
        int functions = 0;
        for (PcieHostBridge bridge : host.bridges()) {
            long doorbell = mapping.its(bridge.segment()).orElseThrow().doorbell();
            Map<String, GuestPci.Found> byBdf = new java.util.HashMap<>();
            for (GuestPci.Found f : new GuestPci(bus, bridge).enumerate()) byBdf.put(f.bdf(), f);
            for (Map.Entry<String, Endpoint> e : host.topology().endpoints().entrySet()) {
                for (int fn = 0; fn < 8; fn++) {
                    PciFunction f = e.getValue().function(fn).orElse(null);
                    if (f == null || host.bridgeOf(f).orElseThrow() != bridge) continue;
                    var rid = f.msiTarget()
                            .requesterId()
                            .orElseThrow(() -> new AssertionError(e.getKey() + " has no RID"));
                    // The guest found this function at exactly the requester id jvmm will use for it.
                    String bdf = "%02x:%02x.%x".formatted(rid.bus(), rid.device(), rid.function());
                    assertTrue(
                            byBdf.containsKey(bdf), e.getKey() + "." + fn + " at " + bdf + " not found by the guest");
                    assertTrue(f.msiTarget().signal(doorbell, fn));
                    expected.add("0x%x %04x".formatted(doorbell, rid.bus() << 8 | rid.device() << 3 | rid.function()));
                    functions++;
                }
            }
        }
        assertEquals(15, functions);
        assertEquals(expected, injected);
        assertEquals(15, its.stats().deliveredCount());
        assertEquals(0, its.stats().rejectedCount());
        // Segment 0's functions behind the switch sit on bus 5 (rp0 -> 1, switch internal 2, dp0..2 -> 3..5).
        assertTrue(
                injected.contains(
                        "0x%x 0502".formatted(mapping.its(0).orElseThrow().doorbell())),
                injected.toString());
    }
}
