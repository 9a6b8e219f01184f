package dev.jvmm.core.virtio.queue;

/**
 * One guest buffer of a chain: {@code length} bytes of guest-physical memory from {@code address}. The buffers
 * of a {@link DescriptorChain} were checked to lie inside guest RAM when the chain was popped, and are never
 * empty.
 */
public record GuestBuffer(long address, int length) {
    public GuestBuffer {
        if (length < 0) throw new IllegalArgumentException("negative buffer length " + length);
    }

    /** One past the last guest-physical address of the buffer. */
    public long end() {
        return address + length;
    }
}
