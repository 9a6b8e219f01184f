package dev.jvmm.core.virtio.blk;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Where a virtual disk's bytes live: a host file or block device ({@link FileBackend}), or anything else a test
 * or a future format provides. Offsets and lengths are in bytes; the device checks every request against
 * {@link #size} before it calls here, so a backend sees only in-range requests (ranges whole 512-byte sectors
 * from a 512-byte boundary).
 *
 * <p>Threads: the device calls a backend from several I/O threads at once, with overlapping requests if the
 * driver sends them (a driver that needs ordering waits for completions itself). Every method must be safe for
 * that. {@link #close} comes after the last call has returned.
 *
 * <p>Failures are {@link IOException}s (vmm-kvm's {@code ErrnoException} is one); the device turns them into
 * VIRTIO_BLK_S_IOERR for that request and goes on.
 */
public interface BlockBackend extends AutoCloseable {
    /** The disk's id, for GET_ID (the device sends its first 20 ASCII bytes) and log messages. */
    String id();

    /** Size in bytes, fixed for the backend's life; the device exposes {@code size / 512} sectors. */
    long size();

    /** Writes are refused (and the device offers VIRTIO_BLK_F_RO). */
    boolean readOnly();

    /**
     * Fills {@code dst}, one segment after the other, with the bytes from {@code offset} on. Bytes past the end
     * of the underlying storage (a file that shrank) read as zeroes.
     */
    void read(List<MemorySegment> dst, long offset) throws IOException;

    /**
     * Fills {@code dst} like {@link #read}, but only if that needs no waiting for storage (the host page cache holds
     * it all); returns false, having maybe filled part of it, when it would, and the caller then uses {@link #read}.
     * Lets the device serve cached reads on the thread that saw the request, without a hand-off to its I/O pool.
     */
    default boolean tryReadCached(List<MemorySegment> dst, long offset) throws IOException {
        return false;
    }

    /** Writes all of {@code src}, one segment after the other, at {@code offset}. */
    void write(List<MemorySegment> src, long offset) throws IOException;

    /**
     * Makes every write that completed before this call durable: on stable storage, as fdatasync(2) promises.
     * A read-only backend does nothing.
     */
    void flush() throws IOException;

    /** Whether {@link #discard} can deallocate; the device offers VIRTIO_BLK_F_DISCARD only then. */
    boolean supportsDiscard();

    /**
     * The range's contents are no longer needed (what reads return afterwards is undefined; a file backend
     * punches a hole, so they read zeroes). Doing nothing is a valid discard.
     */
    void discard(long offset, long length) throws IOException;

    /** Whether {@link #writeZeroes} works; the device offers VIRTIO_BLK_F_WRITE_ZEROES only then. */
    boolean supportsWriteZeroes();

    /**
     * Whether a {@link #writeZeroes} with {@code mayUnmap} can deallocate (the device's
     * {@code write_zeroes_may_unmap}). By default: when discard works.
     */
    default boolean writeZeroesMayUnmap() {
        return supportsDiscard();
    }

    /**
     * Makes the range read as zeroes. With {@code mayUnmap} the backend may deallocate it instead of writing
     * zeroes (a hole), provided it reads as zeroes afterwards.
     */
    void writeZeroes(long offset, long length, boolean mayUnmap) throws IOException;

    /** Releases the storage (no implicit flush: call {@link #flush} first if it matters). */
    @Override
    void close() throws IOException;
}
