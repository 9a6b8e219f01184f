package dev.jvmm.core.virtio.queue;

import static dev.jvmm.core.virtio.queue.TestDriver.in;
import static dev.jvmm.core.virtio.queue.TestDriver.out;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.memory.GuestMemory;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Buffers of gigabytes: guest RAM of 4 GiB + 1 MiB is a mapping of a sparse file, so only the pages the test
 * touches are ever backed.
 */
class SplitQueueLargeBufferTest {
    private static final long GIB = 1L << 30;
    private static final long RAM_BYTES = 4 * GIB + (1 << 20);

    @TempDir
    Path dir;

    private Arena arena;
    private GuestMemory memory;
    private TestDriver d;
    private SplitQueue q;

    @BeforeEach
    void mapRam() throws IOException, VirtqueueException {
        Path file = dir.resolve("ram");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(RAM_BYTES);
            arena = Arena.ofConfined();
            memory = new GuestMemory(
                    TestDriver.RAM_BASE, raf.getChannel().map(FileChannel.MapMode.READ_WRITE, 0, RAM_BYTES, arena));
        }
        d = new TestDriver(memory, 8);
        q = d.enabledQueue(8, false, true);
    }

    @AfterEach
    void unmap() {
        arena.close();
    }

    @Test
    void aDescriptorOverTwoGibIsCutIntoGibPieces() throws VirtqueueException {
        long base = TestDriver.RAM_BASE + GIB;
        d.add(in(base, 3 * GIB));
        DescriptorChain c = q.pop().orElseThrow();
        assertEquals(3 * GIB, c.writableLength());
        assertEquals(
                List.of(
                        new GuestBuffer(base, (int) GIB),
                        new GuestBuffer(base + GIB, (int) GIB),
                        new GuestBuffer(base + 2 * GIB, (int) GIB)),
                c.writable());

        assertEquals(6, c.write(2 * GIB - 3, new byte[] {1, 2, 3, 4, 5, 6}, 0, 6), "across a piece boundary");
        assertArrayEquals(new byte[] {1, 2, 3, 4, 5, 6}, memory.read(base + 2 * GIB - 3, 6));
        assertEquals(2, c.write(3 * GIB - 2, new byte[] {7, 8, 9}, 0, 3), "the end of the writable space");
        q.pushUsed(c, Integer.MAX_VALUE);
        assertEquals(List.of(new TestDriver.Used(c.headIndex(), Integer.MAX_VALUE)), d.reclaim());
    }

    @Test
    void theLargestDescriptorIsFourPieces() throws VirtqueueException {
        long base = TestDriver.RAM_BASE + (1 << 20);
        d.add(out(base, 0xFFFF_FFFFL));
        DescriptorChain c = q.pop().orElseThrow();
        assertEquals(0xFFFF_FFFFL, c.readableLength());
        assertEquals(4, c.readable().size());
        assertEquals(GIB - 1, c.readable().get(3).length());
        assertEquals(base + 3 * GIB, c.readable().get(3).address());
        assertEquals(GIB - 1, c.readableSegments().get(3).byteSize());
    }

    @Test
    void aChainOfExactlyFourGibIsAccepted() throws VirtqueueException {
        long base = TestDriver.RAM_BASE + (1 << 20);
        d.add(out(base, 0xFFFF_FFFFL), in(base, 1));
        DescriptorChain c = q.pop().orElseThrow();
        assertEquals(1L << 32, c.readableLength() + c.writableLength());
    }

    @Test
    void aChainOverFourGibFails() throws VirtqueueException {
        long base = TestDriver.RAM_BASE + (1 << 20);
        d.add(out(base, 0xFFFF_FFFFL), in(base, 2));
        VirtqueueException e = assertThrows(VirtqueueException.class, q::pop);
        assertTrue(e.getMessage().contains("longer than 2^32 bytes in total"), e.getMessage());
    }

    @Test
    void overFourGibAcrossAnIndirectTableFails() throws VirtqueueException {
        long base = TestDriver.RAM_BASE + (1 << 20);
        long table = d.writeIndirectTable(in(base, 2 * GIB), in(base, 2 * GIB));
        d.writeDesc(0, base, 1, SplitQueue.VIRTQ_DESC_F_NEXT, 1);
        d.writeDesc(1, table, 32, SplitQueue.VIRTQ_DESC_F_INDIRECT, 0);
        d.publish(0);
        VirtqueueException e = assertThrows(VirtqueueException.class, q::pop);
        assertTrue(e.getMessage().contains("longer than 2^32 bytes in total"), e.getMessage());
    }
}
