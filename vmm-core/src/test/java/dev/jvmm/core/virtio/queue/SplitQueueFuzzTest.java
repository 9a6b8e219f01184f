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
 * throws VirtqueueException, and nothing else. Fixed seed, bounded iterations; the rings come from {@link HostileRings}
 * (pure noise and near-misses, so that both outcomes are common), and the guest also scribbles over them between
 * pops.
 */
class SplitQueueFuzzTest {
    private static final int ITERATIONS = 20_000;
    private static final long RAM_BYTES = 1 << 20;
    private static final long RINGS = TestDriver.RAM_BASE; // desc, avail, used: max 32 entries
    private static final long INDIRECT_AREA = TestDriver.RAM_BASE + 0x4000;
    private static final int INDIRECT_AREA_BYTES = 0x4000; // 1024 descriptors

    private final TestDriver.Ram ram = new TestDriver.Ram(RAM_BYTES);
    private final GuestMemory mem = ram.memory;
    private final SplittableRandom rnd = new SplittableRandom(0x5EED_F00DL);
    private final HostileRings rings = new HostileRings(mem, rnd, mem.base(), RAM_BYTES, INDIRECT_AREA);

    @AfterEach
    void closeRam() {
        ram.close();
    }

    @Test
    void popNeverThrowsAnythingButVirtqueueException() {
        SplitQueue q = new SplitQueue(mem, 32);
        int chains = 0;
        int rejected = 0;
        int indirectChains = 0;
        for (int it = 0; it < ITERATIONS; it++) {
            int size = 1 << rnd.nextInt(6);
            TestDriver layout = new TestDriver(mem, RINGS, size);
            rings.noise(rnd.nextBoolean() ? 3 : 40);
            rings.descriptors(layout.desc, 16 * size, size);
            rings.descriptors(INDIRECT_AREA, INDIRECT_AREA_BYTES, 64);
            rings.avail(layout.avail, size);
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
                        q.pushUsed(c.get(), (int) Math.min(Integer.MAX_VALUE, (long)
                                (rnd.nextDouble() * c.get().writableLength())));
                    }
                    switch (rnd.nextInt(8)) {
                        case 0 -> q.needsInterrupt();
                        case 1 -> q.enableNotifications();
                        case 2 -> q.disableNotifications();
                        case 3 -> rings.descriptors(layout.desc, 16 * size, size); // the guest rewrites under us
                        case 4 -> rings.avail(layout.avail, size);
                        default -> {}
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
}
