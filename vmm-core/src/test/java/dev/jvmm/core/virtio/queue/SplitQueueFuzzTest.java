package dev.jvmm.core.virtio.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.jvmm.core.memory.GuestMemory;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Random rings, descriptors and indirect tables: pop() returns a chain whose every buffer lies inside RAM, or
 * throws VirtqueueException, and nothing else. Fixed seed, bounded iterations; descriptors are a mix of pure noise
 * and near-misses (addresses around the edges of RAM, lengths around the limits, flags and next fields mostly
 * small) so that both outcomes are common. The guest also scribbles over the rings between pops.
 */
class SplitQueueFuzzTest {
    private static final int ITERATIONS = 20_000;
    private static final long RAM_BYTES = 1 << 20;
    private static final long RINGS = TestDriver.RAM_BASE;                 // desc, avail, used: max 32 entries
    private static final long INDIRECT_AREA = TestDriver.RAM_BASE + 0x4000;
    private static final int INDIRECT_AREA_BYTES = 0x4000;                 // 1024 descriptors

    private final TestDriver.Ram ram = new TestDriver.Ram(RAM_BYTES);
    private final GuestMemory mem = ram.memory;
    private final SplittableRandom rnd = new SplittableRandom(0x5EED_F00DL);
    /** One in {@code noise} fields is hostile: 3 for hostile iterations, 40 for mostly well-formed ones. */
    private int noise;

    @AfterEach
    void closeRam() { ram.close(); }

    @Test
    void popNeverThrowsAnythingButVirtqueueException() {
        SplitQueue q = new SplitQueue(mem, 32);
        int chains = 0;
        int rejected = 0;
        int indirectChains = 0;
        for (int it = 0; it < ITERATIONS; it++) {
            int size = 1 << rnd.nextInt(6);
            TestDriver layout = new TestDriver(mem, RINGS, size);
            noise = rnd.nextBoolean() ? 3 : 40;
            scribble(layout.desc, 16 * size, size);
            scribble(INDIRECT_AREA, INDIRECT_AREA_BYTES, 64);
            scribbleAvail(layout, size);
            q.reset();
            layout.configure(q);
            try {
                q.enable(rnd.nextBoolean(), rnd.nextInt(4) != 0);
            } catch (VirtqueueException e) {
                fail("enable of a well-placed ring: " + e.getMessage());
            }
            for (int pops = 0; pops < size + 3; pops++) {
                try {
                    Optional<DescriptorChain> c = q.pop();
                    if (c.isEmpty()) break;
                    chains++;
                    check(c.get(), size);
                    int headFlags = mem.readShortLE(layout.desc + 16L * c.get().headIndex() + 12);
                    if ((headFlags & SplitQueue.VIRTQ_DESC_F_INDIRECT) != 0) indirectChains++;
                    if (rnd.nextBoolean()) {
                        q.pushUsed(c.get(), (int) Math.min(Integer.MAX_VALUE, (long) (rnd.nextDouble() * c.get().writableLength())));
                    }
                    switch (rnd.nextInt(8)) {
                        case 0 -> q.needsInterrupt();
                        case 1 -> q.enableNotifications();
                        case 2 -> q.disableNotifications();
                        case 3 -> scribble(layout.desc, 16 * size, size);      // the guest rewrites under us
                        case 4 -> scribbleAvail(layout, size);
                        default -> { }
                    }
                } catch (VirtqueueException e) {
                    rejected++;
                    break;
                } catch (RuntimeException | Error e) {
                    throw new AssertionError("iteration " + it + ": " + q + " threw " + e, e);
                }
            }
        }
        // The generator has to reach both outcomes, and indirect tables, for the test to mean something.
        assertTrue(chains > ITERATIONS / 4, "chains popped: " + chains);
        assertTrue(rejected > ITERATIONS / 4, "chains rejected: " + rejected);
        assertTrue(indirectChains > ITERATIONS / 50, "chains through indirect tables: " + indirectChains);
    }

    private void check(DescriptorChain c, int size) {
        assertTrue(c.headIndex() >= 0 && c.headIndex() < size, "head " + c.headIndex());
        long r = 0;
        for (GuestBuffer b : c.readable()) {
            assertTrue(b.length() > 0 && mem.contains(b.address(), b.length()), "readable " + b);
            r += b.length();
        }
        long w = 0;
        for (GuestBuffer b : c.writable()) {
            assertTrue(b.length() > 0 && mem.contains(b.address(), b.length()), "writable " + b);
            w += b.length();
        }
        assertEquals(r, c.readableLength());
        assertEquals(w, c.writableLength());
        assertTrue(r + w <= SplitQueue.MAX_CHAIN_BYTES);
        assertTrue(c.readable().size() + c.writable().size() <= 4 * (size + SplitQueue.MAX_INDIRECT_DESCRIPTORS));
    }

    private boolean hostile() { return rnd.nextInt(noise) == 0; }

    /** Fills the descriptors in {@code bytes} at {@code table} with noise or near-misses; next mostly below {@code nextRange}. */
    private void scribble(long table, int bytes, int nextRange) {
        for (long off = 0; off < bytes; off += 16) {
            long d = table + off;
            if (hostile() && rnd.nextBoolean()) {
                mem.writeLongLE(d, rnd.nextLong());
                mem.writeLongLE(d + 8, rnd.nextLong());
                continue;
            }
            mem.writeLongLE(d, address());
            mem.writeIntLE(d + 8, (int) length());
            int flags = hostile() ? rnd.nextInt(0x10000)
                    : (rnd.nextInt(3) == 0 ? SplitQueue.VIRTQ_DESC_F_NEXT : 0)
                    | (rnd.nextInt(3) == 0 ? SplitQueue.VIRTQ_DESC_F_WRITE : 0)
                    | (rnd.nextInt(6) == 0 ? SplitQueue.VIRTQ_DESC_F_INDIRECT : 0);
            boolean indirect = (flags & SplitQueue.VIRTQ_DESC_F_INDIRECT) != 0;
            if (indirect && !hostile()) {
                // mostly a plausible table inside the indirect area
                int entries = 1 + rnd.nextInt(hostile() ? 1100 : 40);
                long len = hostile() ? rnd.nextInt(2000) : 16L * entries;
                mem.writeLongLE(d, INDIRECT_AREA + 16L * rnd.nextInt(8));
                mem.writeIntLE(d + 8, (int) len);
                if (!hostile()) flags &= ~SplitQueue.VIRTQ_DESC_F_NEXT;
            }
            mem.writeShortLE(d + 12, (short) flags);
            int next = hostile() ? rnd.nextInt(0x10000) : rnd.nextInt(hostile() ? nextRange + 1 : nextRange);
            mem.writeShortLE(d + 14, (short) next);
        }
    }

    private void scribbleAvail(TestDriver layout, int size) {
        mem.writeShortLE(layout.avail, (short) rnd.nextInt(4));
        int idx = hostile() ? rnd.nextInt(0x10000) : rnd.nextInt(size + (hostile() ? 2 : 1));
        mem.writeShortLE(layout.avail + 2, (short) idx);
        for (int i = 0; i <= size; i++) {   // the ring and used_event
            int v = hostile() ? rnd.nextInt(0x10000) : rnd.nextInt(hostile() ? size + 1 : size);
            mem.writeShortLE(layout.avail + 4 + 2L * i, (short) v);
        }
    }

    private long address() {
        long base = mem.base();
        long end = mem.end();
        if (!hostile()) return base + rnd.nextLong(RAM_BYTES - 8192);
        return switch (rnd.nextInt(5)) {
            case 0 -> rnd.nextLong();
            case 1 -> end - rnd.nextInt(64);                      // at the end
            case 2 -> base - rnd.nextInt(64);                     // at the start
            case 3 -> -1L - rnd.nextInt(4096);                    // near 2^64
            default -> base + rnd.nextLong(RAM_BYTES);
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
