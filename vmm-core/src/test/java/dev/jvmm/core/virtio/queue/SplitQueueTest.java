package dev.jvmm.core.virtio.queue;

import static dev.jvmm.core.virtio.queue.TestDriver.in;
import static dev.jvmm.core.virtio.queue.TestDriver.out;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.virtio.queue.TestDriver.Used;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Well-formed rings: configuration, direct and indirect chains, returning them, reset. */
class SplitQueueTest {
    private final TestDriver.Ram ram = new TestDriver.Ram(4 << 20);
    /** The driver and the queue of the tests that {@link #start} them. */
    private TestDriver d;

    private SplitQueue q;

    @AfterEach
    void closeRam() {
        ram.close();
    }

    /** Sets up {@link #d}, a driver with {@code size} descriptors, and {@link #q}: up to 256, configured by it, enabled. */
    private void start(int size, boolean eventIdx, boolean indirect) throws VirtqueueException {
        d = new TestDriver(ram.memory, size);
        q = d.enabledQueue(256, eventIdx, indirect);
    }

    @Test
    void resetStateIsMaxSizeNoAddressesDisabled() {
        SplitQueue q = new SplitQueue(ram.memory, 128);
        assertEquals(128, q.maxSize());
        assertEquals(128, q.size());
        assertEquals(0, q.descriptorTable());
        assertEquals(0, q.availRing());
        assertEquals(0, q.usedRing());
        assertFalse(q.isEnabled());
    }

    @Test
    void constructorRefusesABadMaxSize() {
        for (int bad : new int[] {0, -1, 3, 100, 65536, 32769}) {
            assertThrows(IllegalArgumentException.class, () -> new SplitQueue(ram.memory, bad), "max " + bad);
        }
        new SplitQueue(ram.memory, 1);
        new SplitQueue(ram.memory, 32768);
    }

    @Test
    void aDisabledQueuePopsNothing() throws VirtqueueException {
        SplitQueue q = new SplitQueue(ram.memory, 8);
        assertTrue(q.pop().isEmpty());
        assertFalse(q.needsInterrupt());
        assertFalse(q.enableNotifications());
    }

    @Test
    void anEmptyQueuePopsNothing() throws VirtqueueException {
        start(16, false, false);
        assertTrue(q.isEnabled());
        assertTrue(q.pop().isEmpty());
    }

    @Test
    void simpleChainsComeOutInOrder() throws VirtqueueException {
        start(16, false, false);
        long a = d.alloc(100, 0xAA);
        long b = d.alloc(64);
        int h1 = d.add(out(a, 100));
        int h2 = d.add(in(b, 64));

        DescriptorChain c1 = q.pop().orElseThrow();
        assertEquals(h1, c1.headIndex());
        assertEquals(List.of(new GuestBuffer(a, 100)), c1.readable());
        assertEquals(List.of(), c1.writable());
        assertEquals(100, c1.readableLength());
        assertEquals(0, c1.writableLength());

        DescriptorChain c2 = q.pop().orElseThrow();
        assertEquals(h2, c2.headIndex());
        assertEquals(List.of(), c2.readable());
        assertEquals(List.of(new GuestBuffer(b, 64)), c2.writable());
        assertTrue(q.pop().isEmpty());
        assertEquals(2, q.inFlight());
    }

    @Test
    void readableThenWritableSplitAcrossDescriptors() throws VirtqueueException {
        start(16, false, false);
        long hdr = d.alloc(16, 1);
        long data = d.alloc(512, 2);
        long buf = d.alloc(4096);
        long status = d.alloc(1);
        d.add(out(hdr, 16), out(data, 512), in(buf, 4096), in(status, 1));

        DescriptorChain c = q.pop().orElseThrow();
        assertEquals(List.of(new GuestBuffer(hdr, 16), new GuestBuffer(data, 512)), c.readable());
        assertEquals(List.of(new GuestBuffer(buf, 4096), new GuestBuffer(status, 1)), c.writable());
        assertEquals(528, c.readableLength());
        assertEquals(4097, c.writableLength());
    }

    @Test
    void pushUsedWritesTheElementThenTheIndex() throws VirtqueueException {
        start(4, false, false);
        long b = d.alloc(32);
        int head = d.add(out(b, 8), in(b + 8, 24));
        DescriptorChain c = q.pop().orElseThrow();
        q.pushUsed(c, 20);
        assertEquals(1, d.usedIdx());
        assertEquals(1, q.usedIndex());
        assertEquals(0, q.inFlight());
        assertEquals(List.of(new Used(head, 20)), d.reclaim());
        assertEquals(4, d.freeDescriptors());
    }

    @Test
    void pushUsedRefusesDeviceMistakes() throws VirtqueueException {
        start(4, false, false);
        long b = d.alloc(32);
        d.add(in(b, 32));
        DescriptorChain c = q.pop().orElseThrow();
        assertThrows(IllegalArgumentException.class, () -> q.pushUsed(c, 33));
        assertThrows(IllegalArgumentException.class, () -> q.pushUsed(c, -1));
        SplitQueue other = new SplitQueue(ram.memory, 4);
        assertThrows(IllegalArgumentException.class, () -> other.pushUsed(c, 0));
        q.pushUsed(c, 32);
        assertThrows(IllegalStateException.class, () -> q.pushUsed(c, 0));
        assertThrows(
                IllegalStateException.class, () -> c.write(0, new byte[1], 0, 1), "the buffers are the driver's again");
        assertEquals(1, d.usedIdx());
    }

    @Test
    void ringsWrapAroundManyTimes() throws VirtqueueException {
        start(4, false, false);
        long b = d.alloc(16);
        for (int i = 0; i < 70_000; i++) { // past 2^16: both 16-bit indices wrap
            int head = d.add(out(b, 4), in(b + 4, 12));
            DescriptorChain c = q.pop().orElseThrow();
            assertEquals(head, c.headIndex());
            q.pushUsed(c, i % 13);
            assertEquals(List.of(new Used(head, i % 13)), d.reclaim());
        }
        assertEquals(70_000 & 0xFFFF, q.usedIndex());
        assertEquals(70_000 & 0xFFFF, q.nextAvailIndex());
    }

    @Test
    void aFullRingOfChainsIsServedInAnyOrder() throws VirtqueueException {
        start(8, false, false);
        long b = d.alloc(8 * 8);
        for (int i = 0; i < 8; i++) d.add(in(b + 8L * i, 8));
        DescriptorChain[] chains = new DescriptorChain[8];
        for (int i = 0; i < 8; i++) chains[i] = q.pop().orElseThrow();
        assertTrue(q.pop().isEmpty());
        for (int i = 7; i >= 0; i--) q.pushUsed(chains[i], 8);
        assertEquals(8, d.reclaim().size());
        assertEquals(8, d.freeDescriptors());
    }

    @Test
    void indirectTable() throws VirtqueueException {
        start(4, false, true);
        long a = d.alloc(16);
        long b = d.alloc(100);
        long c = d.alloc(1);
        int head = d.addIndirect(out(a, 16), in(b, 100), in(c, 1));
        DescriptorChain chain = q.pop().orElseThrow();
        assertEquals(head, chain.headIndex());
        assertEquals(List.of(new GuestBuffer(a, 16)), chain.readable());
        assertEquals(List.of(new GuestBuffer(b, 100), new GuestBuffer(c, 1)), chain.writable());
        q.pushUsed(chain, 101);
        assertEquals(List.of(new Used(head, 101)), d.reclaim());
    }

    @Test
    void indirectTableChainsInAnyOrderOfEntries() throws VirtqueueException {
        start(4, false, true);
        long a = d.alloc(64);
        long table = d.alloc(16 * 4);
        // entries 2 -> 0 -> 3, entry 1 unused garbage
        d.writeDescAt(table, 2, a, 8, SplitQueue.VIRTQ_DESC_F_NEXT, 0);
        d.writeDescAt(table, 0, a + 8, 8, SplitQueue.VIRTQ_DESC_F_NEXT | SplitQueue.VIRTQ_DESC_F_WRITE, 3);
        d.writeDescAt(table, 1, -1L, -1, 0xFFFF, 0xFFFF);
        d.writeDescAt(table, 3, a + 16, 8, SplitQueue.VIRTQ_DESC_F_WRITE, 0);
        // The walk starts at entry 0 (§2.7.5.3): 0 -> 3.
        d.writeDesc(0, table, 64, SplitQueue.VIRTQ_DESC_F_INDIRECT, 0);
        d.publish(0);
        DescriptorChain c = q.pop().orElseThrow();
        assertEquals(List.of(), c.readable());
        assertEquals(List.of(new GuestBuffer(a + 8, 8), new GuestBuffer(a + 16, 8)), c.writable());
    }

    @Test
    void directDescriptorsFollowedByOneIndirectAreAccepted() throws VirtqueueException {
        // §2.7.5.3.2: "The device MUST handle the case of zero or more normal chained descriptors followed by a
        // single descriptor with flags&VIRTQ_DESC_F_INDIRECT."
        start(8, false, true);
        long hdr = d.alloc(16);
        long data = d.alloc(32);
        long st = d.alloc(1);
        long table = d.writeIndirectTable(out(data, 32), in(st, 1));
        d.writeDesc(5, hdr, 16, SplitQueue.VIRTQ_DESC_F_NEXT, 2);
        d.writeDesc(2, table, 32, SplitQueue.VIRTQ_DESC_F_INDIRECT | SplitQueue.VIRTQ_DESC_F_WRITE, 7);
        d.publish(5);
        DescriptorChain c = q.pop().orElseThrow();
        assertEquals(5, c.headIndex());
        assertEquals(List.of(new GuestBuffer(hdr, 16), new GuestBuffer(data, 32)), c.readable());
        assertEquals(List.of(new GuestBuffer(st, 1)), c.writable());
    }

    @Test
    void theWriteFlagOfTheDescriptorReferringToATableIsIgnored() throws VirtqueueException {
        start(4, false, true);
        long a = d.alloc(8);
        long table = d.writeIndirectTable(out(a, 8));
        d.writeDesc(1, table, 16, SplitQueue.VIRTQ_DESC_F_INDIRECT | SplitQueue.VIRTQ_DESC_F_WRITE, 0);
        d.publish(1);
        assertEquals(List.of(new GuestBuffer(a, 8)), q.pop().orElseThrow().readable());
    }

    @Test
    void anIndirectTableOfTheLargestSizeIsAccepted() throws VirtqueueException {
        start(2, false, true);
        long a = d.alloc(SplitQueue.MAX_INDIRECT_DESCRIPTORS);
        TestDriver.Seg[] segs = new TestDriver.Seg[SplitQueue.MAX_INDIRECT_DESCRIPTORS];
        for (int i = 0; i < segs.length; i++) segs[i] = in(a + i, 1);
        d.addIndirect(segs);
        DescriptorChain c = q.pop().orElseThrow();
        assertEquals(SplitQueue.MAX_INDIRECT_DESCRIPTORS, c.writable().size());
        assertEquals(SplitQueue.MAX_INDIRECT_DESCRIPTORS, c.writableLength());
    }

    @Test
    void zeroLengthDescriptorsContributeNothing() throws VirtqueueException {
        start(8, false, false);
        long a = d.alloc(16);
        // A zero-length descriptor's address is never used, so it is not checked either.
        d.add(out(a, 0), out(a, 8), out(0xDEAD_0000_0000L, 0), in(a + 8, 0), in(a + 8, 8), in(-1L, 0));
        DescriptorChain c = q.pop().orElseThrow();
        assertEquals(List.of(new GuestBuffer(a, 8)), c.readable());
        assertEquals(List.of(new GuestBuffer(a + 8, 8)), c.writable());
        d.add(in(a, 0));
        DescriptorChain empty = q.pop().orElseThrow();
        assertEquals(0, empty.readableLength() + empty.writableLength());
        assertEquals(List.of(), empty.writable());
        q.pushUsed(empty, 0);
    }

    @Test
    void aChainOfQueueSizeDescriptorsIsAccepted() throws VirtqueueException {
        start(16, false, false);
        long a = d.alloc(16);
        TestDriver.Seg[] segs = new TestDriver.Seg[16];
        for (int i = 0; i < 16; i++) segs[i] = out(a + i, 1);
        d.add(segs);
        assertEquals(16, q.pop().orElseThrow().readable().size());
    }

    @Test
    void bufferAtTheVeryEndOfRamIsAccepted() throws VirtqueueException {
        start(4, false, false);
        long end = ram.memory.end();
        d.add(out(end - 4096, 4096));
        assertEquals(
                List.of(new GuestBuffer(end - 4096, 4096)),
                q.pop().orElseThrow().readable());
    }

    @Test
    void configurationWritesWhileEnabledAreIgnored() throws VirtqueueException {
        start(16, false, false);
        q.setSize(4);
        q.setDescriptorTable(0);
        q.setAvailRing(0);
        q.setUsedRing(0);
        assertEquals(16, q.size());
        assertEquals(d.desc, q.descriptorTable());
        assertEquals(d.avail, q.availRing());
        assertEquals(d.used, q.usedRing());
        q.enable(true, true); // already enabled: nothing changes
        long a = d.alloc(4);
        d.add(out(a, 4));
        assertEquals(List.of(new GuestBuffer(a, 4)), q.pop().orElseThrow().readable());
    }

    @Test
    void aSmallerSizeThanTheMaximumIsUsed() throws VirtqueueException {
        TestDriver d = new TestDriver(ram.memory, 32);
        SplitQueue q = d.enabledQueue(1024, false, false);
        assertEquals(32, q.size());
        long a = d.alloc(4);
        for (int i = 0; i < 40; i++) {
            d.add(out(a, 4));
            q.pushUsed(q.pop().orElseThrow(), 0);
            d.reclaim();
        }
    }

    @Test
    void resetReturnsToTheResetStateAndDropsOldChains() throws VirtqueueException {
        start(16, true, true);
        long a = d.alloc(4);
        d.add(in(a, 4));
        DescriptorChain stale = q.pop().orElseThrow();
        q.reset();
        assertFalse(q.isEnabled());
        assertEquals(256, q.size());
        assertEquals(0, q.descriptorTable());
        assertEquals(0, q.availRing());
        assertEquals(0, q.usedRing());
        assertEquals(0, q.nextAvailIndex());
        assertEquals(0, q.usedIndex());
        assertEquals(0, q.inFlight());

        // The driver sets the queue up afresh (new rings, zeroed) and the old chain comes back late: dropped.
        TestDriver d2 = new TestDriver(ram.memory, TestDriver.RAM_BASE + (1 << 20), 16);
        d2.configure(q);
        q.enable(false, false);
        q.pushUsed(stale, 4);
        assertEquals(0, d2.usedIdx());
        assertEquals(0, d.usedIdx());
        assertEquals(0, q.usedIndex());
        long b = d2.alloc(4);
        int head = d2.add(out(b, 4));
        assertEquals(head, q.pop().orElseThrow().headIndex());
    }

    @Test
    void readAndWriteWalkTheBuffers() throws VirtqueueException {
        start(8, false, false);
        long r1 = d.alloc(3);
        long r2 = d.alloc(5);
        ram.memory.write(r1, new byte[] {1, 2, 3});
        ram.memory.write(r2, new byte[] {4, 5, 6, 7, 8});
        long w1 = d.alloc(2);
        long w2 = d.alloc(4);
        d.add(out(r1, 3), out(r2, 5), in(w1, 2), in(w2, 4));
        DescriptorChain c = q.pop().orElseThrow();

        byte[] all = new byte[10];
        assertEquals(8, c.read(0, all, 1, 9));
        assertArrayEquals(new byte[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 0}, all);
        byte[] mid = new byte[4];
        assertEquals(4, c.read(2, mid, 0, 4));
        assertArrayEquals(new byte[] {3, 4, 5, 6}, mid);
        assertEquals(2, c.read(6, mid, 0, 4));
        assertEquals(0, c.read(8, mid, 0, 4));
        assertEquals(0, c.read(1L << 40, mid, 0, 4));

        assertEquals(
                6, c.write(0, new byte[] {9, 9, 9, 9, 9, 9, 9, 9}, 1, 7), "stops at the end of the writable space");
        assertArrayEquals(new byte[] {9, 9}, ram.memory.read(w1, 2));
        assertArrayEquals(new byte[] {9, 9, 9, 9}, ram.memory.read(w2, 4));
        assertEquals(3, c.write(1, new byte[] {10, 11, 12}, 0, 3));
        assertArrayEquals(new byte[] {9, 10}, ram.memory.read(w1, 2));
        assertArrayEquals(new byte[] {11, 12, 9, 9}, ram.memory.read(w2, 4));
        assertArrayEquals(new byte[] {1, 2, 3}, ram.memory.read(r1, 3), "readable buffers are never written");

        assertEquals(2, c.readableSegments().size());
        assertEquals(5, c.readableSegments().get(1).byteSize());
        assertEquals(4, c.writableSegments().get(1).byteSize());
        assertThrows(IndexOutOfBoundsException.class, () -> c.read(0, mid, 2, 3));
        assertThrows(IllegalArgumentException.class, () -> c.write(-1, mid, 0, 1));
    }

    @Test
    void needEventIsVringNeedEvent() {
        assertTrue(SplitQueue.needEvent(0, 1, 0));
        assertFalse(SplitQueue.needEvent(1, 1, 0));
        assertTrue(SplitQueue.needEvent(1, 2, 0));
        assertTrue(SplitQueue.needEvent(0xFFFF, 0, 0xFFFE));
        assertTrue(SplitQueue.needEvent(0xFFFF, 2, 0xFFFE));
        assertFalse(SplitQueue.needEvent(2, 2, 0xFFFE));
        assertFalse(SplitQueue.needEvent(5, 3, 3));
    }
}
