package dev.jvmm.kvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** Host memory mappings: guest RAM and the vCPU's {@code kvm_run} page. */
public final class Mmap {
    private Mmap() {}

    /**
     * Private anonymous memory of {@code size} bytes (page-aligned by the kernel), unmapped when {@code arena}
     * closes. MAP_NORESERVE: guest RAM is committed page by page as the guest touches it, as in QEMU.
     */
    public static MemorySegment anonymous(long size, Arena arena) throws ErrnoException {
        if (size <= 0) throw new IllegalArgumentException("mapping size must be positive: " + size);
        MemorySegment raw = Libc.mmap(
                size,
                Libc.PROT_READ | Libc.PROT_WRITE,
                Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_NORESERVE,
                -1,
                0,
                "mmap anonymous " + size);
        return reinterpret(raw, size, arena);
    }

    /** A shared mapping of {@code size} bytes of {@code fd}, unmapped when {@code arena} closes. */
    static MemorySegment shared(int fd, long size, Arena arena, String op) throws ErrnoException {
        MemorySegment raw = Libc.mmap(size, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, fd, 0, op);
        return reinterpret(raw, size, arena);
    }

    @SuppressWarnings("restricted")
    private static MemorySegment reinterpret(MemorySegment raw, long size, Arena arena) {
        // SAFETY: mmap returned exactly `size` accessible bytes at this address; the cleanup unmaps them when the
        // arena closes, after which no segment derived from it can be used.
        return raw.reinterpret(size, arena, seg -> {
            try {
                Libc.munmap(seg, size);
            } catch (ErrnoException e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
        });
    }
}
