package dev.jvmm.core.memory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Guest RAM: one contiguous region of guest-physical address space [base, base + size) backed by one host
 * mapping. Every access is bounds-checked against the region, with guest-physical addresses treated as
 * unsigned; a guest-controlled address can never reach host memory outside the mapping.
 *
 * <p>The backing segment is owned by whoever created it (the machine maps it with vmm-kvm and closes its arena
 * only after every vCPU and device thread has stopped). This class never closes it.
 */
public final class GuestMemory {
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE_LONG =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final long base;
    private final MemorySegment ram;

    public GuestMemory(long base, MemorySegment ram) {
        if (ram.byteSize() == 0) throw new IllegalArgumentException("guest RAM must not be empty");
        if (Long.compareUnsigned(base + ram.byteSize() - 1, base) < 0) {
            throw new IllegalArgumentException(
                    "guest RAM at 0x%x of 0x%x bytes wraps the address space".formatted(base, ram.byteSize()));
        }
        this.base = base;
        this.ram = ram;
    }

    /** First guest-physical address of RAM. */
    public long base() {
        return base;
    }

    /** Size of RAM in bytes. */
    public long size() {
        return ram.byteSize();
    }

    /** One past the last guest-physical address of RAM (unsigned; may be 0 only if RAM ends at 2^64). */
    public long end() {
        return base + ram.byteSize();
    }

    /** True when [gpa, gpa + length) lies entirely inside RAM. */
    public boolean contains(long gpa, long length) {
        if (length < 0) return false;
        long off = gpa - base;
        return Long.compareUnsigned(gpa, base) >= 0
                && Long.compareUnsigned(off, ram.byteSize()) <= 0
                && Long.compareUnsigned(length, ram.byteSize() - off) <= 0;
    }

    /**
     * A view of [gpa, gpa + length) of guest RAM. The view is as long-lived as the mapping: do not keep it past
     * the machine's life.
     */
    public MemorySegment slice(long gpa, long length) {
        if (!contains(gpa, length)) {
            throw new GuestMemoryException(
                    "guest range 0x%x+0x%x is outside RAM [0x%x, 0x%x)".formatted(gpa, length, base, end()));
        }
        return ram.asSlice(gpa - base, length);
    }

    /** The whole backing mapping (for KVM_SET_USER_MEMORY_REGION). */
    public MemorySegment backing() {
        return ram;
    }

    public void write(long gpa, byte[] data) {
        MemorySegment.copy(MemorySegment.ofArray(data), 0, slice(gpa, data.length), 0, data.length);
    }

    public void write(long gpa, MemorySegment data) {
        MemorySegment.copy(data, 0, slice(gpa, data.byteSize()), 0, data.byteSize());
    }

    public byte[] read(long gpa, int length) {
        return slice(gpa, length).toArray(ValueLayout.JAVA_BYTE);
    }

    public short readShortLE(long gpa) {
        return slice(gpa, 2).get(LE_SHORT, 0);
    }

    public int readIntLE(long gpa) {
        return slice(gpa, 4).get(LE_INT, 0);
    }

    public long readLongLE(long gpa) {
        return slice(gpa, 8).get(LE_LONG, 0);
    }

    public void writeShortLE(long gpa, short v) {
        slice(gpa, 2).set(LE_SHORT, 0, v);
    }

    public void writeIntLE(long gpa, int v) {
        slice(gpa, 4).set(LE_INT, 0, v);
    }

    public void writeLongLE(long gpa, long v) {
        slice(gpa, 8).set(LE_LONG, 0, v);
    }
}
