package dev.jvmm.core.virtio.blk;

import dev.jvmm.kvm.Errno;
import dev.jvmm.kvm.ErrnoException;
import dev.jvmm.kvm.HostFile;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * A raw disk image: a regular file or a host block device, through {@link HostFile}. The host page cache is used
 * (no O_DIRECT, QEMU's default {@code cache=writeback}); {@link #flush} is {@code fdatasync}, so what a guest
 * FLUSH covers is on stable storage when the FLUSH completes.
 *
 * <ul>
 *   <li><b>Lock</b>: {@link #open} takes an exclusive {@code flock} for a writable disk and a shared one for a
 *       read-only disk, and fails if another open file description holds a conflicting one: two jvmm never write
 *       one image, and a writer never opens an image another jvmm reads. (flock, not QEMU's OFD locks: see
 *       {@link HostFile}.)</li>
 *   <li><b>Size</b>: taken once at open. A file whose size is not a multiple of 512 shows its whole sectors only
 *       (the tail is never read or written); a file that shrinks afterwards reads as zeroes past its end.</li>
 *   <li><b>Discard</b> is {@code FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE}, offered when a probe at open (a
 *       punch past the end of a regular file, which changes nothing) succeeds; a block device is assumed to
 *       support it (the kernel has it since 4.9; a probe there would destroy data). If the kernel refuses later
 *       (EOPNOTSUPP, or EINVAL for a range not aligned to a block device's logical block) the discard does
 *       nothing, which a discard may.</li>
 *   <li><b>Write zeroes</b> is always available on a writable disk: a hole when the guest allows unmapping and
 *       punching works, else {@code FALLOC_FL_ZERO_RANGE}, else (file systems without it, such as tmpfs, and
 *       unaligned ranges on block devices) writes of zeroes.</li>
 *   <li><b>Flush errors are sticky</b>: once fdatasync failed, the kernel may have dropped the dirty pages it could
 *       not write and a later fdatasync can succeed without them, so every later flush fails too (what QEMU does
 *       after a failed fdatasync).</li>
 * </ul>
 *
 * <p>Thread-safe: positioned I/O only; the fallback state is a few volatile flags.
 */
public final class FileBackend implements BlockBackend {
    /** Bytes written per call when zeroes have to be written out. */
    static final int ZERO_CHUNK = 1 << 20;

    private final HostFile file;
    private final String id;
    private final boolean readOnly;
    private final long size;
    private final boolean discard;
    private volatile boolean punchHole;
    private volatile boolean zeroRange = true;
    private volatile String flushFailure;
    private volatile MemorySegment zeros;

    private FileBackend(HostFile file, String id, boolean readOnly, long size, boolean discard) {
        this.file = file;
        this.id = id;
        this.readOnly = readOnly;
        this.size = size;
        this.discard = discard;
        this.punchHole = discard;
    }

    /** Opens {@code path} with its file name as the id. See {@link #open(Path, boolean, String)}. */
    public static FileBackend open(Path path, boolean readOnly) throws IOException {
        Path name = path.getFileName();
        return open(path, readOnly, name == null ? path.toString() : name.toString());
    }

    /**
     * Opens a raw image or block device and locks it.
     *
     * @throws IOException              it cannot be opened ({@code ErrnoException}: missing, permission ...), or
     *                                  another process has it locked (the message says so)
     * @throws IllegalArgumentException {@code path} is a directory or not a regular file or block device
     */
    public static FileBackend open(Path path, boolean readOnly, String id) throws IOException {
        Objects.requireNonNull(id, "id");
        HostFile f = HostFile.open(path, readOnly);
        try {
            boolean locked = readOnly ? f.tryLockShared() : f.tryLock();
            if (!locked) {
                throw new IOException(path + " is in use: another process holds a" + (readOnly ? "n exclusive" : "")
                        + " lock on it (flock)");
            }
            long size = f.size();
            boolean discard = !readOnly && probePunchHole(f, size);
            return new FileBackend(f, id, readOnly, size, discard);
        } catch (IOException | RuntimeException e) {
            try {
                f.close();
            } catch (ErrnoException c) {
                e.addSuppressed(c);
            }
            throw e;
        }
    }

    /** Punches 4 KiB past the end of a regular file: nothing changes, and the answer says whether holes work. */
    private static boolean probePunchHole(HostFile f, long size) {
        if (f.isBlockDevice()) return true;
        try {
            f.fallocate(HostFile.FALLOC_FL_PUNCH_HOLE | HostFile.FALLOC_FL_KEEP_SIZE, size, 4096);
            return true;
        } catch (ErrnoException e) {
            return false;
        }
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public boolean readOnly() {
        return readOnly;
    }

    /** The file underneath (tests, diagnostics). */
    public HostFile file() {
        return file;
    }

    @Override
    public boolean tryReadCached(List<MemorySegment> dst, long offset) throws IOException {
        long want = 0;
        for (MemorySegment s : dst) want += s.byteSize();
        return file.preadCached(dst, offset) == want; // short (end of file, part cached): read() finishes it
    }

    @Override
    public void read(List<MemorySegment> dst, long offset) throws IOException {
        long got = file.preadv(dst, offset);
        // Past the end of the file (it shrank): zeroes.
        long skip = got;
        for (MemorySegment s : dst) {
            if (skip >= s.byteSize()) {
                skip -= s.byteSize();
                continue;
            }
            s.asSlice(skip).fill((byte) 0);
            skip = 0;
        }
    }

    @Override
    public void write(List<MemorySegment> src, long offset) throws IOException {
        checkWritable();
        file.pwritev(src, offset);
    }

    @Override
    public void flush() throws IOException {
        if (readOnly) return;
        String failed = flushFailure;
        if (failed != null) {
            throw new IOException(
                    file.path() + ": an earlier fdatasync failed (" + failed + "); writes since may not be on disk");
        }
        try {
            file.fdatasync();
        } catch (ErrnoException e) {
            flushFailure = e.getMessage();
            throw e;
        }
    }

    @Override
    public boolean supportsDiscard() {
        return discard;
    }

    @Override
    public void discard(long offset, long length) throws IOException {
        checkWritable();
        if (!punchHole || length == 0) return;
        try {
            file.fallocate(HostFile.FALLOC_FL_PUNCH_HOLE | HostFile.FALLOC_FL_KEEP_SIZE, offset, length);
        } catch (ErrnoException e) {
            if (unsupported(e)) {
                punchHole = false;
            } else if (!e.is(Errno.EINVAL)) {
                throw e;
            }
        }
    }

    @Override
    public boolean supportsWriteZeroes() {
        return !readOnly;
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayUnmap) throws IOException {
        checkWritable();
        if (length == 0) return;
        if (mayUnmap && punchHole) {
            try {
                file.fallocate(HostFile.FALLOC_FL_PUNCH_HOLE | HostFile.FALLOC_FL_KEEP_SIZE, offset, length);
                return;
            } catch (ErrnoException e) {
                if (unsupported(e)) punchHole = false;
                else if (!e.is(Errno.EINVAL)) throw e;
            }
        }
        if (zeroRange) {
            try {
                file.fallocate(HostFile.FALLOC_FL_ZERO_RANGE | HostFile.FALLOC_FL_KEEP_SIZE, offset, length);
                return;
            } catch (ErrnoException e) {
                if (unsupported(e)) zeroRange = false;
                else if (!e.is(Errno.EINVAL)) throw e;
            }
        }
        MemorySegment z = zeroChunk();
        for (long done = 0; done < length; ) {
            long n = Math.min(ZERO_CHUNK, length - done);
            file.pwrite(z.asSlice(0, n), offset + done);
            done += n;
        }
    }

    private MemorySegment zeroChunk() {
        MemorySegment z = zeros;
        if (z == null) {
            // Zeroed at allocation, never written: shared by every I/O thread. Freed with the backend.
            z = Arena.ofAuto().allocate(ZERO_CHUNK, 4096).asReadOnly();
            zeros = z;
        }
        return z;
    }

    private static boolean unsupported(ErrnoException e) {
        return e.is(Errno.EOPNOTSUPP) || e.is(Errno.ENOSYS);
    }

    private void checkWritable() throws IOException {
        if (readOnly) throw new IOException(file.path() + " is read-only");
    }

    /** Whether ZERO_RANGE is still tried (false once the file system refused it). */
    boolean usesZeroRange() {
        return zeroRange;
    }

    @Override
    public void close() throws IOException {
        file.close();
    }

    @Override
    public String toString() {
        return "FileBackend[" + file.path() + ", " + size + " bytes" + (readOnly ? ", read-only" : "")
                + (discard ? ", discard" : "") + "]";
    }
}
