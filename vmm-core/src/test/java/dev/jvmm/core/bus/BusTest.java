package dev.jvmm.core.bus;

import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.pcie.util.Sizes;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class BusTest {
    private final Bus bus = new Bus("mmio");

    /** A device that answers a fixed pattern and records the last access. */
    static final class Probe implements MmioDevice {
        final long answer;
        long lastOffset = -1;
        int lastSize;
        long lastValue;
        int writes;

        Probe(long answer) {
            this.answer = answer;
        }

        @Override
        public long read(long offset, int size) {
            lastOffset = offset;
            lastSize = size;
            return answer;
        }

        @Override
        public void write(long offset, int size, long value) {
            lastOffset = offset;
            lastSize = size;
            lastValue = value;
            writes++;
        }
    }

    @Test
    void samePriorityOverlapIsRejectedNamingBothRegions() {
        bus.register("uart", new AddressRange(0x0900_0000, 0x1000), Bus.PRIORITY_DEVICE, new Probe(0));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> bus.register("rtc", new AddressRange(0x0900_0800, 0x1000), Bus.PRIORITY_DEVICE, new Probe(0)));
        assertTrue(e.getMessage().contains("'uart'"), e.getMessage());
        assertTrue(e.getMessage().contains("'rtc'"), e.getMessage());
        // Touching is not overlapping.
        bus.register("rtc", new AddressRange(0x0900_1000, 0x1000), Bus.PRIORITY_DEVICE, new Probe(0));
    }

    @Test
    void higherLayerWinsAndLowerShowsThroughAround() {
        BackgroundRegion.map(bus, "pcie-mmio32", new AddressRange(0x1000_0000, 0x1000_0000));
        Probe bar = new Probe(0x1234);
        bus.register("bar0", new AddressRange(0x1000_4000, 0x4000), Bus.PRIORITY_DEVICE, bar);

        assertEquals(OptionalLong.of(0x1234), bus.read(0x1000_4010, 4));
        assertEquals(0x10, bar.lastOffset, "offset is relative to the region base");
        assertEquals(OptionalLong.of(0xffff_ffffL), bus.read(0x1000_3ffc, 4), "below the BAR: background");
        assertEquals(OptionalLong.of(0xffL), bus.read(0x1000_8000, 1), "above the BAR: background");
        assertEquals("bar0", bus.regionAt(0x1000_7fff).name());
        assertEquals("pcie-mmio32", bus.regionAt(0x1000_8000).name());
        assertNull(bus.regionAt(0x2000_0000), "above the window: nothing");
    }

    @Test
    void removalUncoversTheLowerLayer() {
        BackgroundRegion.map(bus, "bg", new AddressRange(0x1000_0000, 0x10_0000));
        Bus.Region bar = bus.register("bar", new AddressRange(0x1000_0000, 0x1000), Bus.PRIORITY_DEVICE, new Probe(7));
        assertEquals(OptionalLong.of(7), bus.read(0x1000_0000, 4));
        assertTrue(bus.remove(bar));
        assertFalse(bus.remove(bar), "a second removal of the same handle reports false");
        assertEquals(OptionalLong.of(0xffff_ffffL), bus.read(0x1000_0000, 4));
        // Re-adding the same range at the same priority is allowed once the old one is gone.
        bus.register("bar", new AddressRange(0x1000_0000, 0x1000), Bus.PRIORITY_DEVICE, new Probe(9));
        assertEquals(OptionalLong.of(9), bus.read(0x1000_0000, 4));
    }

    @Test
    void removalIsByIdentityNotByValue() {
        Probe dev = new Probe(1);
        Bus.Region a = bus.register("a", new AddressRange(0x1000, 0x100), 0, dev);
        Bus.Region b = bus.register("a", new AddressRange(0x1000, 0x100), 1, dev);
        assertTrue(bus.remove(b));
        assertSame(a, bus.regionAt(0x1000));
    }

    @Test
    void accessStraddlingARegionEndIntoNothingReadsAllOnesAndDropsTheWrite() {
        Probe uart = new Probe(0x1234);
        bus.register("uart", new AddressRange(0x0900_0000, 0x1000), Bus.PRIORITY_DEVICE, uart);
        assertNotNull(bus.find(0x0900_0ff8, 8));
        assertNull(bus.find(0x0900_0ffc, 8), "runs past the end into nothing: no device decodes it");
        assertEquals(OptionalLong.of(0xffff_ffffL), bus.read(0x0900_0ffe, 4), "all ones for the whole access");
        assertEquals(OptionalLong.of(-1L), bus.read(0x0900_0ffc, 8));
        assertTrue(bus.write(0x0900_0fff, 2, 0), "the bus decided the write: dropped");
        assertEquals(-1, uart.lastOffset, "the device was never asked, not even about its own bytes");
        assertEquals(2, bus.straddlingReads());
        assertEquals(1, bus.straddlingWrites());
        assertEquals(0, bus.unhandledReads(), "a straddle is not an access to nothing");
        assertEquals(0, bus.unhandledWrites());
        // Wholly inside and wholly outside stay as they were.
        assertEquals(OptionalLong.of(0x1234), bus.read(0x0900_0ff8, 8));
        assertEquals(OptionalLong.empty(), bus.read(0x0900_1000, 8));
        assertEquals(1, bus.unhandledReads());
    }

    @Test
    void accessStraddlingFromAGapIntoARegionReadsAllOnes() {
        Probe dev = new Probe(0x55);
        bus.register("dev", new AddressRange(0x2000, 0x1000), Bus.PRIORITY_DEVICE, dev);
        assertEquals(OptionalLong.of(-1L), bus.read(0x1ffc, 8));
        assertTrue(bus.write(0x1fff, 2, 0xabcd));
        assertEquals(-1, dev.lastOffset);
        assertEquals(OptionalLong.empty(), bus.read(0x1ff8, 8), "ends exactly at the region's base: touches nothing");
        assertEquals(1, bus.straddlingReads());
        assertEquals(1, bus.unhandledReads());
    }

    @Test
    void accessStraddlingBetweenADeviceAndItsBackgroundReadsAllOnes() {
        BackgroundRegion.map(bus, "bg", new AddressRange(0, 0x10000));
        Probe dev = new Probe(0x55);
        bus.register("dev", new AddressRange(0x2000, 0x1000), Bus.PRIORITY_DEVICE, dev);
        assertNull(bus.find(0x1ffc, 8), "half background, half device");
        assertNull(bus.find(0x2ffc, 8), "half device, half background");
        assertEquals(OptionalLong.of(-1L), bus.read(0x1ffc, 8));
        assertEquals(OptionalLong.of(0xffffL), bus.read(0x2fff, 2));
        assertTrue(bus.write(0x2ffc, 8, 0));
        assertEquals(-1, dev.lastOffset, "the device saw none of it");
        assertEquals(OptionalLong.of(0x55), bus.read(0x2ff8, 8), "wholly inside: the device answers");
    }

    @Test
    void accessStraddlingIntoTheNextRegionReachesNeither() {
        Probe a = new Probe(0xa), b = new Probe(0xb);
        bus.register("a", new AddressRange(0x1000, 0x1000), Bus.PRIORITY_DEVICE, a);
        bus.register("b", new AddressRange(0x2000, 0x1000), Bus.PRIORITY_DEVICE, b);
        assertEquals(OptionalLong.of(-1L), bus.read(0x1ffc, 8));
        assertTrue(bus.write(0x1ffe, 4, 0x1122_3344L));
        assertEquals(-1, a.lastOffset);
        assertEquals(-1, b.lastOffset);
        assertEquals(1, bus.straddlingWrites());
    }

    @Test
    void accessRunningPastTheTopOfTheAddressSpaceDoesNotWrapToZero() {
        Probe low = new Probe(1), top = new Probe(2);
        bus.register("low", new AddressRange(0, 0x1000), Bus.PRIORITY_DEVICE, low);
        bus.register("top", new AddressRange(0xffff_ffff_ffff_f000L, 0xfff), Bus.PRIORITY_DEVICE, top);
        assertEquals(OptionalLong.of(-1L), bus.read(0xffff_ffff_ffff_fffcL, 8), "starts in 'top', runs past 2^64");
        assertEquals(OptionalLong.empty(), bus.read(0xffff_ffff_ffff_ffffL, 1), "the last byte is never mapped");
        assertEquals(OptionalLong.empty(), bus.read(0xffff_ffff_ffff_ffffL, 8), "touches 'low' only by wrapping");
        assertEquals(-1, low.lastOffset);
    }

    @Test
    void boundaryOfAHiddenLowerRegionDoesNotSplitTheVisibleOne() {
        Probe dev = new Probe(0x55);
        bus.register("dev", new AddressRange(0x1000, 0x2000), Bus.PRIORITY_DEVICE, dev);
        BackgroundRegion.map(bus, "bg", new AddressRange(0x2000, 0x4000)); // starts inside dev
        assertEquals(OptionalLong.of(0x55), bus.read(0x1ffc, 8));
        assertEquals(0xffc, dev.lastOffset);
    }

    @Test
    void regionSplitByAHigherOneKeepsOffsetsRelativeToItsOwnBase() {
        Probe low = new Probe(1);
        bus.register("low", new AddressRange(0x1000, 0x1000), 0, low);
        bus.register("high", new AddressRange(0x1800, 0x100), 5, new Probe(2));
        assertEquals(OptionalLong.of(1), bus.read(0x1a00, 4));
        assertEquals(0xa00, low.lastOffset);
        assertEquals(OptionalLong.of(2), bus.read(0x18fc, 4));
        assertNull(bus.find(0x18fc, 8), "crosses from 'high' back into 'low'");
        assertEquals(OptionalLong.of(-1L), bus.read(0x18fc, 8));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 3, 5, 6, 7, 16, -1})
    void oddAccessSizesAreUnhandled(int size) {
        bus.register("dev", new AddressRange(0, 0x1000), 0, new Probe(0));
        assertNull(bus.find(0x100, size));
        assertEquals(OptionalLong.empty(), bus.read(0x100, size));
        assertEquals(OptionalLong.empty(), bus.read(0xffe, size), "not a straddle either");
        assertFalse(bus.write(0xffe, size, 0));
        assertEquals(0, bus.straddlingReads() + bus.straddlingWrites());
    }

    @Test
    void valuesAreMaskedToTheAccessSizeBothWays() {
        Probe dev = new Probe(0x1122_3344_5566_7788L);
        bus.register("dev", new AddressRange(0, 0x1000), 0, dev);
        assertEquals(OptionalLong.of(0x88), bus.read(0, 1));
        assertEquals(OptionalLong.of(0x7788), bus.read(0, 2));
        assertEquals(OptionalLong.of(0x5566_7788L), bus.read(0, 4));
        assertEquals(OptionalLong.of(0x1122_3344_5566_7788L), bus.read(0, 8));
        assertTrue(bus.write(8, 2, 0xdead_beefL));
        assertEquals(0xbeef, dev.lastValue);
        assertEquals(2, dev.lastSize);
    }

    @Test
    void unsignedAddressesAboveTwoToThe63() {
        bus.register("low", new AddressRange(0x1000, 0x1000), 0, new Probe(1));
        bus.register("high", new AddressRange(0x8000_0000_0000_0000L, 0x1000), 0, new Probe(2));
        bus.register("top", new AddressRange(0xffff_ffff_0000_0000L, 0x1000), 0, new Probe(3));
        assertEquals(OptionalLong.of(2), bus.read(0x8000_0000_0000_0ff8L, 8));
        assertEquals(OptionalLong.of(3), bus.read(0xffff_ffff_0000_0000L, 4));
        assertEquals(OptionalLong.of(1), bus.read(0x1000, 4));
        assertEquals(OptionalLong.empty(), bus.read(0x7fff_ffff_ffff_fff8L, 8));
    }

    @Test
    void aThrowingDeviceIsContainedAndCounted() {
        bus.register("buggy", new AddressRange(0, 0x100), 0, new MmioDevice() {
            @Override
            public long read(long offset, int size) {
                throw new IllegalStateException("bug");
            }

            @Override
            public void write(long offset, int size, long value) {
                throw new IllegalStateException("bug");
            }
        });
        assertEquals(OptionalLong.of(0xffff), bus.read(0, 2));
        assertTrue(bus.write(0, 4, 1), "the access was decoded; the device failed");
        assertEquals(2, bus.deviceFaults());
        assertEquals(0, bus.unhandledReads());
    }

    @Test
    void describeNamesRegionsAndVisibleSegments() {
        BackgroundRegion.map(bus, "pcie-window", new AddressRange(0x1000_0000, 0x1000));
        bus.register("bar0", new AddressRange(0x1000_0400, 0x100), 0, new Probe(0));
        String d = bus.describe();
        assertTrue(d.contains("pcie-window"), d);
        assertTrue(d.contains("bar0"), d);
        // Visible: window, bar0, window again.
        assertTrue(d.contains("0x0000000010000400-0x00000000100004ff  bar0"), d);
        assertTrue(d.contains("0x0000000010000500-0x0000000010000fff  pcie-window"), d);
    }

    /**
     * Property test against a per-byte reference model: an access is handled iff every byte has the same
     * visible region (the highest-priority region containing it), and the device offset is relative to that
     * region's base; otherwise it reads all ones if any byte has a visible region and is unhandled if none has.
     * Seed: -Djvmm.seed=N.
     */
    @Test
    void randomLayersMatchAPerByteReferenceModel() {
        long seed = Long.getLong("jvmm.seed", System.nanoTime());
        System.out.println(
                "BusTest.randomLayersMatchAPerByteReferenceModel seed=" + seed + " (-Djvmm.seed=" + seed + ")");
        Random rnd = new Random(seed);
        for (int round = 0; round < 40; round++) {
            Bus bus = new Bus("mmio");
            List<Bus.Region> live = new ArrayList<>();
            for (int i = 0; i < 25; i++) {
                long base = rnd.nextInt(0x400);
                long size = 1 + rnd.nextInt(0x80);
                int prio = rnd.nextInt(4) - 1;
                try {
                    live.add(bus.register("r" + i, new AddressRange(base, size), prio, new Probe(i)));
                } catch (IllegalArgumentException sameLayerOverlap) {
                    assertTrue(
                            live.stream()
                                    .anyMatch(r ->
                                            r.priority() == prio && r.range().overlaps(new AddressRange(base, size))),
                            "rejected without an overlap, seed " + seed);
                }
                if (!live.isEmpty() && rnd.nextInt(5) == 0) {
                    assertTrue(bus.remove(live.remove(rnd.nextInt(live.size()))));
                }
            }
            for (int a = 0; a < 600; a++) {
                long addr = rnd.nextInt(0x500);
                int size = 1 << rnd.nextInt(4);
                Bus.Region expected = visible(live, addr);
                for (int b = 1; b < size && expected != null; b++) {
                    if (visible(live, addr + b) != expected) expected = null;
                }
                assertSame(
                        expected,
                        bus.find(addr, size),
                        "seed %d round %d addr 0x%x size %d".formatted(seed, round, addr, size));
                String where = "seed %d round %d addr 0x%x size %d".formatted(seed, round, addr, size);
                if (expected != null) {
                    Probe p = (Probe) expected.device();
                    assertEquals(OptionalLong.of(p.answer), bus.read(addr, size), where);
                    assertEquals(addr - expected.range().base(), p.lastOffset, where);
                } else {
                    boolean touched = false;
                    for (int b = 0; b < size; b++) touched |= visible(live, addr + b) != null;
                    assertEquals(
                            touched ? OptionalLong.of(Sizes.sizeMask(size)) : OptionalLong.empty(),
                            bus.read(addr, size),
                            where);
                }
            }
        }
    }

    private static Bus.Region visible(List<Bus.Region> regions, long addr) {
        Bus.Region best = null;
        for (Bus.Region r : regions) {
            if (r.range().contains(addr) && (best == null || r.priority() > best.priority())) best = r;
        }
        return best;
    }

    /** Readers never see a torn map while another thread keeps remapping regions around them. */
    @Test
    void concurrentReadersSeeAConsistentMapDuringUpdates() throws Exception {
        BackgroundRegion.map(bus, "bg", new AddressRange(0, 0x100000));
        bus.register("stable", new AddressRange(0x8000, 0x1000), 10, new Probe(42));
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<String> failure = new AtomicReference<>();
        Thread reader = Thread.ofPlatform().start(() -> {
            while (!stop.get()) {
                OptionalLong v = bus.read(0x8ff8, 8);
                if (v.isEmpty() || v.getAsLong() != 42) failure.compareAndSet(null, "stable region read " + v);
                OptionalLong bg = bus.read(0x20000, 4);
                if (bg.isEmpty() || bg.getAsLong() != 0xffff_ffffL && bg.getAsLong() != 7) {
                    failure.compareAndSet(null, "churned address read " + bg);
                }
            }
        });
        for (int i = 0; i < 2000; i++) {
            Bus.Region r = bus.register("churn", new AddressRange(0x20000, 0x1000), 0, new Probe(7));
            bus.register("churn2", new AddressRange(0x30000 + (i % 16) * 0x1000L, 0x1000), 0, new Probe(8));
            bus.remove(r);
            bus.remove(bus.regionAt(0x30000 + (i % 16) * 0x1000L));
        }
        stop.set(true);
        reader.join();
        assertNull(failure.get());
    }
}
