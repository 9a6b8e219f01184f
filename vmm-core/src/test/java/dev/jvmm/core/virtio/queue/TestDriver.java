package dev.jvmm.core.virtio.queue;

import static dev.jvmm.core.virtio.queue.SplitQueue.VIRTQ_DESC_F_INDIRECT;
import static dev.jvmm.core.virtio.queue.SplitQueue.VIRTQ_DESC_F_NEXT;
import static dev.jvmm.core.virtio.queue.SplitQueue.VIRTQ_DESC_F_WRITE;

import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.pcie.util.Sizes;
import java.lang.foreign.Arena;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The driver side of a split virtqueue, enough for tests: lays the rings out like Linux's vring_init (descriptor
 * table, then the available ring right after it, then the used ring aligned to 64 bytes, SMP_CACHE_BYTES),
 * keeps a free list of descriptors, adds direct and indirect chains and reclaims used ones. Also writes raw ring
 * fields for the malformed cases. Single-threaded: no barriers.
 */
final class TestDriver {
    static final long RAM_BASE = 0x4000_0000L;

    /** A buffer element as the driver describes it. */
    record Seg(long addr, long len, boolean writable) {
        int flags() {
            return writable ? VIRTQ_DESC_F_WRITE : 0;
        }
    }

    record Used(int id, int len) {}

    static Seg out(long addr, long len) {
        return new Seg(addr, len, false);
    }

    static Seg in(long addr, long len) {
        return new Seg(addr, len, true);
    }

    /** Guest RAM on a confined arena. */
    static final class Ram implements AutoCloseable {
        final Arena arena = Arena.ofConfined();
        final GuestMemory memory;

        Ram(long bytes) {
            memory = new GuestMemory(RAM_BASE, arena.allocate(bytes, 4096));
        }

        @Override
        public void close() {
            arena.close();
        }
    }

    final GuestMemory mem;
    final int size;
    final long desc;
    final long avail;
    final long used;
    private long dataNext;
    private final long dataEnd;
    private final Deque<Integer> free = new ArrayDeque<>();
    private final Map<Integer, List<Integer>> chains = new HashMap<>();
    private int availIdx;
    private int lastUsed;

    /** Rings at {@code ringBase}; buffers and indirect tables are allocated from the RAM after the rings. */
    TestDriver(GuestMemory mem, long ringBase, int size) {
        this.mem = mem;
        this.size = size;
        this.desc = ringBase;
        this.avail = desc + SplitQueue.descriptorTableBytes(size);
        this.used = Sizes.alignUp(avail + SplitQueue.availRingBytes(size), 64);
        this.dataNext = Sizes.alignUp(used + SplitQueue.usedRingBytes(size), 4096);
        this.dataEnd = mem.end();
        for (int i = 0; i < size; i++) free.add(i);
    }

    TestDriver(GuestMemory mem, int size) {
        this(mem, RAM_BASE, size);
    }

    /** Hands the layout to the queue as a transport would. */
    SplitQueue configure(SplitQueue q) {
        q.setSize(size);
        q.setDescriptorTable(desc);
        q.setAvailRing(avail);
        q.setUsedRing(used);
        return q;
    }

    /** A queue of at most {@code maxSize} entries on this driver's memory, given this layout and enabled. */
    SplitQueue enabledQueue(int maxSize, boolean eventIdx, boolean indirect) throws VirtqueueException {
        SplitQueue q = configure(new SplitQueue(mem, maxSize));
        q.enable(eventIdx, indirect);
        return q;
    }

    /** Allocates {@code len} bytes of data (16-aligned) and fills them with {@code fill}. */
    long alloc(long len, int fill) {
        long a = Sizes.alignUp(dataNext, 16);
        if (a + len > dataEnd) throw new IllegalStateException("test RAM exhausted");
        dataNext = a + len;
        byte[] bytes = new byte[(int) len];
        java.util.Arrays.fill(bytes, (byte) fill);
        mem.write(a, bytes);
        return a;
    }

    long alloc(long len) {
        return alloc(len, 0);
    }

    int freeDescriptors() {
        return free.size();
    }

    int availIdx() {
        return availIdx;
    }

    /** Adds a direct chain of the given elements (in the given order) and makes it available; returns the head. */
    int add(Seg... segs) {
        int head = addUnpublished(segs);
        publish(head);
        return head;
    }

    int addUnpublished(Seg... segs) {
        if (segs.length == 0 || segs.length > free.size()) throw new IllegalStateException("no room");
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < segs.length; i++) ids.add(free.poll());
        for (int i = 0; i < segs.length; i++) {
            boolean last = i == segs.length - 1;
            writeDesc(
                    ids.get(i),
                    segs[i].addr(),
                    segs[i].len(),
                    segs[i].flags() | (last ? 0 : VIRTQ_DESC_F_NEXT),
                    last ? 0 : ids.get(i + 1));
        }
        chains.put(ids.get(0), ids);
        return ids.get(0);
    }

    /** Adds one descriptor referring to an indirect table holding the elements; returns the head. */
    int addIndirect(Seg... segs) {
        long table = writeIndirectTable(segs);
        int head = free.poll();
        writeDesc(head, table, 16L * segs.length, VIRTQ_DESC_F_INDIRECT, 0);
        chains.put(head, List.of(head));
        publish(head);
        return head;
    }

    /** Writes an indirect table for the elements in fresh memory; returns its address. */
    long writeIndirectTable(Seg... segs) {
        long table = alloc(16L * segs.length);
        for (int i = 0; i < segs.length; i++) {
            boolean last = i == segs.length - 1;
            writeDescAt(
                    table,
                    i,
                    segs[i].addr(),
                    segs[i].len(),
                    segs[i].flags() | (last ? 0 : VIRTQ_DESC_F_NEXT),
                    last ? 0 : i + 1);
        }
        return table;
    }

    void writeDesc(int i, long addr, long len, int flags, int next) {
        writeDescAt(desc, i, addr, len, flags, next);
    }

    void writeDescAt(long table, int i, long addr, long len, int flags, int next) {
        long d = table + 16L * i;
        mem.writeLongLE(d, addr);
        mem.writeIntLE(d + 8, (int) len);
        mem.writeShortLE(d + 12, (short) flags);
        mem.writeShortLE(d + 14, (short) next);
    }

    /** Puts {@code head} in the next avail ring slot and increments avail idx. */
    void publish(int head) {
        mem.writeShortLE(avail + 4 + 2L * (availIdx % size), (short) head);
        availIdx = (availIdx + 1) & 0xFFFF;
        mem.writeShortLE(avail + 2, (short) availIdx);
    }

    /** Writes avail ring slot {@code slot} without touching idx. */
    void writeAvailEntry(int slot, int head) {
        mem.writeShortLE(avail + 4 + 2L * slot, (short) head);
    }

    /** Writes avail idx directly (also what the driver thinks it is). */
    void setAvailIdx(int idx) {
        availIdx = idx & 0xFFFF;
        mem.writeShortLE(avail + 2, (short) idx);
    }

    void setAvailFlags(int flags) {
        mem.writeShortLE(avail, (short) flags);
    }

    void setUsedEvent(int idx) {
        mem.writeShortLE(avail + 4 + 2L * size, (short) idx);
    }

    int availEvent() {
        return Short.toUnsignedInt(mem.readShortLE(used + 4 + 8L * size));
    }

    int usedFlags() {
        return Short.toUnsignedInt(mem.readShortLE(used));
    }

    int usedIdx() {
        return Short.toUnsignedInt(mem.readShortLE(used + 2));
    }

    Used usedElem(int slot) {
        long e = used + 4 + 8L * slot;
        return new Used(mem.readIntLE(e), mem.readIntLE(e + 4));
    }

    /** Reads the used entries published since the last call and frees their descriptors. */
    List<Used> reclaim() {
        List<Used> out = new ArrayList<>();
        int idx = usedIdx();
        while (lastUsed != idx) {
            Used u = usedElem(lastUsed % size);
            out.add(u);
            List<Integer> ids = chains.remove(u.id());
            if (ids == null) throw new AssertionError("used id " + u.id() + " is not an outstanding chain");
            free.addAll(ids);
            lastUsed = (lastUsed + 1) & 0xFFFF;
        }
        return out;
    }
}
