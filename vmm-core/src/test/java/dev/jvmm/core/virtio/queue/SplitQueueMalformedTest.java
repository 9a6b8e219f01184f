package dev.jvmm.core.virtio.queue;

import static dev.jvmm.core.virtio.queue.SplitQueue.VIRTQ_DESC_F_INDIRECT;
import static dev.jvmm.core.virtio.queue.SplitQueue.VIRTQ_DESC_F_NEXT;
import static dev.jvmm.core.virtio.queue.SplitQueue.VIRTQ_DESC_F_WRITE;
import static dev.jvmm.core.virtio.queue.TestDriver.in;
import static dev.jvmm.core.virtio.queue.TestDriver.out;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Everything a driver can get wrong ends as a VirtqueueException naming it. */
class SplitQueueMalformedTest {
    private static final int RAM_BYTES = 1 << 20;
    private static final long END = TestDriver.RAM_BASE + RAM_BYTES;

    private final TestDriver.Ram ram = new TestDriver.Ram(RAM_BYTES);
    private final TestDriver d = new TestDriver(ram.memory, 8);
    private final long buf = d.alloc(4096);

    @AfterEach
    void closeRam() {
        ram.close();
    }

    private SplitQueue queue(boolean indirect) throws VirtqueueException {
        return d.enabledQueue(8, false, indirect);
    }

    /** A driver with its own rings in the 64 KiB slot {@code slot} (1 to 15) of RAM. */
    private TestDriver driverAt(int slot) {
        return new TestDriver(ram.memory, TestDriver.RAM_BASE + 0x1_0000L * slot, 8);
    }

    private static void assertMalformed(SplitQueue q, String fragment) {
        VirtqueueException e = assertThrows(VirtqueueException.class, q::pop);
        assertTrue(
                e.getMessage().contains(fragment),
                () -> "message \"" + e.getMessage() + "\" lacks \"" + fragment + "\"");
        assertTrue(q.isBroken());
    }

    /**
     * Links the descriptors of {@code table} along {@code path}, descriptor numbers separated by spaces, each to the
     * next with VIRTQ_DESC_F_NEXT (the last number is only a link target); returns the first.
     */
    private int writeLinks(long table, String path, long addr, long len) {
        int[] p = Arrays.stream(path.split(" ")).mapToInt(Integer::parseInt).toArray();
        for (int k = 0; k + 1 < p.length; k++) {
            d.writeDescAt(table, p[k], addr, len, VIRTQ_DESC_F_NEXT, p[k + 1]);
        }
        return p[0];
    }

    /** Makes descriptor 0, pointing at an indirect table of {@code len} bytes at {@code table}, available. */
    private static void publishIndirect(TestDriver driver, long table, long len) {
        driver.writeDesc(0, table, len, VIRTQ_DESC_F_INDIRECT, 0);
        driver.publish(0);
    }

    // --- configuration, checked at enable

    private void assertEnableFails(SplitQueue q, String fragment) {
        VirtqueueException e = assertThrows(VirtqueueException.class, () -> q.enable(false, false));
        assertTrue(
                e.getMessage().contains(fragment),
                () -> "message \"" + e.getMessage() + "\" lacks \"" + fragment + "\"");
        assertFalse(q.isEnabled());
    }

    @Test
    void sizeNotAPowerOfTwoOrTooLargeIsRefused() {
        for (int bad : new int[] {0, 3, 6, 7, 16, 65535, -8}) {
            SplitQueue q = d.configure(new SplitQueue(ram.memory, 8));
            q.setSize(bad);
            assertEnableFails(q, "queue size " + bad + " is not a power of two in [1, 8]");
        }
    }

    @Test
    void unalignedRingsAreRefused() {
        SplitQueue q = d.configure(new SplitQueue(ram.memory, 8));
        q.setDescriptorTable(d.desc + 8);
        assertEnableFails(q, "descriptor table at 0x40000008 is not 16-byte aligned");
        d.configure(q);
        q.setAvailRing(d.avail + 1);
        assertEnableFails(q, "available ring");
        d.configure(q);
        q.setUsedRing(d.used + 2);
        assertEnableFails(q, "used ring");
    }

    @Test
    void ringsOutsideRamAreRefused() throws VirtqueueException {
        SplitQueue q = d.configure(new SplitQueue(ram.memory, 8));
        q.setDescriptorTable(0);
        assertEnableFails(q, "descriptor table 0x0+0x80 is outside guest RAM");
        q.setDescriptorTable(END - 64); // only half of it inside
        assertEnableFails(q, "descriptor table");
        q.setDescriptorTable(0xFFFF_FFFF_FFFF_FFF0L); // would wrap 2^64
        assertEnableFails(q, "descriptor table");
        d.configure(q);
        q.setAvailRing(END - SplitQueue.availRingBytes(8) + 2); // used_event past the end
        assertEnableFails(q, "available ring");
        d.configure(q);
        q.setUsedRing(END - 68); // 4-aligned, avail_event past the end
        assertEnableFails(q, "used ring 0x%x+0x46 is outside guest RAM".formatted(END - 68));
        d.configure(q);
        q.setUsedRing(END - 72); // the whole 70 bytes fit
        q.enable(true, true);
        assertTrue(q.isEnabled());
    }

    // --- the available ring

    @Test
    void availIdxJumpingByMoreThanTheSizeFails() throws VirtqueueException {
        SplitQueue q = queue(false);
        d.setAvailIdx(9);
        assertMalformed(q, "driver advanced avail idx from 0 to 9");
    }

    @Test
    void availIdxJumpingByExactlyTheSizeIsFine() throws VirtqueueException {
        SplitQueue q = queue(false);
        for (int i = 0; i < 8; i++) d.add(out(buf, 1));
        for (int i = 0; i < 8; i++) q.pop().orElseThrow();
        assertTrue(q.pop().isEmpty());
    }

    @Test
    void availIdxMovingBackFails() throws VirtqueueException {
        SplitQueue q = queue(false);
        d.add(out(buf, 1));
        d.add(out(buf, 1));
        q.pop().orElseThrow();
        q.pop().orElseThrow();
        d.setAvailIdx(1);
        assertMalformed(q, "driver moved avail idx back from 2 to 1");
    }

    @Test
    void availIdxMovingBackWithinTheWindowFailsAtRecheck() throws VirtqueueException {
        SplitQueue q = queue(false);
        d.add(out(buf, 1));
        d.add(out(buf, 1));
        d.add(out(buf, 1));
        q.pop().orElseThrow(); // the device has seen idx 3
        d.setAvailIdx(2);
        VirtqueueException e = assertThrows(VirtqueueException.class, q::enableNotifications);
        assertEquals("driver moved avail idx back from 3 to 2", e.getMessage());
        assertTrue(q.isBroken());
    }

    @Test
    void enableNotificationsChecksAvailIdxToo() throws VirtqueueException {
        SplitQueue q = queue(false);
        d.setAvailIdx(100);
        assertThrows(VirtqueueException.class, q::enableNotifications);
        assertThrows(VirtqueueException.class, q::pop);
    }

    @ParameterizedTest
    @ValueSource(ints = {8, 0xFFFF})
    void headIndexOutOfRangeFails(int head) throws VirtqueueException {
        SplitQueue q = queue(false);
        d.writeAvailEntry(0, head);
        d.setAvailIdx(1);
        assertMalformed(q, "avail ring entry 0 names head " + head + ", the queue has 8 descriptors");
    }

    @Test
    void moreChainsThanDescriptorsInFlightFails() throws VirtqueueException {
        SplitQueue q = queue(false);
        for (int i = 0; i < 8; i++) d.add(out(buf, 1));
        for (int i = 0; i < 8; i++) q.pop().orElseThrow();
        // The device holds all 8 descriptors; the driver makes descriptor 0 available again.
        d.writeAvailEntry(0, 0);
        d.setAvailIdx(9);
        assertMalformed(q, "driver made a chain available while the device holds all 8");
    }

    // --- descriptor chains

    /**
     * Chains whose NEXT links go wrong: {@code path} "0 1 2 1" links descriptor 0 to 1, 1 to 2 and 2 back to 1; the
     * chain starts at its first entry. Each descriptor holds {@code len} bytes: at {@code buf}, or at 0 when empty.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            next out of range                 | 0 8     | 4 | chain from head 0, descriptor 0: next 8 is out of range (8 entries)
            a descriptor pointing to itself   | 3 3     | 4 | chain from head 3 is longer than the queue size 8 (a loop?)
            next pointing back                | 0 1 2 1 | 4 | (a loop?)
            a loop of zero-length descriptors | 0 1 0   | 0 | (a loop?)
            """)
    void badNextLinksFail(String what, String path, long len, String fault) throws VirtqueueException {
        SplitQueue q = queue(false);
        d.publish(writeLinks(d.desc, path, len == 0 ? 0 : buf, len));
        assertMalformed(q, fault);
    }

    static Stream<Arguments> buffersOutsideRam() {
        return Stream.of(
                arguments(0L, 16L), // far below RAM
                arguments(TestDriver.RAM_BASE - 1, 2L), // straddles the start
                arguments(END - 8, 16L), // straddles the end
                arguments(END, 1L), // just past the end
                arguments(0xFFFF_FFFF_FFFF_FFF0L, 0x20L), // addr + len wraps 2^64
                arguments(TestDriver.RAM_BASE + 16, 0xFFFF_FFFFL), // huge length
                arguments(Long.MIN_VALUE + TestDriver.RAM_BASE, 16L)); // negative as a signed long
    }

    @ParameterizedTest
    @MethodSource("buffersOutsideRam")
    void buffersOutsideRamFail(long addr, long len) throws VirtqueueException {
        SplitQueue q = queue(false);
        d.add(in(addr, len));
        assertMalformed(q, "buffer 0x%x+0x%x is outside guest RAM".formatted(addr, len));
    }

    @Test
    void aReadableDescriptorAfterAWritableOneFails() throws VirtqueueException {
        SplitQueue q = queue(false);
        d.add(out(buf, 4), in(buf, 4), out(buf, 4));
        assertMalformed(q, "device-readable descriptor after a device-writable one");
    }

    @Test
    void aZeroLengthReadableDescriptorAfterAWritableOneFailsToo() throws VirtqueueException {
        SplitQueue q = queue(false);
        d.add(in(buf, 4), out(buf, 0));
        assertMalformed(q, "device-readable descriptor after a device-writable one");
    }

    // --- indirect descriptors

    @Test
    void indirectWithoutTheFeatureFails() throws VirtqueueException {
        SplitQueue q = queue(false);
        d.addIndirect(out(buf, 4));
        assertMalformed(q, "INDIRECT without VIRTIO_F_INDIRECT_DESC");
    }

    @Test
    void indirectInsideAnIndirectTableFails() throws VirtqueueException {
        SplitQueue q = queue(true);
        long inner = d.writeIndirectTable(out(buf, 4));
        long outer = d.alloc(32);
        d.writeDescAt(outer, 0, buf, 4, VIRTQ_DESC_F_NEXT, 1);
        d.writeDescAt(outer, 1, inner, 16, VIRTQ_DESC_F_INDIRECT, 0);
        publishIndirect(d, outer, 32);
        assertMalformed(q, "indirect table at 0x%x, entry 1: INDIRECT inside an indirect table".formatted(outer));
    }

    @Test
    void indirectTogetherWithNextFails() throws VirtqueueException {
        SplitQueue q = queue(true);
        long table = d.writeIndirectTable(out(buf, 4));
        d.writeDesc(0, table, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
        d.writeDesc(1, buf, 4, 0, 0);
        d.publish(0);
        assertMalformed(q, "INDIRECT together with NEXT");
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 1, 15, 17, 31, 0xFFFF_FFF0L + 1})
    void indirectTableLengthsThatAreNotWholeDescriptorsFail(long len) throws VirtqueueException {
        SplitQueue q = queue(true);
        publishIndirect(d, d.writeIndirectTable(out(buf, 4), out(buf, 4)), len);
        assertMalformed(q, "indirect table length %d is not a non-zero multiple of 16".formatted(len));
    }

    @ParameterizedTest
    @ValueSource(longs = {16 * 1025, 0xFFFF_FFF0L}) // 1025 entries; 268435455 entries, more than the table's memory
    void indirectTableOverTheLimitFails(long len) throws VirtqueueException {
        SplitQueue q = queue(true);
        publishIndirect(d, d.alloc(16 * 1025), len);
        assertMalformed(q, "indirect table of %d entries, more than 1024".formatted(len / 16));
    }

    @ParameterizedTest
    @ValueSource(longs = {0, END - 16, 0xFFFF_FFFF_FFFF_FFF0L})
    void indirectTableOutsideRamFails(long addr) throws VirtqueueException {
        SplitQueue q = queue(true);
        publishIndirect(d, addr, 32);
        assertMalformed(q, "indirect table 0x%x+0x20 is outside guest RAM".formatted(addr));
    }

    /** As {@link #badNextLinksFail}, inside an indirect table of {@code entries} entries ({@code %x}: its address). */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            a loop inside an indirect table  | 3 | 0 1 2 0 | indirect table at 0x%x chains more than its 3 entries (a loop?)
            next outside an indirect table   | 2 | 0 2     | next 2 is out of range (2 entries)
            """)
    void badNextLinksInsideAnIndirectTableFail(String what, int entries, String path, String fault)
            throws VirtqueueException {
        SplitQueue q = queue(true);
        long table = d.alloc(16L * entries);
        writeLinks(table, path, buf, 4);
        publishIndirect(d, table, 16L * entries);
        assertMalformed(q, fault.formatted(table));
    }

    @Test
    void readableInAnIndirectTableAfterWritableDirectDescriptorsFails() throws VirtqueueException {
        SplitQueue q = queue(true);
        long table = d.writeIndirectTable(out(buf, 4));
        d.writeDesc(0, buf, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
        d.writeDesc(1, table, 16, VIRTQ_DESC_F_INDIRECT, 0);
        d.publish(0);
        assertMalformed(
                q,
                "indirect table at 0x%x, entry 0: device-readable descriptor after a device-writable one"
                        .formatted(table));
    }

    @Test
    void readableAfterWritableInsideAnIndirectTableFails() throws VirtqueueException {
        SplitQueue q = queue(true);
        d.addIndirect(in(buf, 4), out(buf, 4));
        assertMalformed(q, "device-readable descriptor after a device-writable one");
    }

    @Test
    void anIndirectBufferOutsideRamFails() throws VirtqueueException {
        SplitQueue q = queue(true);
        d.addIndirect(out(buf, 4), in(END - 2, 4));
        assertMalformed(q, "buffer 0x%x+0x4 is outside guest RAM".formatted(END - 2));
    }

    // --- after an error

    @Test
    void aBrokenQueueStaysBrokenUntilReset() throws VirtqueueException {
        SplitQueue q = queue(false);
        d.add(in(buf, 4));
        DescriptorChain good = q.pop().orElseThrow();
        d.writeAvailEntry(1, 200);
        d.setAvailIdx(2);
        assertMalformed(q, "names head 200");
        d.add(out(buf, 4)); // a fine chain: not looked at any more
        VirtqueueException again = assertThrows(VirtqueueException.class, q::pop);
        assertTrue(again.getMessage().startsWith("virtqueue is broken: "), again.getMessage());
        assertThrows(VirtqueueException.class, q::enableNotifications);
        q.pushUsed(good, 4); // chains already popped can still be returned
        assertEquals(1, d.usedIdx());
        assertTrue(q.needsInterrupt());

        q.reset();
        assertFalse(q.isBroken());
        TestDriver fresh = driverAt(8);
        fresh.configure(q);
        q.enable(false, false);
        long b = fresh.alloc(4);
        fresh.add(out(b, 4));
        assertEquals(List.of(new GuestBuffer(b, 4)), q.pop().orElseThrow().readable());
    }
}
