package dev.jvmm.core.virtio.queue;

import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.pcie.util.Sizes;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A split virtqueue, device side (virtio 1.2 §2.7): the descriptor table, the available ring the driver writes
 * and the used ring the device writes, all in guest RAM.
 *
 * <h2>Life cycle</h2>
 * The transport forwards the driver's configuration ({@link #setSize}, {@link #setDescriptorTable},
 * {@link #setAvailRing}, {@link #setUsedRing}), then {@link #enable} checks it and starts the queue; writes to
 * the configuration while the queue is enabled are ignored (the rings were checked at enable time, and virtio-pci
 * has the driver configure a queue before enabling it). {@link #reset} returns to the reset state. Chains popped
 * before a reset and returned after it are dropped: the driver forgot them when it reset the queue.
 *
 * <h2>Processing</h2>
 * A device drains the queue with the "disable, drain, enable, recheck" loop, which cannot miss a notification:
 * <pre>{@code
 * do {
 *     queue.disableNotifications();
 *     for (Optional<DescriptorChain> c; (c = queue.pop()).isPresent(); ) {
 *         int written = serve(c.get());
 *         queue.pushUsed(c.get(), written);
 *     }
 *     if (queue.needsInterrupt()) transport.interrupt();
 * } while (queue.enableNotifications());
 * }</pre>
 * Every popped chain has to be returned with {@link #pushUsed} (with 0 bytes written if the request failed): the
 * queue counts the chains the device holds, and a driver that makes a chain available while the device holds
 * {@code size} of them has reused descriptors it does not own.
 *
 * <h2>Untrusted input</h2>
 * Everything the guest wrote is read once into locals, checked, and every violation is a
 * {@link VirtqueueException}; no other exception escapes for guest data. The checks, and the spec text behind
 * them:
 * <ul>
 *   <li>avail {@code idx} moves at most {@code size} ahead of the next index the device reads, and never back
 *       (§2.7.6: "MUST NOT decrement"); at most {@code size} chains are in flight;</li>
 *   <li>heads and {@code next} are inside their table; a chain visits at most {@code size} descriptors of the
 *       descriptor table ("the maximum possible descriptor chain length", §2.7.5), so loops fail;</li>
 *   <li>a buffer {@code [addr, addr + len)} lies inside guest RAM (unsigned, no wrap at 2^64); a descriptor of
 *       length 0 is accepted, contributes no buffer and its address is not looked at;</li>
 *   <li>device-readable descriptors come before device-writable ones (§2.7.4.2, Message Framing), across the
 *       whole chain including an indirect table;</li>
 *   <li>the buffers of a chain total at most 2^32 bytes (§2.7.5.2, "MUST NOT add a descriptor chain longer than
 *       2^32 bytes"), summed as {@code long};</li>
 *   <li>indirect descriptors (§2.7.5.3): only when negotiated; never together with {@code NEXT}; never inside an
 *       indirect table; the table's length a non-zero multiple of 16, at most
 *       {@value #MAX_INDIRECT_DESCRIPTORS} entries, inside guest RAM; a chain inside the table visits each entry
 *       at most once. As the device part of §2.7.5.3 requires, zero or more ordinary descriptors followed by one
 *       indirect descriptor are accepted, and the {@code WRITE} flag of the descriptor that refers to the table
 *       is ignored.</li>
 * </ul>
 * Flag bits other than {@code NEXT}, {@code WRITE} and {@code INDIRECT} are ignored. After the first
 * {@code VirtqueueException} from {@link #pop} or {@link #enableNotifications} the queue is broken: both throw
 * again until {@link #reset}, so a malformed ring is not walked twice (chains already popped can still be
 * returned).
 *
 * <h2>Memory ordering</h2>
 * The guest's vCPUs write the rings concurrently. The device reads avail {@code idx}, then an acquire fence
 * orders it before the ring entries and descriptors; it writes a used element, then a release fence orders it
 * before the used {@code idx}; a full fence separates publishing used {@code idx} from reading
 * {@code used_event} or the avail flags ({@link #needsInterrupt}), and publishing {@code avail_event} or the used
 * flags from re-reading avail {@code idx} ({@link #enableNotifications}) — the same reasoning as Linux's
 * {@code virtqueue_kick_prepare} and QEMU's {@code virtio_should_notify}.
 *
 * <h2>Threads</h2>
 * A queue is confined to one thread at a time; the transport serializes configuration, processing and reset.
 * It takes no locks and shares no mutable state with other queues.
 */
public final class SplitQueue {
    /** The largest queue size (§2.7: "The maximum Queue Size value is 32768"). */
    public static final int MAX_QUEUE_SIZE = 32768;
    /**
     * The most entries an indirect table may have. The spec sets no limit of its own besides the 2^32 bytes of a
     * chain and lets a device have "a reasonable limit of descriptors it will allow in a chain" (§2.7.4.1); this
     * is QEMU's VIRTQUEUE_MAX_SIZE, also the most a device can hand to one {@code preadv}/{@code pwritev}
     * (IOV_MAX).
     */
    public static final int MAX_INDIRECT_DESCRIPTORS = 1024;
    /** The most bytes a chain's buffers may total (§2.7.5.2). */
    public static final long MAX_CHAIN_BYTES = 1L << 32;
    /** The largest {@link GuestBuffer} a descriptor longer than {@code Integer.MAX_VALUE} is cut into. */
    public static final long MAX_BUFFER_PIECE = 1L << 30;

    public static final int VIRTQ_DESC_F_NEXT = 1;
    public static final int VIRTQ_DESC_F_WRITE = 2;
    public static final int VIRTQ_DESC_F_INDIRECT = 4;
    public static final int VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
    public static final int VIRTQ_USED_F_NO_NOTIFY = 1;

    /** Alignment of the descriptor table, the available ring and the used ring (§2.7). */
    public static final int DESCRIPTOR_TABLE_ALIGN = 16;

    public static final int AVAIL_RING_ALIGN = 2;
    public static final int USED_RING_ALIGN = 4;
    public static final int DESCRIPTOR_SIZE = 16;

    private static final ValueLayout.OfShort LE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE_LONG =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final GuestMemory memory;
    private final int maxSize;

    // driver-written configuration
    private int size;
    private long descGpa;
    private long availGpa;
    private long usedGpa;

    // state while enabled
    private boolean enabled;
    private boolean eventIdx;
    private boolean indirect;
    private MemorySegment desc;
    private MemorySegment avail;
    private MemorySegment used;
    private int nextAvail; // u16: the avail ring index the device reads next (last_avail_idx)
    private int shadowAvail; // u16: the avail idx last read from the guest
    private int usedIdx; // u16: the used idx last published
    private int inFlight; // chains popped and not yet returned
    private int signalledUsed; // u16: used idx at the last needsInterrupt
    private long pushedSinceCheck;
    private boolean notifications;
    private String broken;
    private long generation;

    /**
     * @param memory  guest RAM the rings and buffers must lie in
     * @param maxSize the largest queue size the device offers: a power of two, 1 to {@value #MAX_QUEUE_SIZE}
     */
    public SplitQueue(GuestMemory memory, int maxSize) {
        this.memory = Objects.requireNonNull(memory, "memory");
        if (maxSize < 1 || maxSize > MAX_QUEUE_SIZE || !Sizes.isPowerOfTwo(maxSize)) {
            throw new IllegalArgumentException(
                    "queue size %d is not a power of two in [1, %d]".formatted(maxSize, MAX_QUEUE_SIZE));
        }
        this.maxSize = maxSize;
        reset();
    }

    /** Bytes of a descriptor table of {@code size} entries. */
    public static long descriptorTableBytes(int size) {
        return (long) DESCRIPTOR_SIZE * size;
    }

    /** Bytes of an available ring of {@code size} entries, with {@code used_event}. */
    public static long availRingBytes(int size) {
        return 6 + 2L * size;
    }

    /** Bytes of a used ring of {@code size} entries, with {@code avail_event}. */
    public static long usedRingBytes(int size) {
        return 6 + 8L * size;
    }

    public int maxSize() {
        return maxSize;
    }

    /** The driver's queue size, checked by {@link #enable}. Ignored while the queue is enabled. */
    public void setSize(int size) {
        if (!enabled) this.size = size;
    }

    public int size() {
        return size;
    }

    /** Guest-physical address of the descriptor table. Ignored while the queue is enabled. */
    public void setDescriptorTable(long gpa) {
        if (!enabled) descGpa = gpa;
    }

    /** Guest-physical address of the available ring (the driver area). Ignored while the queue is enabled. */
    public void setAvailRing(long gpa) {
        if (!enabled) availGpa = gpa;
    }

    /** Guest-physical address of the used ring (the device area). Ignored while the queue is enabled. */
    public void setUsedRing(long gpa) {
        if (!enabled) usedGpa = gpa;
    }

    public long descriptorTable() {
        return descGpa;
    }

    public long availRing() {
        return availGpa;
    }

    public long usedRing() {
        return usedGpa;
    }

    /**
     * Checks the configuration (size a power of two no larger than {@link #maxSize}, alignment §2.7: descriptor
     * table 16, available ring 2, used ring 4, every part inside RAM at its full size including the event
     * fields) and starts the queue with both indices at 0 and notifications enabled. Does nothing when the queue
     * is already enabled.
     *
     * @param eventIdx            VIRTIO_F_EVENT_IDX was negotiated
     * @param indirectDescriptors VIRTIO_F_INDIRECT_DESC was negotiated
     */
    public void enable(boolean eventIdx, boolean indirectDescriptors) throws VirtqueueException {
        if (enabled) return;
        int n = size;
        if (n < 1 || n > maxSize || !Sizes.isPowerOfTwo(n)) {
            throw new VirtqueueException("queue size %d is not a power of two in [1, %d]".formatted(n, maxSize));
        }
        checkPart("descriptor table", descGpa, DESCRIPTOR_TABLE_ALIGN, descriptorTableBytes(n));
        checkPart("available ring", availGpa, AVAIL_RING_ALIGN, availRingBytes(n));
        checkPart("used ring", usedGpa, USED_RING_ALIGN, usedRingBytes(n));
        desc = memory.slice(descGpa, descriptorTableBytes(n));
        avail = memory.slice(availGpa, availRingBytes(n));
        used = memory.slice(usedGpa, usedRingBytes(n));
        this.eventIdx = eventIdx;
        this.indirect = indirectDescriptors;
        restartProgress();
        enabled = true;
    }

    /** The ring indices and notification state of a queue that starts (enable) or stops (reset) from scratch. */
    private void restartProgress() {
        nextAvail = 0;
        shadowAvail = 0;
        usedIdx = 0;
        inFlight = 0;
        signalledUsed = 0;
        pushedSinceCheck = 0;
        notifications = true;
        broken = null;
    }

    private void checkPart(String what, long gpa, int align, long bytes) throws VirtqueueException {
        if ((gpa & (align - 1)) != 0) {
            throw new VirtqueueException("%s at 0x%x is not %d-byte aligned".formatted(what, gpa, align));
        }
        if (!memory.contains(gpa, bytes)) {
            throw new VirtqueueException("%s 0x%x+0x%x is outside guest RAM [0x%x, 0x%x)"
                    .formatted(what, gpa, bytes, memory.base(), memory.end()));
        }
    }

    public boolean isEnabled() {
        return enabled;
    }

    /** Whether a malformed ring stopped the queue; cleared by {@link #reset}. */
    public boolean isBroken() {
        return broken != null;
    }

    /** The avail ring index the device reads next (the spec's last_avail_idx), 0 to 65535. */
    public int nextAvailIndex() {
        return nextAvail;
    }

    /** The used idx last published, 0 to 65535. */
    public int usedIndex() {
        return usedIdx;
    }

    /** Chains popped and not yet returned. */
    public int inFlight() {
        return inFlight;
    }

    /**
     * The next available chain, or empty when the driver has made none available (or the queue is not enabled).
     *
     * @throws VirtqueueException the ring or the chain is malformed; the queue is broken from then on
     */
    public Optional<DescriptorChain> pop() throws VirtqueueException {
        if (!enabled) return Optional.empty();
        checkNotBroken();
        try {
            if (nextAvail == shadowAvail && refreshAvailIdx() == 0) return Optional.empty();
            if (inFlight >= size) {
                throw new VirtqueueException(
                        "driver made a chain available while the device holds all %d".formatted(size));
            }
            int position = nextAvail;
            int head = Short.toUnsignedInt(avail.get(LE_SHORT, 4 + 2L * (position & (size - 1))));
            nextAvail = (position + 1) & 0xFFFF;
            if (head >= size) {
                throw new VirtqueueException("avail ring entry %d names head %d, the queue has %d descriptors"
                        .formatted(position, head, size));
            }
            DescriptorChain chain = readChain(head);
            inFlight++;
            if (eventIdx && notifications) used.set(LE_SHORT, availEventOffset(), (short) nextAvail);
            return Optional.of(chain);
        } catch (VirtqueueException e) {
            broken = e.getMessage();
            throw e;
        }
    }

    /**
     * Reads avail idx, checks it against what the device has seen, then fences so that the ring entries and
     * descriptors read after it are at least as new. Returns how many chains are available.
     */
    private int refreshAvailIdx() throws VirtqueueException {
        int idx = Short.toUnsignedInt(avail.get(LE_SHORT, 2));
        int pending = (idx - nextAvail) & 0xFFFF;
        int known = (shadowAvail - nextAvail) & 0xFFFF;
        if (pending > size || pending < known) {
            int back = (shadowAvail - idx) & 0xFFFF;
            if (back != 0 && back <= size) {
                throw new VirtqueueException("driver moved avail idx back from %d to %d".formatted(shadowAvail, idx));
            }
            throw new VirtqueueException("driver advanced avail idx from %d to %d, more than the queue size %d"
                    .formatted(nextAvail, idx, size));
        }
        shadowAvail = idx;
        VarHandle.acquireFence();
        return pending;
    }

    private DescriptorChain readChain(int head) throws VirtqueueException {
        List<GuestBuffer> readable = new ArrayList<>(4);
        List<GuestBuffer> writable = new ArrayList<>(4);
        long readBytes = 0;
        long writeBytes = 0;
        boolean sawWritable = false;
        MemorySegment table = desc;
        int entries = size;
        long indirectGpa = -1; // the indirect table being walked, -1 while in the descriptor table
        int index = head;
        int visited = 0;
        while (true) {
            if (++visited > entries) {
                throw new VirtqueueException(
                        indirectGpa == -1
                                ? "chain from head %d is longer than the queue size %d (a loop?)".formatted(head, size)
                                : "chain from head %d: indirect table at 0x%x chains more than its %d entries (a loop?)"
                                        .formatted(head, indirectGpa, entries));
            }
            // One read of each field: the guest may rewrite the descriptor under us.
            long off = (long) DESCRIPTOR_SIZE * index;
            long addr = table.get(LE_LONG, off);
            long len = Integer.toUnsignedLong(table.get(LE_INT, off + 8));
            int flags = Short.toUnsignedInt(table.get(LE_SHORT, off + 12));
            int next = Short.toUnsignedInt(table.get(LE_SHORT, off + 14));

            if ((flags & VIRTQ_DESC_F_INDIRECT) != 0) {
                // The location text is built only on failure: Linux sends every virtio-blk request indirect, and
                // formatting it per descriptor cost a fifth of the notify thread (docs/perf.md, virtio-blk).
                if (indirectGpa != -1) throw at(head, indirectGpa, index, "INDIRECT inside an indirect table");
                if (!indirect) throw at(head, indirectGpa, index, "INDIRECT without VIRTIO_F_INDIRECT_DESC");
                if ((flags & VIRTQ_DESC_F_NEXT) != 0) throw at(head, indirectGpa, index, "INDIRECT together with NEXT");
                if (len == 0 || len % DESCRIPTOR_SIZE != 0) {
                    throw at(
                            head,
                            indirectGpa,
                            index,
                            "indirect table length %d is not a non-zero multiple of 16".formatted(len));
                }
                if (len / DESCRIPTOR_SIZE > MAX_INDIRECT_DESCRIPTORS) {
                    throw at(
                            head,
                            indirectGpa,
                            index,
                            "indirect table of %d entries, more than %d"
                                    .formatted(len / DESCRIPTOR_SIZE, MAX_INDIRECT_DESCRIPTORS));
                }
                if (!memory.contains(addr, len)) {
                    throw at(
                            head,
                            indirectGpa,
                            index,
                            "indirect table 0x%x+0x%x is outside guest RAM [0x%x, 0x%x)"
                                    .formatted(addr, len, memory.base(), memory.end()));
                }
                // WRITE on the descriptor that refers to the table is ignored (§2.7.5.3.2).
                table = memory.slice(addr, len);
                entries = (int) (len / DESCRIPTOR_SIZE);
                indirectGpa = addr;
                index = 0;
                visited = 0;
                continue;
            }

            boolean isWritable = (flags & VIRTQ_DESC_F_WRITE) != 0;
            if (isWritable) {
                sawWritable = true;
            } else if (sawWritable) {
                throw at(head, indirectGpa, index, "device-readable descriptor after a device-writable one");
            }
            if (len != 0) {
                if (!memory.contains(addr, len)) {
                    throw at(
                            head,
                            indirectGpa,
                            index,
                            "buffer 0x%x+0x%x is outside guest RAM [0x%x, 0x%x)"
                                    .formatted(addr, len, memory.base(), memory.end()));
                }
                if (readBytes + writeBytes + len > MAX_CHAIN_BYTES) {
                    throw new VirtqueueException(
                            "chain from head %d is longer than 2^32 bytes in total".formatted(head));
                }
                if (isWritable) {
                    addBuffers(writable, addr, len);
                    writeBytes += len;
                } else {
                    addBuffers(readable, addr, len);
                    readBytes += len;
                }
            }
            if ((flags & VIRTQ_DESC_F_NEXT) == 0) break;
            if (next >= entries) {
                throw at(head, indirectGpa, index, "next %d is out of range (%d entries)".formatted(next, entries));
            }
            index = next;
        }
        return new DescriptorChain(this, generation, memory, head, readable, writable, readBytes, writeBytes);
    }

    /** A malformed-chain error naming the descriptor; the text is built only here, on failure. */
    private static VirtqueueException at(int head, long indirectGpa, int index, String what) {
        return new VirtqueueException(where(head, indirectGpa, index) + ": " + what);
    }

    private static String where(int head, long indirectGpa, int index) {
        return indirectGpa == -1
                ? "chain from head %d, descriptor %d".formatted(head, index)
                : "chain from head %d, indirect table at 0x%x, entry %d".formatted(head, indirectGpa, index);
    }

    private static void addBuffers(List<GuestBuffer> to, long addr, long len) {
        if (len <= Integer.MAX_VALUE) {
            to.add(new GuestBuffer(addr, (int) len));
            return;
        }
        for (long done = 0; done < len; done += MAX_BUFFER_PIECE) {
            to.add(new GuestBuffer(addr + done, (int) Math.min(MAX_BUFFER_PIECE, len - done)));
        }
    }

    /**
     * Returns a chain to the driver: writes the used element (head, {@code bytesWritten}), then publishes the
     * used idx with release ordering. A chain popped before a {@link #reset} is dropped.
     *
     * @param bytesWritten bytes the device wrote from the start of the writable space, at most
     *                     {@link DescriptorChain#writableLength()}
     * @throws IllegalArgumentException the chain belongs to another queue, or {@code bytesWritten} is out of range
     * @throws IllegalStateException    the chain was already returned
     */
    public void pushUsed(DescriptorChain chain, int bytesWritten) throws VirtqueueException {
        Objects.requireNonNull(chain, "chain");
        if (chain.owner() != this) throw new IllegalArgumentException("the chain was popped from another queue");
        if (chain.generation() != generation) {
            chain.markReturned();
            return;
        }
        if (chain.isReturned()) {
            throw new IllegalStateException("descriptor chain " + chain.headIndex() + " was already returned");
        }
        if (bytesWritten < 0 || bytesWritten > chain.writableLength()) {
            throw new IllegalArgumentException(
                    "%d bytes written into a chain with %d writable".formatted(bytesWritten, chain.writableLength()));
        }
        chain.markReturned();
        inFlight--;
        long elem = 4 + 8L * (usedIdx & (size - 1));
        used.set(LE_INT, elem, chain.headIndex());
        used.set(LE_INT, elem + 4, bytesWritten);
        VarHandle.releaseFence();
        usedIdx = (usedIdx + 1) & 0xFFFF;
        used.set(LE_SHORT, 2, (short) usedIdx);
        pushedSinceCheck++;
    }

    /**
     * After one or more {@link #pushUsed}: whether the driver wants a used buffer notification now. Without
     * EVENT_IDX: unless the driver set VIRTQ_AVAIL_F_NO_INTERRUPT (§2.7.7; only that bit is looked at). With
     * EVENT_IDX: when one of the used entries published since the last call sits at index {@code used_event}
     * (vring_need_event, §2.7.7 and §2.7.10); the lower bit of the flags is ignored. Resets the "since last
     * interrupt" state; false when nothing was pushed since the last call.
     */
    public boolean needsInterrupt() {
        if (!enabled || pushedSinceCheck == 0) return false;
        long pushed = pushedSinceCheck;
        pushedSinceCheck = 0;
        int old = signalledUsed;
        signalledUsed = usedIdx;
        // Our used idx store must be visible before we read the driver's suppression fields, or we might read
        // a stale used_event/flags while the driver reads a stale used idx, and both go to sleep.
        VarHandle.fullFence();
        if (!eventIdx) {
            return (avail.get(LE_SHORT, 0) & VIRTQ_AVAIL_F_NO_INTERRUPT) == 0;
        }
        int usedEvent = Short.toUnsignedInt(avail.get(LE_SHORT, usedEventOffset()));
        // 2^16 or more entries since the last check: the 16-bit window cannot tell, so notify.
        return pushed > 0xFFFF || needEvent(usedEvent, usedIdx, old);
    }

    /**
     * vring_need_event: whether {@code eventIdx} lies in [old, new) of the 16-bit ring indices, i.e. the entry
     * the other side asked to hear about was published by moving the index from {@code oldIdx} to
     * {@code newIdx}.
     */
    static boolean needEvent(int eventIdx, int newIdx, int oldIdx) {
        return ((newIdx - eventIdx - 1) & 0xFFFF) < ((newIdx - oldIdx) & 0xFFFF);
    }

    /**
     * Asks the driver for available buffer notifications again: with EVENT_IDX publishes {@code avail_event} =
     * the next avail index the device will read (§2.7.10), without it clears VIRTQ_USED_F_NO_NOTIFY. Then, after
     * a full fence, re-reads avail idx: returns true if chains are available (they arrived while notifications
     * were off, and the driver may not notify for them), so the caller drains again.
     *
     * @throws VirtqueueException avail idx is malformed; the queue is broken from then on
     */
    public boolean enableNotifications() throws VirtqueueException {
        if (!enabled) return false;
        checkNotBroken();
        notifications = true;
        if (eventIdx) {
            used.set(LE_SHORT, availEventOffset(), (short) nextAvail);
        } else {
            used.set(LE_SHORT, 0, (short) 0);
        }
        VarHandle.fullFence();
        try {
            return refreshAvailIdx() != 0;
        } catch (VirtqueueException e) {
            broken = e.getMessage();
            throw e;
        }
    }

    /**
     * Tells the driver that available buffer notifications are not needed: without EVENT_IDX sets
     * VIRTQ_USED_F_NO_NOTIFY; with EVENT_IDX (where the used flags must stay 0) stops moving
     * {@code avail_event} along in {@link #pop}, so the driver notifies at most once more.
     */
    public void disableNotifications() {
        if (!enabled) return;
        notifications = false;
        if (!eventIdx) used.set(LE_SHORT, 0, (short) VIRTQ_USED_F_NO_NOTIFY);
    }

    /** Back to the reset state: size = maxSize, addresses 0, disabled, indices 0, not broken. */
    public void reset() {
        size = maxSize;
        descGpa = 0;
        availGpa = 0;
        usedGpa = 0;
        enabled = false;
        eventIdx = false;
        indirect = false;
        desc = null;
        avail = null;
        used = null;
        restartProgress();
        generation++;
    }

    private void checkNotBroken() throws VirtqueueException {
        if (broken != null) throw new VirtqueueException("virtqueue is broken: " + broken);
    }

    private long usedEventOffset() {
        return 4 + 2L * size;
    }

    private long availEventOffset() {
        return 4 + 8L * size;
    }

    @Override
    public String toString() {
        return "SplitQueue[size=%d/%d, desc=0x%x, avail=0x%x, used=0x%x, %s, nextAvail=%d, used=%d, inFlight=%d]"
                .formatted(
                        size,
                        maxSize,
                        descGpa,
                        availGpa,
                        usedGpa,
                        enabled ? (broken != null ? "broken" : "enabled") : "disabled",
                        nextAvail,
                        usedIdx,
                        inFlight);
    }
}
