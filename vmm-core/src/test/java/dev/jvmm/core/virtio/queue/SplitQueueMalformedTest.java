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

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Everything a driver can get wrong ends as a VirtqueueException naming it. */
class SplitQueueMalformedTest {
    private final TestDriver.Ram ram = new TestDriver.Ram(1 << 20);
    private final long end = ram.memory.end();
    private final TestDriver d = new TestDriver(ram.memory, 8);
    private final long buf = d.alloc(4096);

    @AfterEach
    void closeRam() { ram.close(); }

    private SplitQueue queue(boolean indirect) throws VirtqueueException {
        return queue(d, indirect);
    }

    private SplitQueue queue(TestDriver driver, boolean indirect) throws VirtqueueException {
        SplitQueue q = driver.configure(new SplitQueue(ram.memory, 8));
        q.enable(false, indirect);
        return q;
    }

    /** A driver with its own rings in the 64 KiB slot {@code slot} (1 to 15) of RAM. */
    private TestDriver driverAt(int slot) {
        return new TestDriver(ram.memory, TestDriver.RAM_BASE + 0x1_0000L * slot, 8);
    }

    private static void assertMalformed(SplitQueue q, String fragment) {
        VirtqueueException e = assertThrows(VirtqueueException.class, q::pop);
        assertTrue(e.getMessage().contains(fragment), () -> "message \"" + e.getMessage() + "\" lacks \"" + fragment + "\"");
        assertTrue(q.isBroken());
    }

    // --- configuration, checked at enable

    private void assertEnableFails(SplitQueue q, String fragment) {
        VirtqueueException e = assertThrows(VirtqueueException.class, () -> q.enable(false, false));
        assertTrue(e.getMessage().contains(fragment), () -> "message \"" + e.getMessage() + "\" lacks \"" + fragment + "\"");
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
        q.setDescriptorTable(end - 64);                    // only half of it inside
        assertEnableFails(q, "descriptor table");
        q.setDescriptorTable(0xFFFF_FFFF_FFFF_FFF0L);      // would wrap 2^64
        assertEnableFails(q, "descriptor table");
        d.configure(q);
        q.setAvailRing(end - SplitQueue.availRingBytes(8) + 2);   // used_event past the end
        assertEnableFails(q, "available ring");
        d.configure(q);
        q.setUsedRing(end - 68);                           // 4-aligned, avail_event past the end
        assertEnableFails(q, "used ring 0x%x+0x46 is outside guest RAM".formatted(end - 68));
        d.configure(q);
        q.setUsedRing(end - 72);                           // the whole 70 bytes fit
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
        q.pop().orElseThrow();                             // the device has seen idx 3
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

    @Test
    void headIndexOutOfRangeFails() throws VirtqueueException {
        SplitQueue q = queue(false);
        d.writeAvailEntry(0, 8);
        d.setAvailIdx(1);
        assertMalformed(q, "avail ring entry 0 names head 8, the queue has 8 descriptors");
        TestDriver other = driverAt(1);
        SplitQueue q2 = queue(other, false);
        other.writeAvailEntry(0, 0xFFFF);
        other.setAvailIdx(1);
        assertMalformed(q2, "names head 65535");
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

    @Test
    void nextOutOfRangeFails() throws VirtqueueException {
        SplitQueue q = queue(false);
        d.writeDesc(0, buf, 4, VIRTQ_DESC_F_NEXT, 8);
        d.publish(0);
        assertMalformed(q, "chain from head 0, descriptor 0: next 8 is out of range (8 entries)");
    }

    @Test
    void aDescriptorPointingToItselfIsALoop() throws VirtqueueException {
        SplitQueue q = queue(false);
        d.writeDesc(3, buf, 4, VIRTQ_DESC_F_NEXT, 3);
        d.publish(3);
        assertMalformed(q, "chain from head 3 is longer than the queue size 8 (a loop?)");
    }

    @Test
    void nextPointingBackIsALoop() throws VirtqueueException {
        SplitQueue q = queue(false);
        d.writeDesc(0, buf, 4, VIRTQ_DESC_F_NEXT, 1);
        d.writeDesc(1, buf, 4, VIRTQ_DESC_F_NEXT, 2);
        d.writeDesc(2, buf, 4, VIRTQ_DESC_F_NEXT, 1);
        d.publish(0);
        assertMalformed(q, "(a loop?)");
    }

    @Test
    void loopOfZeroLengthDescriptorsIsALoopToo() throws VirtqueueException {
        SplitQueue q = queue(false);
        d.writeDesc(0, 0, 0, VIRTQ_DESC_F_NEXT, 1);
        d.writeDesc(1, 0, 0, VIRTQ_DESC_F_NEXT, 0);
        d.publish(0);
        assertMalformed(q, "(a loop?)");
    }

    @Test
    void buffersOutsideRamFail() throws VirtqueueException {
        long[][] cases = {
                {0, 16},                                       // far below RAM
                {TestDriver.RAM_BASE - 1, 2},                  // straddles the start
                {end - 8, 16},                                 // straddles the end
                {end, 1},                                      // just past the end
                {0xFFFF_FFFF_FFFF_FFF0L, 0x20},                // addr + len wraps 2^64
                {TestDriver.RAM_BASE + 16, 0xFFFF_FFFFL},      // huge length
                {Long.MIN_VALUE + TestDriver.RAM_BASE, 16},    // negative as a signed long
        };
        for (int i = 0; i < cases.length; i++) {
            long[] c = cases[i];
            TestDriver driver = driverAt(i + 1);
            SplitQueue q = queue(driver, false);
            driver.add(in(c[0], c[1]));
            assertMalformed(q, "buffer 0x%x+0x%x is outside guest RAM".formatted(c[0], c[1]));
        }
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
        d.writeDesc(0, outer, 32, VIRTQ_DESC_F_INDIRECT, 0);
        d.publish(0);
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

    @Test
    void indirectTableLengthsThatAreNotWholeDescriptorsFail() throws VirtqueueException {
        long table = d.writeIndirectTable(out(buf, 4), out(buf, 4));
        long[] lengths = {0, 1, 15, 17, 31, 0xFFFF_FFF0L + 1};
        for (int i = 0; i < lengths.length; i++) {
            long len = lengths[i];
            TestDriver driver = driverAt(i + 1);
            SplitQueue q = queue(driver, true);
            driver.writeDesc(0, table, len, VIRTQ_DESC_F_INDIRECT, 0);
            driver.publish(0);
            assertMalformed(q, "indirect table length %d is not a non-zero multiple of 16".formatted(len));
        }
    }

    @Test
    void indirectTableOverTheLimitFails() throws VirtqueueException {
        SplitQueue q = queue(true);
        long table = d.alloc(16 * 1025);
        d.writeDesc(0, table, 16 * 1025, VIRTQ_DESC_F_INDIRECT, 0);
        d.publish(0);
        assertMalformed(q, "indirect table of 1025 entries, more than 1024");
        TestDriver other = driverAt(1);
        SplitQueue q2 = queue(other, true);
        other.writeDesc(0, table, 0xFFFF_FFF0L, VIRTQ_DESC_F_INDIRECT, 0);
        other.publish(0);
        assertMalformed(q2, "indirect table of 268435455 entries, more than 1024");
    }

    @Test
    void indirectTableOutsideRamFails() throws VirtqueueException {
        long[] addrs = {0, end - 16, 0xFFFF_FFFF_FFFF_FFF0L};
        for (int i = 0; i < addrs.length; i++) {
            long addr = addrs[i];
            TestDriver driver = driverAt(i + 1);
            SplitQueue q = queue(driver, true);
            driver.writeDesc(0, addr, 32, VIRTQ_DESC_F_INDIRECT, 0);
            driver.publish(0);
            assertMalformed(q, "indirect table 0x%x+0x20 is outside guest RAM".formatted(addr));
        }
    }

    @Test
    void aLoopInsideAnIndirectTableFails() throws VirtqueueException {
        SplitQueue q = queue(true);
        long table = d.alloc(48);
        d.writeDescAt(table, 0, buf, 4, VIRTQ_DESC_F_NEXT, 1);
        d.writeDescAt(table, 1, buf, 4, VIRTQ_DESC_F_NEXT, 2);
        d.writeDescAt(table, 2, buf, 4, VIRTQ_DESC_F_NEXT, 0);
        d.writeDesc(0, table, 48, VIRTQ_DESC_F_INDIRECT, 0);
        d.publish(0);
        assertMalformed(q, "indirect table at 0x%x chains more than its 3 entries (a loop?)".formatted(table));
    }

    @Test
    void nextOutsideAnIndirectTableFails() throws VirtqueueException {
        SplitQueue q = queue(true);
        long table = d.alloc(32);
        d.writeDescAt(table, 0, buf, 4, VIRTQ_DESC_F_NEXT, 2);   // the table has 2 entries
        d.writeDescAt(table, 1, buf, 4, 0, 0);
        d.writeDesc(0, table, 32, VIRTQ_DESC_F_INDIRECT, 0);
        d.publish(0);
        assertMalformed(q, "next 2 is out of range (2 entries)");
    }

    @Test
    void readableInAnIndirectTableAfterWritableDirectDescriptorsFails() throws VirtqueueException {
        SplitQueue q = queue(true);
        long table = d.writeIndirectTable(out(buf, 4));
        d.writeDesc(0, buf, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
        d.writeDesc(1, table, 16, VIRTQ_DESC_F_INDIRECT, 0);
        d.publish(0);
        assertMalformed(q, "indirect table at 0x%x, entry 0: device-readable descriptor after a device-writable one"
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
        d.addIndirect(out(buf, 4), in(end - 2, 4));
        assertMalformed(q, "buffer 0x%x+0x4 is outside guest RAM".formatted(end - 2));
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
        d.add(out(buf, 4));                                 // a fine chain: not looked at any more
        VirtqueueException again = assertThrows(VirtqueueException.class, q::pop);
        assertTrue(again.getMessage().startsWith("virtqueue is broken: "), again.getMessage());
        assertThrows(VirtqueueException.class, q::enableNotifications);
        q.pushUsed(good, 4);                                // chains already popped can still be returned
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
