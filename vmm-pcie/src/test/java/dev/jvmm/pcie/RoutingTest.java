package dev.jvmm.pcie;

import static dev.jvmm.pcie.PcieTestSupport.cfgRead;
import static dev.jvmm.pcie.PcieTestSupport.cfgWrite;
import static dev.jvmm.pcie.PcieTestSupport.ecam;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.pcie.PcieTestSupport.Enumerator;
import dev.jvmm.pcie.PcieTestSupport.Found;
import dev.jvmm.pcie.PcieTestSupport.RecordingSink;
import dev.jvmm.pcie.msi.RequesterId;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Configuration routing through Root Ports and two levels of Switches (PCIe Base 6.0 §7.3.1, §7.3.3) after
 * a Linux-style depth-first enumeration, and requester ids derived from the bus numbers it assigned.
 *
 * <pre>
 * rc0 (segment 0, buses 00-ff)
 *  +- 00:00.0 rp0 (hot-plug) -- 01:00.0 sw0 upstream
 *  |                              +- 02:00.0 sw0.dp0 -- 03:00.0 sw1 upstream
 *  |                              |                      +- 04:00.0 sw1.dp0 -- 05:00.0-7 mf (8 functions)
 *  |                              |                      +- 04:01.0 sw1.dp1 -- (empty, bus 06)
 *  |                              +- 02:01.0 sw0.dp1 -- 07:00.0 nic
 *  +- 00:01.0 rp1 -- (empty, bus 08)
 * </pre>
 */
class RoutingTest {
    private static final int ROOT_PORT = 0x000C_1B36;
    private static final int UPSTREAM = 0x8232_104C;
    private static final int DOWNSTREAM = 0x8233_104C;

    private final List<EndpointFunction> mf = new ArrayList<>();
    private EndpointFunction nic;
    private Topology topology;
    private RootComplex rc;
    private final RecordingSink sink = new RecordingSink();

    @BeforeEach
    void setUp() throws TopologyException {
        for (int f = 0; f < 8; f++) {
            mf.add(PcieTestSupport.device(0x1000 + f));
        }
        nic = PcieTestSupport.device(0x2000);
        topology = Topology.builder()
                .rootComplex("rc0", 0, 256)
                .rootPort("rc0", "rp0", true)
                .rootPort("rc0", "rp1", false)
                .pcieSwitch("rp0", "sw0", 2, false)
                .pcieSwitch("sw0.dp0", "sw1", 2, true)
                .endpoint("sw1.dp0", "mf", mf.toArray(PciFunction[]::new))
                .endpoint("sw0.dp1", "nic", nic)
                .build();
        rc = topology.rootComplex("rc0").orElseThrow();
        rc.connectMsiSink(sink);
    }

    private static Found at(int bus, int dev, int fn, int id) {
        return new Found(bus, dev, fn, id);
    }

    private static int endpointId(int deviceId) {
        return deviceId << 16 | PcieTestSupport.TEST_VENDOR;
    }

    /** The enumeration finds every function at the BDF depth-first numbering gives it. */
    @Test
    void depthFirstEnumerationFindsTheWholeHierarchy() {
        Enumerator e = new Enumerator(rc);
        assertEquals(8, e.run());
        List<Found> expected = new ArrayList<>(List.of(
                at(0, 0, 0, ROOT_PORT),
                at(0, 1, 0, ROOT_PORT),
                at(1, 0, 0, UPSTREAM),
                at(2, 0, 0, DOWNSTREAM),
                at(2, 1, 0, DOWNSTREAM),
                at(3, 0, 0, UPSTREAM),
                at(4, 0, 0, DOWNSTREAM),
                at(4, 1, 0, DOWNSTREAM)));
        for (int f = 0; f < 8; f++) {
            expected.add(at(5, 0, f, endpointId(0x1000 + f)));
        }
        expected.add(at(7, 0, 0, endpointId(0x2000)));
        assertEquals(
                expected.stream().sorted(RoutingTest::byBdf).toList(),
                e.found.stream().sorted(RoutingTest::byBdf).toList());

        // §7.5.1.3.3-4: each port now holds the range the enumeration gave it
        assertEquals(
                "[01-07]", topology.port("rp0").orElseThrow().busNumberRange().toString());
        assertEquals(
                "[03-06]",
                topology.port("sw0.dp0").orElseThrow().busNumberRange().toString());
        assertEquals(
                "[05-05]",
                topology.port("sw1.dp0").orElseThrow().busNumberRange().toString());
        assertEquals(
                "[06-06]",
                topology.port("sw1.dp1").orElseThrow().busNumberRange().toString());
        assertEquals(
                "[08-08]", topology.port("rp1").orElseThrow().busNumberRange().toString());
        assertEquals(
                "[02-07]",
                topology.pcieSwitch("sw0")
                        .orElseThrow()
                        .upstreamPort()
                        .busNumberRange()
                        .toString());
        for (int f = 0; f < 8; f++) {
            // function 0 is seen through the multi-function view, which shares the function's MSI target
            assertSame(
                    mf.get(f).msiTarget(), rc.functionAt(5, 0, f).orElseThrow().msiTarget(), "function " + f);
        }
    }

    private static int byBdf(Found a, Found b) {
        return Integer.compare(
                a.bus() << 8 | a.device() << 3 | a.function(), b.bus() << 8 | b.device() << 3 | b.function());
    }

    /** §7.3.3: a configuration write travels through both switches and lands in the target's registers. */
    @Test
    void writesReachTheFunctionBehindTwoSwitches() {
        new Enumerator(rc).run();
        cfgWrite(rc, 5, 0, 3, 0x3C, 1, 0x42);
        assertEquals(0x42, mf.get(3).configSpace().read(0x3C, 1));
        assertEquals(0x42, cfgRead(rc, 5, 0, 3, 0x3C, 1));
        cfgWrite(rc, 7, 0, 0, 0x3C, 1, 0x17);
        assertEquals(0x17, nic.configSpace().read(0x3C, 1));
    }

    /** §7.5.1.1.9: only function 0 of a multi-function device carries Header Type bit 7. */
    @Test
    void multiFunctionBitIsOnFunctionZeroOnly() {
        new Enumerator(rc).run();
        assertEquals(0x80, cfgRead(rc, 5, 0, 0, 0x0E, 1));
        assertEquals(0x0080_0000, cfgRead(rc, 5, 0, 0, 0x0C, 4) & 0x00FF_0000);
        assertEquals(0x0080, cfgRead(rc, 5, 0, 0, 0x0E, 2));
        for (int f = 1; f < 8; f++) {
            assertEquals(0x00, cfgRead(rc, 5, 0, f, 0x0E, 1));
        }
        assertEquals(0x00, cfgRead(rc, 7, 0, 0, 0x0E, 1), "single-function device");
        assertEquals(0x00, mf.get(0).configSpace().read(0x0E, 1), "the function itself does not know");
    }

    /**
     * §2.2.6.2: every MSI carries the requester id bus:device.function; behind a port the bus is the port's
     * secondary bus and the device is 0, so functions 0-7 behind two switches are 05:00.0 - 05:00.7.
     */
    @Test
    void requesterIdsOfFunctionsZeroToSevenBehindTwoSwitches() {
        new Enumerator(rc).run();
        for (int f = 0; f < 8; f++) {
            PcieTestSupport.enableMsi(rc, 5, 0, f, 0x0808_0040L, 0x20 + f);
        }
        for (int f = 0; f < 8; f++) {
            assertTrue(mf.get(f).signal(0), "function " + f);
        }
        List<RequesterId> expected = new ArrayList<>();
        for (int f = 0; f < 8; f++) {
            expected.add(RequesterId.of(0x0500 + f));
            assertEquals(0x20 + f, sink.messages.get(f).data());
        }
        assertEquals(expected, sink.rids());
    }

    /**
     * Bus numbers belong to the guest: after renumbering, the next message carries the new bus and the old
     * bus no longer routes (a requester id captured earlier, such as an irqfd route's devid, would be stale).
     */
    @Test
    void renumberingChangesTheRequesterIdTheSinkSees() {
        AtomicInteger changes = new AtomicInteger();
        rc.addBusNumberListener(changes::incrementAndGet);
        new Enumerator(rc).run();
        PcieTestSupport.enableMsi(rc, 5, 0, 6, 0x0808_0040L, 1);
        PcieTestSupport.enableMsi(rc, 7, 0, 0, 0x0808_0040L, 2);
        mf.get(6).signal(0);
        nic.signal(0);
        int before = changes.get();

        new Enumerator(rc).run(0x40);
        assertTrue(changes.get() > before, "bus number listeners heard the renumbering");
        mf.get(6).signal(0);
        nic.signal(0);

        assertEquals(
                List.of(RequesterId.of(0x0506), RequesterId.of(0x0700), RequesterId.of(0x4406), RequesterId.of(0x4600)),
                sink.rids());
        assertEquals(0xFFFF_FFFF, cfgRead(rc, 5, 0, 6, 0x00, 4), "old bus 05 routes nowhere now");
        assertEquals(endpointId(0x1006), cfgRead(rc, 0x44, 0, 6, 0x00, 4));
        assertEquals(Optional.of(RequesterId.of(0x4406)), mf.get(6).msiTarget().requesterId());
    }

    /** Ports have requester ids too (for hot-plug interrupts): root bus devfn, internal-bus devfn. */
    @Test
    void portRequesterIdsFollowTheirBuses() {
        new Enumerator(rc).run();
        assertEquals(
                Optional.of(RequesterId.of(0x0000)),
                topology.port("rp0").orElseThrow().requesterId());
        assertEquals(
                Optional.of(RequesterId.of(0x0008)),
                topology.port("rp1").orElseThrow().requesterId());
        assertEquals(
                Optional.of(RequesterId.of(0x0208)),
                topology.port("sw0.dp1").orElseThrow().requesterId());
        assertEquals(
                Optional.of(RequesterId.of(0x0408)),
                topology.port("sw1.dp1").orElseThrow().requesterId());
        assertEquals(
                Optional.of(RequesterId.of(0x0300)),
                topology.pcieSwitch("sw1").orElseThrow().upstreamPort().requesterId());
    }

    /** Before the guest assigns bus numbers nothing below a port has a requester id, so MSIs are dropped. */
    @Test
    void unassignedBusesGiveNoRequesterId() {
        assertEquals(Optional.empty(), mf.get(0).msiTarget().requesterId());
        assertEquals(Optional.empty(), topology.port("sw0.dp0").orElseThrow().requesterId());
        assertEquals(
                Optional.of(RequesterId.of(0)),
                topology.port("rp0").orElseThrow().requesterId());
    }

    /** §7.3.3 with nothing programmed: every bus but the root bus is unroutable and reads all ones. */
    @Test
    void beforeEnumerationOnlyTheRootBusAnswers() {
        for (int bus = 1; bus < 256; bus++) {
            for (int dev : new int[] {0, 1, 31}) {
                assertEquals(0xFFFF_FFFF, cfgRead(rc, bus, dev, 0, 0x00, 4), "bus " + bus + " device " + dev);
            }
        }
        assertEquals(ROOT_PORT, cfgRead(rc, 0, 0, 0, 0, 4));
    }

    /**
     * Everything that decodes to nothing reads all ones, in every access size, and drops writes: holes on the
     * root bus, functions 1-7 of single-function devices, device numbers other than 0 on a link (§7.3.1),
     * buses outside every range, the bus of an empty port, unimplemented switch port numbers.
     */
    @ParameterizedTest(name = "{0}:{1}.{2}")
    @CsvSource({
        "0, 2, 0",
        "0, 31, 7",
        "0, 0, 1",
        "0, 1, 7", // root bus holes, functions of a root port
        "1, 1, 0",
        "1, 31, 0",
        "1, 0, 1", // link below rp0: only device 0, function 0
        "2, 2, 0",
        "2, 0, 1",
        "4, 2, 0", // switch internal buses: 2 ports each
        "5, 1, 0",
        "7, 0, 1",
        "7, 8, 0", // links with endpoints
        "6, 0, 0",
        "8, 0, 0", // empty links
        "9, 0, 0",
        "255, 0, 0",
        "128, 3, 4"
    }) // outside every range
    void unroutableAccessesReadAllOnesAndDropWrites(int bus, int dev, int fn) {
        new Enumerator(rc).run();
        List<byte[]> before = allConfigSpaces();
        for (int reg : new int[] {0x00, 0x04, 0x0E, 0x18, 0x3C, 0x100, 0xFFC}) {
            assertEquals(0xFF, cfgRead(rc, bus, dev, fn, reg, 1));
            assertEquals(0xFFFF, cfgRead(rc, bus, dev, fn, reg, 2));
            assertEquals(0xFFFF_FFFF, cfgRead(rc, bus, dev, fn, reg, 4));
            cfgWrite(rc, bus, dev, fn, reg, 4, 0);
            cfgWrite(rc, bus, dev, fn, reg, 1, 0x5A);
        }
        List<byte[]> after = allConfigSpaces();
        for (int i = 0; i < before.size(); i++) {
            assertArrayEquals(before.get(i), after.get(i), "function " + i + " changed by an unroutable write");
        }
    }

    private List<byte[]> allConfigSpaces() {
        List<byte[]> list = new ArrayList<>();
        for (DownstreamPort p : topology.ports().values()) {
            list.add(p.function.configSpace().snapshot());
        }
        for (String sw : List.of("sw0", "sw1")) {
            list.add(topology.pcieSwitch(sw)
                    .orElseThrow()
                    .upstreamPort()
                    .function
                    .configSpace()
                    .snapshot());
        }
        for (EndpointFunction f : mf) {
            list.add(f.configSpace().snapshot());
        }
        list.add(nic.configSpace().snapshot());
        return list;
    }

    /** ECAM accesses that cannot be one configuration request (§7.2.2) read all ones, whatever they hit. */
    @ParameterizedTest(name = "{0} bytes at +{1}")
    @CsvSource({"3, 0", "8, 0", "16, 0", "0, 0", "2, 1", "4, 2", "4, 1"})
    void malformedEcamAccessesReadAllOnes(int size, int misalign) {
        long offset = ecam(rc, 0, 0, 0, 0) + misalign;
        long expected = size >= 8 ? -1L : size <= 0 ? 0 : (1L << (8 * size)) - 1;
        assertEquals(expected, rc.read(offset, size));
        rc.write(offset, size, 0);
        assertEquals(ROOT_PORT, cfgRead(rc, 0, 0, 0, 0, 4));
    }

    /** Offsets outside the window read all ones (the machine's bus normally never sends them). */
    @ParameterizedTest
    @ValueSource(longs = {-4, 256L << 20, (256L << 20) + 4, Long.MAX_VALUE - 3})
    void offsetsOutsideTheWindowReadAllOnes(long offset) {
        assertEquals(0xFFFF_FFFFL, rc.read(offset, 4));
        rc.write(offset, 4, 0);
    }

    /** A Type 1 request for a bus below an endpoint has nowhere to go (§7.3.3: endpoints reject Type 1). */
    @Test
    void busesBelowAnEndpointAreUnroutable() {
        new Enumerator(rc).run();
        cfgWrite(rc, 4, 0, 0, 0x1A, 1, 0x06); // widen sw1.dp0 to 05-06, overlapping its sibling
        assertEquals(0xFFFF_FFFF, cfgRead(rc, 6, 0, 0, 0, 4), "bus 06 goes to sw1.dp0 (first match) and dies at mf");
        assertEquals(endpointId(0x1000), cfgRead(rc, 5, 0, 0, 0, 4));
    }

    /** Secondary bus 0 is unassigned: a port with secondary 0 routes nothing, whatever its subordinate says. */
    @Test
    void unprogrammedRangeRoutesNothing() {
        cfgWrite(rc, 0, 0, 0, 0x18, 4, 0x00FF_0000); // secondary 0, subordinate ff
        for (int bus = 1; bus < 256; bus += 17) {
            assertEquals(0xFFFF_FFFF, cfgRead(rc, bus, 0, 0, 0, 4));
        }
    }

    /**
     * §7.5.1.3.13: Secondary Bus Reset on a port hot-resets everything below it: the functions behind
     * sw1.dp0 lose their programming, functions elsewhere keep it.
     */
    @Test
    void secondaryBusResetResetsTheSubtreeOnly() {
        new Enumerator(rc).run();
        PcieTestSupport.enableMsi(rc, 5, 0, 2, 0xFEE0_0000L, 3);
        PcieTestSupport.enableMsi(rc, 7, 0, 0, 0xFEE0_0000L, 4);
        cfgWrite(rc, 4, 0, 0, 0x3E, 2, 0x40);
        cfgWrite(rc, 4, 0, 0, 0x3E, 2, 0x00);
        assertEquals(0, cfgRead(rc, 5, 0, 2, 0x04, 2), "Command cleared by the reset");
        assertTrue(!mf.get(2).msi().orElseThrow().isEnabled());
        assertEquals(0x4, cfgRead(rc, 7, 0, 0, 0x04, 2), "the nic is not below sw1.dp0");
        assertEquals(
                "[05-05]",
                topology.port("sw1.dp0").orElseThrow().busNumberRange().toString(),
                "the port itself keeps its buses");
    }

    /** Secondary Bus Reset above a switch resets the switch's ports too, so their bus numbers are gone. */
    @Test
    void secondaryBusResetAboveASwitchClearsItsBusNumbers() {
        new Enumerator(rc).run();
        cfgWrite(rc, 0, 0, 0, 0x3E, 2, 0x40);
        assertEquals(
                "[00-00]",
                topology.pcieSwitch("sw0")
                        .orElseThrow()
                        .upstreamPort()
                        .busNumberRange()
                        .toString());
        assertEquals(0xFFFF_FFFF, cfgRead(rc, 2, 0, 0, 0, 4));
        assertEquals(UPSTREAM, cfgRead(rc, 1, 0, 0, 0, 4), "the switch upstream port itself still answers");
    }

    /** PCIe capability Device/Port Type seen through ECAM for each kind of function (§7.5.3.2). */
    @Test
    void deviceTypesSeenThroughEcam() {
        new Enumerator(rc).run();
        assertEquals(0x4, pcieType(0, 0, 0));
        assertEquals(0x5, pcieType(1, 0, 0));
        assertEquals(0x6, pcieType(2, 1, 0));
        assertEquals(0x0, pcieType(5, 0, 7));
    }

    private int pcieType(int bus, int dev, int fn) {
        int cap = PcieTestSupport.findCapability(rc, bus, dev, fn, 0x10);
        return cfgRead(rc, bus, dev, fn, cap + 2, 2) >>> 4 & 0xF;
    }

    /**
     * §7.5.3.11, §7.5.3.8: a hot-plug port shows Presence Detect State and DLL Link Active while a device is
     * attached; after disconnecting, both clear, and the removed device's interrupts are dropped.
     */
    @Test
    void hotPlugPortReflectsPresence() {
        new Enumerator(rc).run();
        DownstreamPort port = topology.port("sw1.dp0").orElseThrow();
        int cap = PcieTestSupport.findCapability(rc, 4, 0, 0, 0x10);
        assertEquals(1 << 6, cfgRead(rc, 4, 0, 0, cap + 0x1A, 2) & 1 << 6);
        assertEquals(1 << 13, cfgRead(rc, 4, 0, 0, cap + 0x12, 2) & 1 << 13);
        assertEquals(0, cfgRead(rc, 4, 1, 0, cap + 0x1A, 2) & 1 << 6, "sw1.dp1 is empty");

        PcieTestSupport.enableMsi(rc, 5, 0, 0, 0xFEE0_0000L, 1);
        assertTrue(port.disconnect().isPresent());
        assertEquals(0, cfgRead(rc, 4, 0, 0, cap + 0x1A, 2) & 1 << 6);
        assertEquals(0, cfgRead(rc, 4, 0, 0, cap + 0x12, 2) & 1 << 13);
        assertEquals(0xFFFF_FFFF, cfgRead(rc, 5, 0, 0, 0, 4));
        assertTrue(!mf.get(0).signal(0));
        assertEquals(List.of(), sink.messages);
    }

    /** Hot-plug slots get distinct Physical Slot Numbers (Linux names slots after them). */
    @Test
    void hotPlugSlotsHaveDistinctSlotNumbers() {
        List<Integer> slots = new ArrayList<>();
        for (DownstreamPort p : topology.ports().values()) {
            p.pcieCapability().slot().ifPresent(s -> slots.add(s.physicalSlotNumber()));
        }
        assertEquals(List.of(1, 2, 3), slots, "rp0, sw1.dp0, sw1.dp1");
        assertTrue(topology.port("rp0").orElseThrow().isHotPlugCapable());
        assertTrue(!topology.port("rp1").orElseThrow().isHotPlugCapable());
    }
}
