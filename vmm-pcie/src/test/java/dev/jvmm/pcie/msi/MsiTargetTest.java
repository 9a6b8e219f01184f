package dev.jvmm.pcie.msi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The requester id is resolved when the message is sent (PCIe Base 6.0 §2.2.6.2: the bus number is the one
 * the guest last assigned). */
class MsiTargetTest {
    private final List<RequesterId> seen = new ArrayList<>();
    private final MsiSink sink = (address, data, rid) -> seen.add(rid);

    @Test
    void disconnectedTargetDropsAndCounts() {
        MsiTarget target = new MsiTarget();
        assertFalse(target.signal(0, 0));
        assertFalse(target.signal(0, 0));
        assertEquals(2, target.droppedCount());
        assertEquals(Optional.empty(), target.requesterId());
    }

    @Test
    void unassignedBusDropsTheMessage() {
        MsiTarget target = new MsiTarget();
        target.connect(() -> -1, 0, 0, sink);
        assertFalse(target.signal(0, 0));
        assertEquals(List.of(), seen);
    }

    @Test
    void busNumberIsReadAtSignalTime() {
        AtomicInteger bus = new AtomicInteger(4);
        MsiTarget target = new MsiTarget();
        target.connect(bus::get, 0, 6, sink);
        assertTrue(target.signal(0, 0));
        bus.set(9);
        assertTrue(target.signal(0, 0));
        assertEquals(List.of(new RequesterId(4, 0, 6), new RequesterId(9, 0, 6)), seen);
        target.disconnect();
        assertFalse(target.signal(0, 0));
    }

    @Test
    void badPlacementThrowsAtConnectTime() {
        assertThrows(IllegalArgumentException.class, () -> new MsiTarget().connect(() -> 0, 32, 0, sink));
    }
}
