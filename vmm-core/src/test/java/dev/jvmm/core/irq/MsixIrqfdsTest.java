package dev.jvmm.core.irq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.kvm.ErrnoException;
import dev.jvmm.kvm.EventFd;
import dev.jvmm.kvm.IrqRoute;
import dev.jvmm.pcie.EndpointFunction;
import dev.jvmm.pcie.RootComplex;
import dev.jvmm.pcie.Topology;
import dev.jvmm.pcie.config.BarDefinition;
import dev.jvmm.pcie.msi.RequesterId;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The irqfd routes of an MSI-X function follow every guest change that could make them stale: entry rewrite, entry
 * mask, function mask, MSI-X enable, Bus Master Enable, and bus renumbering (the devid). Driven through ECAM and the
 * BAR like a guest, on a real topology (root port -> endpoint) and real eventfds; KVM is a recorder.
 */
class MsixIrqfdsTest {
    private static final DeviceIdMapping ITS = DeviceIdMapping.forSegments(List.of(0, 2));
    private static final long DOORBELL = ITS.its(2).orElseThrow().doorbell();
    private static final int TABLE_BAR = 1;

    /** What KVM was told. */
    static final class RecordingKernel implements MsiRoutes.Kernel {
        final List<List<IrqRoute>> tables = new ArrayList<>();
        final List<Integer> assigned = new ArrayList<>();
        boolean refuse;

        @Override
        public void setGsiRouting(List<IrqRoute> routes) throws ErrnoException {
            if (refuse) throw new ErrnoException("KVM_SET_GSI_ROUTING", 22);
            tables.add(List.copyOf(routes));
        }

        @Override
        public void assignIrqfd(EventFd event, int gsi) {
            assigned.add(gsi);
        }

        @Override
        public void deassignIrqfd(EventFd event, int gsi) {
            assigned.remove((Integer) gsi);
        }

        List<IrqRoute> table() {
            return tables.isEmpty() ? List.of() : tables.getLast();
        }
    }

    private final RecordingKernel kernel = new RecordingKernel();
    private final List<String> direct = new ArrayList<>();
    private EndpointFunction fn;
    private RootComplex rc;
    private MsixIrqfds irqfds;

    @BeforeEach
    void setUp() throws Exception {
        fn = EndpointFunction.builder(0x1AF4, 0x1044, 0xFF0000)
                .bar(TABLE_BAR, BarDefinition.memory32(4096))
                .msix(3, TABLE_BAR, 0, TABLE_BAR, 2048)
                .build();
        Topology t = Topology.builder()
                .rootComplex("rc", 2, 256)
                .rootPort("rc", "rp", false)
                .endpoint("rp", "ep", fn)
                .build();
        rc = t.rootComplex("rc").orElseThrow();
        ItsMsiDelivery its = new ItsMsiDelivery(ITS, (a, d, id) -> {
            direct.add("0x%x/%d/0x%x".formatted(a, d, id));
            return 1;
        });
        rc.connectMsiSink(its.sink(2));
        irqfds = MsixIrqfds.attach("ep", fn, 2, new MsiRoutes(kernel, 4096), its);
        rc.addBusNumberListener(irqfds::refresh);
        setBuses(1); // the guest enumerates: the root port's secondary bus is 1
    }

    @AfterEach
    void tearDown() {
        irqfds.close();
    }

    private void setBuses(int secondary) {
        rc.write(0x18, 4, secondary << 8 | secondary << 16); // root port 00:00.0: primary 0, secondary, subordinate
    }

    private long epConfig(int bus) {
        return (long) bus << 20;
    }

    private void configWrite(int offset, int size, int value) {
        rc.write(epConfig(1) + offset, size, value);
    }

    private void enableMsix(boolean enable, boolean functionMask) {
        int cap = fn.msix().orElseThrow().offset();
        configWrite(cap + 2, 2, (enable ? 0x8000 : 0) | (functionMask ? 0x4000 : 0));
    }

    private void busMaster(boolean on) {
        configWrite(0x04, 2, on ? 0x6 : 0x2);
    }

    private void entry(int vector, long address, int data, boolean masked) {
        fn.barWrite(TABLE_BAR, vector * 16L, 4, address & 0xFFFF_FFFFL);
        fn.barWrite(TABLE_BAR, vector * 16L + 4, 4, address >>> 32);
        fn.barWrite(TABLE_BAR, vector * 16L + 8, 4, data);
        fn.barWrite(TABLE_BAR, vector * 16L + 12, 4, masked ? 1 : 0);
    }

    private Optional<IrqRoute> msi(int vector, long address, int data, int devid) {
        return Optional.of(new IrqRoute.Msi(irqfds.gsi(vector), address, data, OptionalInt.of(devid)));
    }

    private void program() {
        busMaster(true);
        entry(0, DOORBELL, 10, false);
        entry(1, DOORBELL, 11, false);
        entry(2, DOORBELL, 12, true);
        enableMsix(true, false);
    }

    @Test
    void noRouteUntilTheGuestEnablesMsixAndBusMastering() {
        entry(0, DOORBELL, 10, false);
        assertEquals(Optional.empty(), irqfds.route(0));
        enableMsix(true, false);
        assertEquals(Optional.empty(), irqfds.route(0), "Bus Master Enable is still clear");
        busMaster(true);
        assertEquals(msi(0, DOORBELL, 10, new RequesterId(1, 0, 0).value()), irqfds.route(0));
        assertTrue(kernel.assigned.contains(irqfds.gsi(0)), "irqfd assigned after its route was set");
    }

    @Test
    void unmaskedVectorsRouteTheirMessageWithTheDevidOfTheirRequesterId() {
        program();
        assertEquals(msi(0, DOORBELL, 10, 0x0100), irqfds.route(0));
        assertEquals(msi(1, DOORBELL, 11, 0x0100), irqfds.route(1));
        assertEquals(Optional.empty(), irqfds.route(2), "masked entry: no route");
        assertEquals(2, kernel.table().size());
    }

    @Test
    void aRewrittenVectorIsRerouted() {
        program();
        entry(1, DOORBELL, 99, false);
        assertEquals(msi(1, DOORBELL, 99, 0x0100), irqfds.route(1));
        assertTrue(kernel.table().contains(msi(1, DOORBELL, 99, 0x0100).get()));
        assertTrue(
                kernel.table().stream().noneMatch(r -> r instanceof IrqRoute.Msi m && m.data() == 11),
                "old vector gone");
    }

    @Test
    void renumberingTheBusChangesTheDevidOfEveryRoute() {
        program();
        setBuses(7);
        assertEquals(msi(0, DOORBELL, 10, 0x0700), irqfds.route(0));
        assertEquals(msi(1, DOORBELL, 11, 0x0700), irqfds.route(1));
        setBuses(0); // unassigned: no requester id, so no route at all
        assertEquals(Optional.empty(), irqfds.route(0));
        assertEquals(List.of(), kernel.table());
    }

    @Test
    void maskingAndDisablingRemoveRoutesAndRaisesBecomePendingBits() {
        program();
        fn.barWrite(TABLE_BAR, 12, 4, 1); // mask entry 0
        assertEquals(Optional.empty(), irqfds.route(0));
        irqfds.raise(0);
        assertTrue(fn.msix().orElseThrow().isPending(0), "a raise while masked sets the pending bit (§6.1.4.5)");
        assertEquals(0, irqfds.fastRaises());
        fn.barWrite(TABLE_BAR, 12, 4, 0); // unmask: the pending message is sent directly, then the route returns
        assertEquals(List.of("0x%x/10/0x100".formatted(DOORBELL)), direct);
        assertEquals(msi(0, DOORBELL, 10, 0x0100), irqfds.route(0));

        enableMsix(true, true); // function mask
        assertEquals(Optional.empty(), irqfds.route(1));
        enableMsix(false, false);
        assertEquals(Optional.empty(), irqfds.route(0));
        busMaster(false);
        enableMsix(true, false);
        assertEquals(Optional.empty(), irqfds.route(0), "no Bus Master Enable, no route");
    }

    @Test
    void aRoutedRaiseGoesThroughTheIrqfdAndNeverThroughKvmSignalMsi() throws Exception {
        program();
        irqfds.raise(1);
        irqfds.raise(1);
        assertEquals(2, irqfds.fastRaises());
        assertEquals(List.of(), direct);
        irqfds.raise(2); // masked: pending, not sent
        irqfds.raise(-1);
        irqfds.raise(3); // out of range: ignored
        assertEquals(1, irqfds.slowRaises());
    }

    @Test
    void aMessageToAnotherDoorbellGetsNoRouteAndIsDroppedAsTheSinkWouldDropIt() {
        busMaster(true);
        entry(0, ITS.its(0).orElseThrow().doorbell(), 10, false); // segment 0's ITS, not this segment's
        enableMsix(true, false);
        assertEquals(Optional.empty(), irqfds.route(0));
    }

    @Test
    void whenKvmRefusesTheTableEveryVectorFallsBackToTheDirectPath() {
        kernel.refuse = true;
        program();
        assertEquals(Optional.empty(), irqfds.route(0));
        irqfds.raise(0);
        assertEquals(List.of("0x%x/10/0x100".formatted(DOORBELL)), direct);
        kernel.refuse = false;
        irqfds.refresh();
        assertEquals(msi(0, DOORBELL, 10, 0x0100), irqfds.route(0));
    }
}
