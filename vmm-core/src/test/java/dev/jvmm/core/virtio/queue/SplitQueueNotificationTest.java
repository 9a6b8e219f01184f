package dev.jvmm.core.virtio.queue;

import static dev.jvmm.core.virtio.queue.TestDriver.in;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Used buffer notifications (§2.7.7) and available buffer notifications (§2.7.10), with and without EVENT_IDX. */
class SplitQueueNotificationTest {
    private final TestDriver.Ram ram = new TestDriver.Ram(1 << 20);
    private final TestDriver d = new TestDriver(ram.memory, 8);
    private final long buf = d.alloc(64);

    @AfterEach
    void closeRam() {
        ram.close();
    }

    private SplitQueue queue(boolean eventIdx) throws VirtqueueException {
        return d.enabledQueue(8, eventIdx, false);
    }

    /** The driver adds one chain, the device pops and returns it. */
    private void serveOne(SplitQueue q) throws VirtqueueException {
        d.add(in(buf, 8));
        q.pushUsed(q.pop().orElseThrow(), 8);
        d.reclaim();
    }

    // --- without EVENT_IDX: VIRTQ_AVAIL_F_NO_INTERRUPT

    @Test
    void withoutEventIdxEveryBatchInterruptsUnlessNoInterrupt() throws VirtqueueException {
        SplitQueue q = queue(false);
        assertFalse(q.needsInterrupt(), "nothing used yet");
        serveOne(q);
        assertTrue(q.needsInterrupt());
        assertFalse(q.needsInterrupt(), "nothing used since the last interrupt");
        serveOne(q);
        serveOne(q);
        assertTrue(q.needsInterrupt(), "one interrupt for a batch");

        d.setAvailFlags(SplitQueue.VIRTQ_AVAIL_F_NO_INTERRUPT);
        serveOne(q);
        assertFalse(q.needsInterrupt());
        d.setAvailFlags(0);
        serveOne(q);
        assertTrue(q.needsInterrupt());
    }

    @Test
    void withoutEventIdxOnlyTheNoInterruptBitCounts() throws VirtqueueException {
        SplitQueue q = queue(false);
        d.setAvailFlags(0xFFFE);
        serveOne(q);
        assertTrue(q.needsInterrupt());
        d.setAvailFlags(0xFFFF);
        serveOne(q);
        assertFalse(q.needsInterrupt());
    }

    @Test
    void withoutEventIdxUsedEventIsIgnored() throws VirtqueueException {
        SplitQueue q = queue(false);
        d.setUsedEvent(100);
        serveOne(q);
        assertTrue(q.needsInterrupt());
    }

    // --- with EVENT_IDX: used_event

    @Test
    void usedEventSelectsTheEntryThatInterrupts() throws VirtqueueException {
        SplitQueue q = queue(true);
        d.setUsedEvent(0);
        serveOne(q); // entry 0 -> used idx 1
        assertTrue(q.needsInterrupt(), "used_event 0: notify after the first buffer (§2.7.7 note)");
        serveOne(q); // entry 1
        assertFalse(q.needsInterrupt(), "used_event still 0");

        d.setUsedEvent(3);
        serveOne(q); // entry 2
        assertFalse(q.needsInterrupt());
        serveOne(q); // entry 3
        assertTrue(q.needsInterrupt());

        d.setUsedEvent(5);
        serveOne(q); // entry 4
        serveOne(q); // entry 5
        serveOne(q); // entry 6
        assertTrue(q.needsInterrupt(), "entry 5 was in the batch 4..6");
        serveOne(q); // entry 7
        assertFalse(q.needsInterrupt(), "5 was already signalled");
    }

    @Test
    void withEventIdxTheNoInterruptBitIsIgnored() throws VirtqueueException {
        SplitQueue q = queue(true);
        d.setAvailFlags(SplitQueue.VIRTQ_AVAIL_F_NO_INTERRUPT);
        d.setUsedEvent(0);
        serveOne(q);
        assertTrue(q.needsInterrupt());
    }

    @Test
    void usedEventAcrossTheWrapOfTheSixteenBitIndex() throws VirtqueueException {
        SplitQueue q = queue(true);
        d.setUsedEvent(0x8000); // far away: no interrupts on the way
        for (int i = 0; i < 0xFFFE; i++) {
            serveOne(q);
            if (i % 1000 == 0) q.needsInterrupt();
        }
        q.needsInterrupt();
        assertEquals(0xFFFE, q.usedIndex());

        d.setUsedEvent(0xFFFF);
        serveOne(q); // entry 0xFFFE -> used idx 0xFFFF
        assertFalse(q.needsInterrupt());
        serveOne(q); // entry 0xFFFF -> used idx 0
        assertEquals(0, q.usedIndex());
        assertTrue(q.needsInterrupt());

        d.setUsedEvent(1);
        serveOne(q); // entry 0
        assertFalse(q.needsInterrupt());
        serveOne(q); // entry 1
        assertTrue(q.needsInterrupt());
    }

    @Test
    void aBatchSpanningTheWrapFindsUsedEvent() throws VirtqueueException {
        SplitQueue q = queue(true);
        d.setUsedEvent(0x8000);
        for (int i = 0; i < 0xFFFD; i++) {
            serveOne(q);
            q.needsInterrupt();
        }
        assertEquals(0xFFFD, q.usedIndex());
        d.setUsedEvent(0);
        for (int i = 0; i < 5; i++) serveOne(q); // entries 0xFFFD..1
        assertEquals(2, q.usedIndex());
        assertTrue(q.needsInterrupt());
    }

    @Test
    void sixtyFiveThousandUsedEntriesWithoutACheckAlwaysInterrupt() throws VirtqueueException {
        SplitQueue q = queue(true);
        d.setUsedEvent(0x1234);
        serveOne(q);
        assertFalse(q.needsInterrupt());
        // 2^16 entries since the last check: used idx is back where it was, the window is ambiguous.
        for (int i = 0; i < 0x10000; i++) serveOne(q);
        d.setUsedEvent(0); // not in any 16-bit window [1, 1)
        assertTrue(q.needsInterrupt());
    }

    // --- available buffer notifications: avail_event and VIRTQ_USED_F_NO_NOTIFY

    @Test
    void withEventIdxEnablePublishesAvailEventAndPopMovesItAlong() throws VirtqueueException {
        SplitQueue q = queue(true);
        assertEquals(0, d.availEvent());
        d.add(in(buf, 8));
        d.add(in(buf, 8));
        q.pop().orElseThrow();
        assertEquals(1, d.availEvent(), "notifications are on: avail_event follows the device");
        q.disableNotifications();
        q.pop().orElseThrow();
        assertEquals(1, d.availEvent(), "notifications off: avail_event stays");
        assertEquals(0, d.usedFlags(), "with EVENT_IDX the used flags stay 0");
        assertFalse(q.enableNotifications());
        assertEquals(2, d.availEvent(), "the next avail index the device will read");
        assertEquals(0, d.usedFlags());
    }

    @Test
    void withoutEventIdxTheNoNotifyFlagIsSetAndCleared() throws VirtqueueException {
        SplitQueue q = queue(false);
        q.disableNotifications();
        assertEquals(SplitQueue.VIRTQ_USED_F_NO_NOTIFY, d.usedFlags());
        d.add(in(buf, 8));
        q.pop().orElseThrow();
        assertEquals(0, d.availEvent(), "avail_event is not used without EVENT_IDX");
        assertFalse(q.enableNotifications());
        assertEquals(0, d.usedFlags());
    }

    @Test
    void enableNotificationsReportsChainsThatArrivedMeanwhile() throws VirtqueueException {
        for (boolean eventIdx : new boolean[] {false, true}) {
            TestDriver other = new TestDriver(ram.memory, TestDriver.RAM_BASE + (eventIdx ? 0x8_0000 : 0x4_0000), 8);
            SplitQueue q = other.enabledQueue(8, eventIdx, false);
            q.disableNotifications();
            other.add(in(other.alloc(8), 8)); // the driver adds while notifications are off ...
            assertTrue(q.enableNotifications(), "... so the device has to look again");
            assertTrue(q.pop().isPresent());
            assertFalse(q.enableNotifications());
        }
    }

    @Test
    void theDisableDrainEnableLoopServesEverything() throws VirtqueueException {
        SplitQueue q = queue(true);
        List<Integer> served = new ArrayList<>();
        d.add(in(buf, 8));
        d.add(in(buf + 8, 8));
        int rounds = 0;
        do {
            rounds++;
            q.disableNotifications();
            for (Optional<DescriptorChain> c; (c = q.pop()).isPresent(); ) {
                served.add(c.get().headIndex());
                q.pushUsed(c.get(), 0);
                if (served.size() == 2) d.add(in(buf + 16, 8)); // arrives during the drain
            }
        } while (q.enableNotifications());
        assertEquals(3, served.size());
        assertEquals(1, rounds, "the third chain was picked up by the same drain");
        d.reclaim();
        assertEquals(3, d.availEvent(), "the driver notifies when it adds the entry at avail index 3");
        assertTrue(q.needsInterrupt());
    }
}
