package dev.jvmm.core.virtio.pci;

import dev.jvmm.core.memory.GuestMemory;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The driver's side of a split virtqueue (virtio 1.2 §2.7), laid out by hand in guest memory the way Linux's
 * vring_create_virtqueue does: descriptor table, then the available ring (flags, idx, ring[size], used_event),
 * then the used ring (flags, idx, ring[size] of {id, len}, avail_event) at the next 4-byte boundary.
 */
public final class DriverRing {
    public static final int F_NEXT = 1;
    public static final int F_WRITE = 2;
    public static final int F_INDIRECT = 4;

    /** A descriptor as the driver writes it. */
    public record Desc(long addr, int len, int flags) {
        public static Desc writable(long addr, int len) {
            return new Desc(addr, len, F_WRITE);
        }

        public static Desc readable(long addr, int len) {
            return new Desc(addr, len, 0);
        }
    }

    /** One used element. */
    public record Used(int id, int len) {}

    private final GuestMemory mem;
    public final int size;
    public final long desc;
    public final long avail;
    public final long used;
    private int nextFree;
    private int availIdx;

    public DriverRing(GuestMemory mem, long base, int size) {
        this.mem = mem;
        this.size = size;
        this.desc = base;
        this.avail = base + 16L * size;
        this.used = (avail + 6 + 2L * size + 3) & ~3L;
        for (long a = desc; a < used + 6 + 8L * size; a += 2) {
            mem.writeShortLE(a, (short) 0);
        }
    }

    /** Bytes from {@link #desc} to the end of the used ring. */
    public long footprint() {
        return used + 6 + 8L * size - desc;
    }

    /** Writes descriptor {@code index} verbatim. */
    public void writeDesc(int index, long addr, int len, int flags, int next) {
        long at = desc + 16L * index;
        mem.writeLongLE(at, addr);
        mem.writeIntLE(at + 8, len);
        mem.writeShortLE(at + 12, (short) flags);
        mem.writeShortLE(at + 14, (short) next);
    }

    /** Chains {@code descs} in free descriptors (NEXT added) and returns the head; not yet available. */
    public int addChain(Desc... descs) {
        int head = nextFree;
        for (int i = 0; i < descs.length; i++) {
            int index = (head + i) % size;
            boolean last = i == descs.length - 1;
            writeDesc(
                    index,
                    descs[i].addr(),
                    descs[i].len(),
                    descs[i].flags() | (last ? 0 : F_NEXT),
                    last ? 0 : (index + 1) % size);
        }
        nextFree = (head + descs.length) % size;
        return head;
    }

    /** Puts {@code head} (any number, even a bad one) in the next available ring slot and publishes avail idx. */
    public void publish(int head) {
        mem.writeShortLE(avail + 4 + 2L * (availIdx % size), (short) head);
        availIdx = (availIdx + 1) & 0xFFFF;
        mem.writeShortLE(avail + 2, (short) availIdx);
    }

    /** {@link #addChain} then {@link #publish}. */
    public int offer(Desc... descs) {
        int head = addChain(descs);
        publish(head);
        return head;
    }

    public void setAvailFlags(int flags) {
        mem.writeShortLE(avail, (short) flags);
    }

    /** used_event (EVENT_IDX): interrupt me when the used idx passes this. */
    public void setUsedEvent(int index) {
        mem.writeShortLE(avail + 4 + 2L * size, (short) index);
    }

    public int usedIdx() {
        return Short.toUnsignedInt(mem.readShortLE(used + 2));
    }

    public int usedFlags() {
        return Short.toUnsignedInt(mem.readShortLE(used));
    }

    public Used usedElem(int i) {
        long at = used + 4 + 8L * (i % size);
        return new Used(mem.readIntLE(at), mem.readIntLE(at + 4));
    }

    /**
     * Waits (at most 10 s) until the device, on whatever thread it completes on, has used {@code n} chains; returns
     * the n-th used element.
     */
    public Used awaitUsed(int n) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (usedIdx() < n) {
            if (System.nanoTime() > deadline) throw new AssertionError("used idx " + usedIdx() + ", waited for " + n);
            LockSupport.parkNanos(50_000);
        }
        VarHandle.acquireFence(); // the element and the buffers were written before the index
        return usedElem(n - 1);
    }

    /** avail_event (EVENT_IDX), written by the device. */
    public int availEvent() {
        return Short.toUnsignedInt(mem.readShortLE(used + 4 + 8L * size));
    }
}
