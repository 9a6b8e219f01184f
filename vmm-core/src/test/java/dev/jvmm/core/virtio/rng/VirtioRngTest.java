package dev.jvmm.core.virtio.rng;

import static dev.jvmm.core.virtio.pci.ModernPciDriver.DRIVER_OK;
import static dev.jvmm.core.virtio.pci.ModernPciDriver.EVENT_IDX;
import static dev.jvmm.core.virtio.pci.ModernPciDriver.VERSION_1;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.virtio.VirtioDeviceType;
import dev.jvmm.core.virtio.pci.DriverRing;
import dev.jvmm.core.virtio.pci.DriverRing.Desc;
import dev.jvmm.core.virtio.pci.ModernPciDriver;
import dev.jvmm.core.virtio.pci.TestDevices;
import dev.jvmm.core.virtio.pci.VirtioPciTransport;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/** The entropy device (virtio 1.2 §5.4) behind the PCI transport, driven like Linux's virtio-rng. */
class VirtioRngTest {
    private static final long RAM = 0x8000_0000L;
    private static final long RING = RAM + 0x1000;
    private static final long BUF = RAM + 0x10000;

    @AutoClose
    private final Arena arena = Arena.ofConfined();

    private final GuestMemory mem = new GuestMemory(RAM, arena.allocate(1 << 20, 4096));
    private final List<Integer> raised = new ArrayList<>();

    private ModernPciDriver driver(VirtioRng rng) {
        VirtioPciTransport t = new VirtioPciTransport(rng, mem);
        t.setInterruptSink(raised::add);
        return new ModernPciDriver(t.function());
    }

    private DriverRing bringUp(ModernPciDriver d, long features, int size) {
        d.enablePci();
        d.negotiate(features);
        d.configVector(0);
        DriverRing ring = new DriverRing(mem, RING, size);
        assertEquals(1, d.setupQueue(0, ring, 1));
        d.enableQueue(0);
        d.addStatus(DRIVER_OK);
        return ring;
    }

    private byte[] pattern(long at, int n) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) 0xEE);
        mem.write(at, b);
        return b;
    }

    @Test
    void describesAnEntropyDevice() {
        VirtioRng rng = new VirtioRng();
        assertEquals(VirtioDeviceType.ENTROPY, rng.type());
        assertEquals(4, rng.type().id());
        assertEquals(0, rng.features());
        assertEquals(1, rng.numQueues());
        assertEquals(256, rng.queueMaxSize(0));
        assertEquals(0, rng.configSize());
    }

    /** §5.4.6: the device fills the writable buffers; the readable part of a chain is left alone. */
    @Test
    void fillsEveryWritableBufferOfAChain() {
        ModernPciDriver d = driver(new VirtioRng(new TestDevices.Counting()));
        DriverRing ring = bringUp(d, VERSION_1, 16);
        byte[] readable = pattern(BUF, 8);
        pattern(BUF + 0x100, 16);
        int head = ring.offer(Desc.readable(BUF, 8), Desc.writable(BUF + 0x100, 10), Desc.writable(BUF + 0x200, 6));
        d.kick(0);
        assertEquals(new DriverRing.Used(head, 16), ring.usedElem(0));
        byte[] expected = TestDevices.Counting.first(16);
        assertArrayEquals(Arrays.copyOfRange(expected, 0, 10), mem.read(BUF + 0x100, 10));
        assertArrayEquals(Arrays.copyOfRange(expected, 10, 16), mem.read(BUF + 0x200, 6));
        assertEquals((byte) 0xEE, mem.read(BUF + 0x10A, 1)[0], "nothing past the buffer");
        assertArrayEquals(readable, mem.read(BUF, 8));
        assertEquals(List.of(1), raised);
    }

    @Test
    void aChainWithoutWritableBuffersIsReturnedWithZeroBytes() {
        ModernPciDriver d = driver(new VirtioRng(new TestDevices.Counting()));
        DriverRing ring = bringUp(d, VERSION_1, 16);
        byte[] readable = pattern(BUF, 8);
        int h0 = ring.offer(Desc.readable(BUF, 8));
        int h1 = ring.offer(Desc.writable(BUF + 0x100, 0)); // a zero-length writable descriptor: no buffer
        d.kick(0);
        assertEquals(2, ring.usedIdx());
        assertEquals(new DriverRing.Used(h0, 0), ring.usedElem(0));
        assertEquals(new DriverRing.Used(h1, 0), ring.usedElem(1));
        assertArrayEquals(readable, mem.read(BUF, 8));
        assertEquals(List.of(1), raised);
    }

    /** §5.4.6.1: "MAY use less than the entire buffer length": one request gets at most 64 KiB. */
    @Test
    void aHugeBufferGetsAtMostTheRequestLimit() {
        ModernPciDriver d = driver(new VirtioRng(new TestDevices.Counting()));
        DriverRing ring = bringUp(d, VERSION_1, 16);
        int size = 4 * VirtioRng.MAX_BYTES_PER_REQUEST;
        pattern(BUF, size);
        ring.offer(Desc.writable(BUF, size));
        d.kick(0);
        assertEquals(VirtioRng.MAX_BYTES_PER_REQUEST, ring.usedElem(0).len());
        assertArrayEquals(
                TestDevices.Counting.first(VirtioRng.MAX_BYTES_PER_REQUEST),
                mem.read(BUF, VirtioRng.MAX_BYTES_PER_REQUEST));
        assertEquals((byte) 0xEE, mem.read(BUF + VirtioRng.MAX_BYTES_PER_REQUEST, 1)[0]);
    }

    /** A full ring of 256 requests, one kick: all served in order, one interrupt for the batch. */
    @Test
    void aFullRingInOneKick() {
        ModernPciDriver d = driver(new VirtioRng(new TestDevices.Counting()));
        DriverRing ring = bringUp(d, VERSION_1, 256);
        for (int i = 0; i < 256; i++) {
            ring.offer(Desc.writable(BUF + 16L * i, 16));
        }
        d.kick(0);
        assertEquals(256, ring.usedIdx());
        for (int i = 0; i < 256; i++) {
            assertEquals(new DriverRing.Used(i, 16), ring.usedElem(i));
        }
        assertArrayEquals(TestDevices.Counting.first(256 * 16), mem.read(BUF, 256 * 16));
        assertEquals(List.of(1), raised);
    }

    /** §2.7.7: without EVENT_IDX, VIRTQ_AVAIL_F_NO_INTERRUPT suppresses the interrupt. */
    @Test
    void noInterruptFlagIsHonoured() {
        ModernPciDriver d = driver(new VirtioRng(new TestDevices.Counting()));
        DriverRing ring = bringUp(d, VERSION_1, 16);
        ring.setAvailFlags(1);
        ring.offer(Desc.writable(BUF, 4));
        d.kick(0);
        assertEquals(1, ring.usedIdx());
        assertTrue(raised.isEmpty());
        assertEquals(0, d.isr(), "no notification at all");
    }

    /**
     * Notifications are off while the device drains the ring (VIRTQ_USED_F_NO_NOTIFY), and a request the driver
     * adds meanwhile is served in the same pass without another kick; afterwards notifications are on again.
     */
    @Test
    void buffersAddedWhileDrainingAreServedWithoutAKick() {
        List<Integer> flagsSeen = new ArrayList<>();
        DriverRing[] ringRef = new DriverRing[1];
        RandomGenerator source = new RandomGenerator() {
            private final TestDevices.Counting counting = new TestDevices.Counting();
            private boolean added;

            @Override
            public long nextLong() {
                return counting.nextLong();
            }

            @Override
            public void nextBytes(byte[] bytes) {
                flagsSeen.add(ringRef[0].usedFlags());
                if (!added) {
                    added = true;
                    ringRef[0].offer(Desc.writable(BUF + 0x100, 4)); // the guest, on another vCPU
                }
                counting.nextBytes(bytes);
            }
        };
        ModernPciDriver d = driver(new VirtioRng(source));
        DriverRing ring = bringUp(d, VERSION_1, 16);
        ringRef[0] = ring;
        ring.offer(Desc.writable(BUF, 4));
        d.kick(0);
        assertEquals(2, ring.usedIdx(), "the second request was served in the same pass");
        assertEquals(List.of(1, 1), flagsSeen, "VIRTQ_USED_F_NO_NOTIFY while draining");
        assertEquals(0, ring.usedFlags(), "notifications enabled again");
    }

    @Test
    void withEventIdxTheDeviceAsksForTheNextKick() {
        ModernPciDriver d = driver(new VirtioRng(new TestDevices.Counting()));
        DriverRing ring = bringUp(d, VERSION_1 | EVENT_IDX, 16);
        ring.offer(Desc.writable(BUF, 4));
        ring.offer(Desc.writable(BUF + 4, 4));
        d.kick(0);
        assertEquals(2, ring.usedIdx());
        assertEquals(2, ring.availEvent(), "avail_event = the next avail index");
        assertEquals(List.of(1), raised, "used_event 0 was crossed once");
    }

    /** The default source is a SecureRandom. */
    @Test
    void defaultSourceProducesBytes() {
        ModernPciDriver d = driver(new VirtioRng());
        DriverRing ring = bringUp(d, VERSION_1, 16);
        mem.write(BUF, new byte[64]);
        ring.offer(Desc.writable(BUF, 64));
        d.kick(0);
        assertEquals(64, ring.usedElem(0).len());
        byte[] got = mem.read(BUF, 64);
        assertFalse(Arrays.equals(new byte[64], got), "64 zero bytes from a SecureRandom: 2^-512");
    }

    /** After a reset the device forgets its queue: a stale kick does nothing. */
    @Test
    void resetForgetsTheQueue() {
        VirtioRng rng = new VirtioRng(new TestDevices.Counting());
        ModernPciDriver d = driver(rng);
        DriverRing ring = bringUp(d, VERSION_1, 16);
        d.reset();
        ring.offer(Desc.writable(BUF, 4));
        assertDoesNotThrow(() -> rng.queueNotified(0));
        assertEquals(0, ring.usedIdx());
    }
}
