package dev.jvmm.core.virtio.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jvmm.core.memory.GuestMemory;
import java.lang.foreign.Arena;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A driver thread and a device thread on one queue, notifying each other only when the other side asked for it
 * (avail_event / VIRTQ_USED_F_NO_NOTIFY one way, used_event / VIRTQ_AVAIL_F_NO_INTERRUPT the other): every
 * chain is served and no side waits forever for a notification that was suppressed wrongly.
 */
class SplitQueueConcurrentTest {
    private static final int CHAINS = 200_000;
    private static final int SIZE = 16;
    private static final long WAIT_SECONDS = 20;

    @Test
    void noLostNotificationsWithEventIdx() throws Exception {
        run(true);
    }

    @Test
    void noLostNotificationsWithFlags() throws Exception {
        run(false);
    }

    private void run(boolean eventIdx) throws Exception {
        try (Arena arena = Arena.ofShared()) {
            GuestMemory mem = new GuestMemory(TestDriver.RAM_BASE, arena.allocate(1 << 20, 4096));
            TestDriver layout = new TestDriver(mem, SIZE);
            long bufs = layout.alloc(8L * SIZE);
            SplitQueue q = layout.enabledQueue(SIZE, eventIdx, false);
            Semaphore kick = new Semaphore(0); // available buffer notification
            Semaphore irq = new Semaphore(0); // used buffer notification
            AtomicReference<Throwable> failure = new AtomicReference<>();

            Thread device = Thread.ofPlatform().name("device").start(() -> {
                try {
                    int served = 0;
                    while (served < CHAINS) {
                        if (!kick.tryAcquire(WAIT_SECONDS, TimeUnit.SECONDS)) {
                            throw new AssertionError("device: no notification, served " + served + ", " + q);
                        }
                        do {
                            q.disableNotifications();
                            for (Optional<DescriptorChain> c; (c = q.pop()).isPresent(); ) {
                                byte[] v = new byte[8];
                                long n = served;
                                for (int i = 0; i < 8; i++) v[i] = (byte) (n >>> (8 * i));
                                c.get().write(0, v, 0, 8);
                                q.pushUsed(c.get(), 8);
                                served++;
                            }
                            if (q.needsInterrupt()) irq.release();
                        } while (q.enableNotifications());
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            });

            try {
                drive(mem, layout, bufs, eventIdx, kick, irq, failure);
            } finally {
                device.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
            }
            if (failure.get() != null) throw new AssertionError(failure.get());
            assertEquals(CHAINS & 0xFFFF, q.usedIndex());
        }
    }

    /** The guest's driver: Linux's virtqueue_add_split + virtqueue_kick_prepare + virtqueue_enable_cb. */
    private static void drive(
            GuestMemory mem,
            TestDriver l,
            long bufs,
            boolean eventIdx,
            Semaphore kick,
            Semaphore irq,
            AtomicReference<Throwable> failure)
            throws InterruptedException {
        ArrayDeque<Integer> free = new ArrayDeque<>();
        for (int i = 0; i < SIZE; i++) free.add(i);
        mem.writeShortLE(l.avail, (short) (eventIdx ? 0 : SplitQueue.VIRTQ_AVAIL_F_NO_INTERRUPT));
        int availIdx = 0;
        int lastUsed = 0;
        int added = 0;
        long expected = 0;
        while (lastUsed != (CHAINS & 0xFFFF) || added < CHAINS) {
            if (failure.get() != null) return;
            if (added < CHAINS && !free.isEmpty()) {
                int id = free.poll();
                l.writeDesc(id, bufs + 8L * id, 8, SplitQueue.VIRTQ_DESC_F_WRITE, 0);
                mem.writeShortLE(l.avail + 4 + 2L * (availIdx % SIZE), (short) id);
                VarHandle.releaseFence();
                int old = availIdx;
                availIdx = (availIdx + 1) & 0xFFFF;
                mem.writeShortLE(l.avail + 2, (short) availIdx);
                added++;
                VarHandle.fullFence();
                boolean notify = eventIdx
                        ? SplitQueue.needEvent(
                                Short.toUnsignedInt(mem.readShortLE(l.used + 4 + 8L * SIZE)), availIdx, old)
                        : (mem.readShortLE(l.used) & SplitQueue.VIRTQ_USED_F_NO_NOTIFY) == 0;
                if (notify) kick.release();
                continue;
            }
            // Out of descriptors, or all added: collect used buffers, asking for an interrupt before waiting.
            int usedIdx = Short.toUnsignedInt(mem.readShortLE(l.used + 2));
            if (usedIdx == lastUsed) {
                if (eventIdx) {
                    mem.writeShortLE(l.avail + 4 + 2L * SIZE, (short) lastUsed);
                } else {
                    mem.writeShortLE(l.avail, (short) 0);
                }
                VarHandle.fullFence();
                usedIdx = Short.toUnsignedInt(mem.readShortLE(l.used + 2));
                if (usedIdx == lastUsed) {
                    if (!irq.tryAcquire(WAIT_SECONDS, TimeUnit.SECONDS)) {
                        throw new AssertionError("driver: no interrupt, added " + added + ", used " + lastUsed);
                    }
                    continue;
                }
            }
            if (!eventIdx) mem.writeShortLE(l.avail, (short) SplitQueue.VIRTQ_AVAIL_F_NO_INTERRUPT);
            VarHandle.acquireFence();
            while (lastUsed != usedIdx) {
                long e = l.used + 4 + 8L * (lastUsed % SIZE);
                int id = mem.readIntLE(e);
                assertEquals(8, mem.readIntLE(e + 4));
                assertEquals(
                        expected++, mem.readLongLE(bufs + 8L * id), "the device's data arrived before the used idx");
                free.add(id);
                lastUsed = (lastUsed + 1) & 0xFFFF;
            }
        }
    }
}
