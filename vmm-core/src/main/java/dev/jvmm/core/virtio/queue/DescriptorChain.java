package dev.jvmm.core.virtio.queue;

import dev.jvmm.core.memory.GuestMemory;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * An available descriptor chain popped from a {@link SplitQueue}: device-readable buffers first, then
 * device-writable ones (§2.7.4.2). Every buffer lies inside guest RAM and is non-empty; descriptors of length 0
 * contribute no buffer. A descriptor longer than {@link Integer#MAX_VALUE} bytes appears as consecutive buffers
 * of at most {@value SplitQueue#MAX_BUFFER_PIECE} bytes each.
 *
 * <p>The chain belongs to the device until it is returned with {@link SplitQueue#pushUsed}; after that its
 * buffers are the driver's again and {@link #read}, {@link #write} and the segment views refuse to run. Like its
 * queue, a chain is used by one thread at a time.
 *
 * <p>The guest can change the memory the buffers point at at any time; the contents read are a snapshot of
 * whatever was there, the addresses and lengths are fixed when the chain is popped.
 */
public final class DescriptorChain {
    private final SplitQueue owner;
    private final long generation;
    private final GuestMemory memory;
    private final int headIndex;
    private final List<GuestBuffer> readable;
    private final List<GuestBuffer> writable;
    private final long readableLength;
    private final long writableLength;
    private boolean returned;

    DescriptorChain(
            SplitQueue owner,
            long generation,
            GuestMemory memory,
            int headIndex,
            List<GuestBuffer> readable,
            List<GuestBuffer> writable,
            long readableLength,
            long writableLength) {
        this.owner = owner;
        this.generation = generation;
        this.memory = memory;
        this.headIndex = headIndex;
        this.readable = Collections.unmodifiableList(readable);
        this.writable = Collections.unmodifiableList(writable);
        this.readableLength = readableLength;
        this.writableLength = writableLength;
    }

    /** The index of the chain's head in the descriptor table: the id the used ring returns. */
    public int headIndex() {
        return headIndex;
    }

    /** The device-readable buffers, in chain order. */
    public List<GuestBuffer> readable() {
        return readable;
    }

    /** The device-writable buffers, in chain order. */
    public List<GuestBuffer> writable() {
        return writable;
    }

    /** Total bytes of the device-readable buffers. */
    public long readableLength() {
        return readableLength;
    }

    /** Total bytes of the device-writable buffers. */
    public long writableLength() {
        return writableLength;
    }

    /**
     * Copies up to {@code len} bytes from the readable buffers, starting at byte offset {@code from} of the
     * readable space, into {@code dst[off..]}; returns the bytes copied (fewer at the end of the readable space,
     * 0 from there on).
     */
    public int read(long from, byte[] dst, int off, int len) {
        Objects.checkFromIndexSize(off, len, dst.length);
        if (from < 0) throw new IllegalArgumentException("negative offset " + from);
        checkOwned();
        return copy(readable, from, dst, off, len, false);
    }

    /**
     * Copies {@code src[off..off+len)} into the writable buffers, starting at byte offset {@code at} of the
     * writable space; returns the bytes written (stops at the end of the writable space).
     */
    public int write(long at, byte[] src, int off, int len) {
        Objects.checkFromIndexSize(off, len, src.length);
        if (at < 0) throw new IllegalArgumentException("negative offset " + at);
        checkOwned();
        return copy(writable, at, src, off, len, true);
    }

    /** Views of the readable buffers in guest RAM, for zero-copy I/O. Do not keep them past {@code pushUsed}. */
    public List<MemorySegment> readableSegments() {
        checkOwned();
        return segments(readable);
    }

    /** Views of the writable buffers in guest RAM, for zero-copy I/O. Do not keep them past {@code pushUsed}. */
    public List<MemorySegment> writableSegments() {
        checkOwned();
        return segments(writable);
    }

    private List<MemorySegment> segments(List<GuestBuffer> buffers) {
        List<MemorySegment> views = new ArrayList<>(buffers.size());
        for (GuestBuffer b : buffers) views.add(memory.slice(b.address(), b.length()));
        return Collections.unmodifiableList(views);
    }

    private int copy(List<GuestBuffer> buffers, long at, byte[] array, int off, int len, boolean toGuest) {
        int done = 0;
        long skip = at;
        for (GuestBuffer b : buffers) {
            if (done == len) break;
            if (skip >= b.length()) {
                skip -= b.length();
                continue;
            }
            int n = (int) Math.min(b.length() - skip, len - done);
            MemorySegment guest = memory.slice(b.address() + skip, n);
            if (toGuest) {
                MemorySegment.copy(array, off + done, guest, ValueLayout.JAVA_BYTE, 0, n);
            } else {
                MemorySegment.copy(guest, ValueLayout.JAVA_BYTE, 0, array, off + done, n);
            }
            done += n;
            skip = 0;
        }
        return done;
    }

    private void checkOwned() {
        if (returned)
            throw new IllegalStateException("descriptor chain " + headIndex + " was already returned to the driver");
    }

    SplitQueue owner() {
        return owner;
    }

    long generation() {
        return generation;
    }

    boolean isReturned() {
        return returned;
    }

    void markReturned() {
        returned = true;
    }

    @Override
    public String toString() {
        return "DescriptorChain[head=%d, readable=%d bytes in %d, writable=%d bytes in %d]"
                .formatted(headIndex, readableLength, readable.size(), writableLength, writable.size());
    }
}
