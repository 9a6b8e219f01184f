package dev.jvmm.core.virtio.queue;

import dev.jvmm.core.memory.GuestMemory;
import java.util.random.RandomGenerator;

/**
 * What a hostile or buggy driver leaves in its rings: descriptors and available rings that are a mix of pure noise and
 * near-misses (addresses around the edges of RAM, lengths around the limits, flags and next fields mostly small,
 * indirect tables that mostly make sense), so that a device meets both a valid chain and a rejected one often. One in
 * {@link #noise} fields is hostile. SplitQueueFuzzTest aims it at a bare queue, MmioBusFuzzTest at the queues of a
 * whole machine while other threads drive the bus.
 */
public final class HostileRings {
    private final GuestMemory mem;
    private final RandomGenerator rnd;
    private final long dataBase;
    private final long dataBytes;
    private final long indirectArea;
    private int noise = 3;

    /**
     * @param dataBase     where well-formed descriptors point: [dataBase, dataBase + dataBytes - 8192) of RAM
     * @param indirectArea where well-formed indirect tables start (8 possible starts, 16 bytes apart)
     */
    public HostileRings(GuestMemory mem, RandomGenerator rnd, long dataBase, long dataBytes, long indirectArea) {
        this.mem = mem;
        this.rnd = rnd;
        this.dataBase = dataBase;
        this.dataBytes = dataBytes;
        this.indirectArea = indirectArea;
    }

    /** One in {@code oneIn} fields is hostile from now on: 3 for hostile rings, 40 for mostly well-formed ones. */
    public void noise(int oneIn) {
        noise = oneIn;
    }

    private boolean hostile() {
        return rnd.nextInt(noise) == 0;
    }

    /** Fills the descriptors in {@code bytes} at {@code table} with noise or near-misses; next mostly below {@code nextRange}. */
    public void descriptors(long table, int bytes, int nextRange) {
        for (long off = 0; off < bytes; off += 16) {
            long d = table + off;
            if (hostile() && rnd.nextBoolean()) {
                mem.writeLongLE(d, rnd.nextLong());
                mem.writeLongLE(d + 8, rnd.nextLong());
                continue;
            }
            mem.writeLongLE(d, address());
            mem.writeIntLE(d + 8, (int) length());
            int flags = hostile()
                    ? rnd.nextInt(0x10000)
                    : (rnd.nextInt(3) == 0 ? SplitQueue.VIRTQ_DESC_F_NEXT : 0)
                            | (rnd.nextInt(3) == 0 ? SplitQueue.VIRTQ_DESC_F_WRITE : 0)
                            | (rnd.nextInt(6) == 0 ? SplitQueue.VIRTQ_DESC_F_INDIRECT : 0);
            boolean indirect = (flags & SplitQueue.VIRTQ_DESC_F_INDIRECT) != 0;
            if (indirect && !hostile()) {
                // mostly a plausible table inside the indirect area
                int entries = 1 + rnd.nextInt(hostile() ? 1100 : 40);
                long len = hostile() ? rnd.nextInt(2000) : 16L * entries;
                mem.writeLongLE(d, indirectArea + 16L * rnd.nextInt(8));
                mem.writeIntLE(d + 8, (int) len);
                if (!hostile()) flags &= ~SplitQueue.VIRTQ_DESC_F_NEXT;
            }
            mem.writeShortLE(d + 12, (short) flags);
            int next = hostile() ? rnd.nextInt(0x10000) : rnd.nextInt(hostile() ? nextRange + 1 : nextRange);
            mem.writeShortLE(d + 14, (short) next);
        }
    }

    /** Fills the available ring of a {@code size}-entry queue at {@code avail}: flags, idx, the ring and used_event. */
    public void avail(long avail, int size) {
        mem.writeShortLE(avail, (short) rnd.nextInt(4));
        int idx = hostile() ? rnd.nextInt(0x10000) : rnd.nextInt(size + (hostile() ? 2 : 1));
        mem.writeShortLE(avail + 2, (short) idx);
        for (int i = 0; i <= size; i++) { // the ring and used_event
            int v = hostile() ? rnd.nextInt(0x10000) : rnd.nextInt(hostile() ? size + 1 : size);
            mem.writeShortLE(avail + 4 + 2L * i, (short) v);
        }
    }

    private long address() {
        long base = mem.base();
        long end = mem.end();
        if (!hostile()) return dataBase + rnd.nextLong(dataBytes - 8192);
        return switch (rnd.nextInt(5)) {
            case 0 -> rnd.nextLong();
            case 1 -> end - rnd.nextInt(64); // at the end
            case 2 -> base - rnd.nextInt(64); // at the start
            case 3 -> -1L - rnd.nextInt(4096); // near 2^64
            default -> base + rnd.nextLong(mem.size());
        };
    }

    private long length() {
        if (!hostile()) return rnd.nextInt(rnd.nextBoolean() ? 64 : 8192);
        return switch (rnd.nextInt(4)) {
            case 0 -> 0;
            case 1 -> rnd.nextLong(1L << 32);
            case 2 -> 0xFFFF_FFFFL - rnd.nextInt(16);
            default -> rnd.nextInt(8192);
        };
    }
}
