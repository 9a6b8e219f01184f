package dev.jvmm.core.irq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.kvm.Errno;
import dev.jvmm.kvm.ErrnoException;
import dev.jvmm.kvm.IrqRoute;
import dev.jvmm.pcie.msi.RequesterId;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class ItsMsiDeliveryTest {
    private static final DeviceIdMapping MAPPING = DeviceIdMapping.forSegments(List.of(0, 1, 15));
    private static final long DOORBELL0 = 0x0808_0000L + 0x10040, DOORBELL1 = 0x0A00_0000L + 0x10040;
    private final List<String> injected = new ArrayList<>();

    private ItsMsiDelivery its(int answer) {
        return new ItsMsiDelivery(MAPPING, (a, d, id) -> {
            injected.add("0x%x/%d/0x%x".formatted(a, d, id));
            return answer;
        });
    }

    @Test
    void eachSegmentsMessagesGoToItsOwnItsWithTheRequesterIdAsDeviceId() {
        var its = its(1);
        its.sink(0).signal(DOORBELL0, 3, new RequesterId(5, 0, 1));
        its.sink(1).signal(DOORBELL1, 4, new RequesterId(5, 0, 1));
        its.sink(15).signal(0x0A00_0000L + 14 * 0x20000 + 0x10040, 5, new RequesterId(0xff, 31, 7));
        assertEquals(
                List.of("0x8090040/3/0x501", "0xa010040/4/0x501", "0xa1d0040/5/0xffff"),
                injected,
                "segment s uses its own doorbell; devid = RID, the whole 16-bit space on every segment");
        assertEquals(3, its.stats().deliveredCount());
    }

    @Test
    void aMessageToAnotherSegmentsDoorbellOrToNoItsIsDropped() {
        var its = its(1);
        its.sink(1).signal(DOORBELL0, 1, new RequesterId(1, 0, 0)); // segment 0's ITS: not this segment's
        its.sink(0).signal(0x0808_0000L, 1, new RequesterId(1, 0, 0)); // the control frame, not GITS_TRANSLATER
        its.sink(0).signal(0x0802_0040L, 1, new RequesterId(1, 0, 0)); // the v2m doorbell
        its.sink(7).signal(DOORBELL0, 1, new RequesterId(1, 0, 0)); // segment 7 has no ITS in this machine
        assertEquals(List.of(), injected);
        assertEquals(4, its.stats().rejectedCount());
        assertEquals(0, its.stats().deliveredCount());
    }

    @Test
    void aMessageKvmDidNotDeliverIsCountedAsBlockedNotDelivered() {
        var its = its(0); // KVM_SIGNAL_MSI answers 0: the guest's ITS has no mapping for the DeviceID/EventID
        its.sink(0).signal(DOORBELL0, 9, new RequesterId(1, 0, 0));
        assertEquals(1, injected.size());
        assertEquals(0, its.stats().deliveredCount());
        assertEquals(1, its.stats().blockedCount());
        assertTrue(its.stats().toString().contains("blocked=1"), its.stats().toString());
    }

    @Test
    void kernelRefusalsAreCountedNotThrown() {
        // EBUSY is what KVM answers while the guest has not enabled its ITS.
        var its = new ItsMsiDelivery(MAPPING, (a, d, id) -> {
            throw new ErrnoException("KVM_SIGNAL_MSI", Errno.EBUSY);
        });
        for (int i = 0; i < 5; i++) its.sink(0).signal(DOORBELL0, i, new RequesterId(5, 0, 1));
        assertEquals(5, its.stats().failedCount());
        assertEquals(0, its.stats().deliveredCount());
    }

    @Test
    void theRouteCarriesWhatTheSinkWouldSend() {
        var its = its(1);
        RequesterId rid = new RequesterId(3, 2, 1);
        assertEquals(
                Optional.of(new IrqRoute.Msi(7, DOORBELL1, 42, OptionalInt.of(rid.value()))),
                its.route(7, 1, rid, DOORBELL1, 42));
        assertEquals(Optional.empty(), its.route(7, 1, rid, DOORBELL0, 42), "wrong ITS for the segment");
        assertEquals(Optional.empty(), its.route(7, 3, rid, DOORBELL0, 42), "no ITS for segment 3");
    }
}
