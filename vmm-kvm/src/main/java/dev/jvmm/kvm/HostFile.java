package dev.jvmm.kvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * A regular file or block device opened for positioned I/O: the host side of a virtual disk. Reads and writes go
 * straight between the file and caller-supplied native memory (guest RAM segments), never through a Java heap
 * copy.
 *
 * <h2>Threads</h2>
 * Every method may be called from several threads at once: positioned I/O has no shared file offset, and the
 * iovec array of {@link #preadv}/{@link #pwritev} is one buffer per thread. {@link #close} must come after the last
 * I/O call has returned (as for every {@link Fd}: a closed fd number may name another file by then).
 *
 * <h2>Memory</h2>
 * Segments must be native (guest RAM, or an arena's). {@link #pread} and {@link #pwrite} pass the segment to the
 * downcall, which keeps its arena alive for the call; {@link #preadv} and {@link #pwritev} hand the kernel raw
 * addresses in an iovec array, so their segments' arenas must stay open until the call returns (guest RAM
 * does: the machine unmaps it only after every device thread has stopped).
 *
 * <h2>Locking</h2>
 * {@link #tryLock} and {@link #tryLockShared} take a {@code flock(2)} lock, which belongs to this open file
 * description and goes away with {@link #close} (or the process). QEMU locks images with OFD byte-range locks
 * ({@code F_OFD_SETLK} on bytes 100+), which do not see flock locks and vice versa: the lock keeps two jvmm
 * processes (or a jvmm and a flock-aware tool) from writing one image, not a jvmm and a QEMU. Both are advisory.
 * On NFS, Linux emulates flock with whole-file POSIX locks.
 */
public final class HostFile extends Fd {
    /** {@link #fallocate} mode bit: do not change the file size. */
    public static final int FALLOC_FL_KEEP_SIZE = Libc.FALLOC_FL_KEEP_SIZE;
    /** {@link #fallocate} mode bit: deallocate the range (reads return zeroes); needs {@link #FALLOC_FL_KEEP_SIZE}. */
    public static final int FALLOC_FL_PUNCH_HOLE = Libc.FALLOC_FL_PUNCH_HOLE;
    /** {@link #fallocate} mode bit: make the range read as zeroes, keeping it allocated. */
    public static final int FALLOC_FL_ZERO_RANGE = Libc.FALLOC_FL_ZERO_RANGE;
    /** The most segments one preadv/pwritev system call takes; longer lists are split over several calls. */
    public static final int IOV_MAX = Libc.IOV_MAX;

    /** asm-generic errno-base.h; {@link Errno} has no name for it. */
    static final int EISDIR = 21;

    private static final int IOVEC_SIZE = 16; // struct iovec { void *iov_base; size_t iov_len; } on 64-bit arches
    /** One iovec array per thread: any number of threads do I/O on a file at once, each one call at a time. */
    private static final ThreadLocal<MemorySegment> IOVECS =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate((long) IOVEC_SIZE * IOV_MAX, 8));

    private static final int STAT_BYTES = statSize(HostArch.current());
    private static final int ST_MODE = statModeOffset(HostArch.current());
    private static final int ST_SIZE = statSizeOffset(HostArch.current());

    private final String path;
    private final boolean readOnly;
    private final boolean blockDevice;

    private HostFile(int fd, String path, boolean readOnly, boolean blockDevice) {
        super(fd, "file " + path);
        this.path = path;
        this.readOnly = readOnly;
        this.blockDevice = blockDevice;
    }

    // struct stat: x86_64 has its own layout (arch/x86/include/uapi/asm/stat.h: st_nlink is 64-bit and comes
    // before st_mode, 144 bytes); arm64 uses asm-generic/stat.h (st_mode right after st_ino, 128 bytes). st_size
    // happens to sit at 48 in both. HostFileTest checks these against both C compilers.
    static int statSize(HostArch arch) {
        return switch (arch) {
            case X86_64 -> 144;
            case AARCH64 -> 128;
            case OTHER -> 144; // not used: open() refuses to run there
        };
    }

    static int statModeOffset(HostArch arch) {
        return arch == HostArch.X86_64 ? 24 : 16;
    }

    static int statSizeOffset(HostArch arch) {
        return 48;
    }

    /**
     * Opens {@code path} with {@code O_CLOEXEC} and {@code O_RDONLY} or {@code O_RDWR}; never creates it.
     *
     * @throws ErrnoException           the kernel refused (no such file, permission denied ...)
     * @throws IllegalArgumentException {@code path} is a directory, or neither a regular file nor a block device
     *                                  (a character device, FIFO or socket is no disk; note that opening a FIFO
     *                                  blocks until it has a writer, before this check can run)
     */
    public static HostFile open(Path path, boolean readOnly) throws ErrnoException {
        Objects.requireNonNull(path, "path");
        if (HostArch.current() == HostArch.OTHER) {
            throw new UnsupportedOperationException(
                    "struct stat layout unknown on " + HostArch.current().uname());
        }
        String p = path.toString();
        int fd;
        try {
            fd = Libc.open(p, (readOnly ? Libc.O_RDONLY : Libc.O_RDWR) | Libc.O_CLOEXEC);
        } catch (ErrnoException e) {
            if (e.is(EISDIR)) throw new IllegalArgumentException(p + " is a directory, not a disk image");
            throw e;
        }
        int type;
        try {
            type = fstatMode(fd) & Libc.S_IFMT;
        } catch (ErrnoException | RuntimeException e) {
            closeQuietly(fd, e);
            throw e;
        }
        if (type != Libc.S_IFREG && type != Libc.S_IFBLK) {
            IllegalArgumentException e = new IllegalArgumentException(
                    type == Libc.S_IFDIR
                            ? p + " is a directory, not a disk image"
                            : p + " is neither a regular file nor a block device");
            closeQuietly(fd, e);
            throw e;
        }
        return new HostFile(fd, p, readOnly, type == Libc.S_IFBLK);
    }

    private static void closeQuietly(int fd, Exception cause) {
        try {
            Libc.close(fd);
        } catch (ErrnoException e) {
            cause.addSuppressed(e);
        }
    }

    private static int fstatMode(int fd) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(STAT_BYTES, 8);
            Libc.fstat(fd, st);
            return st.get(ValueLayout.JAVA_INT, ST_MODE);
        }
    }

    /** The path it was opened with. */
    public String path() {
        return path;
    }

    /** Opened {@code O_RDONLY}. */
    public boolean isReadOnly() {
        return readOnly;
    }

    /** A block device rather than a regular file. */
    public boolean isBlockDevice() {
        return blockDevice;
    }

    /** The size in bytes now: {@code st_size} of a regular file, {@code BLKGETSIZE64} of a block device. */
    public long size() throws ErrnoException {
        int fd = fd();
        try (Arena arena = Arena.ofConfined()) {
            if (blockDevice) {
                MemorySegment size = arena.allocate(ValueLayout.JAVA_LONG);
                Libc.ioctl(fd, Libc.BLKGETSIZE64, size, "BLKGETSIZE64 " + path);
                return size.get(ValueLayout.JAVA_LONG, 0);
            }
            MemorySegment st = arena.allocate(STAT_BYTES, 8);
            Libc.fstat(fd, st);
            return st.get(ValueLayout.JAVA_LONG, ST_SIZE);
        }
    }

    /**
     * Reads {@code dst.byteSize()} bytes at {@code offset} into {@code dst}, looping over short reads. Returns the
     * bytes read: all of them, or fewer when the file ends first (the rest of {@code dst} is left as it was).
     */
    public long pread(MemorySegment dst, long offset) throws ErrnoException {
        return positioned(dst, offset, false);
    }

    /** Writes all of {@code src} at {@code offset}, looping over short writes. */
    public void pwrite(MemorySegment src, long offset) throws ErrnoException {
        positioned(src, offset, true);
    }

    /** pread(2) or pwrite(2) until all of {@code buffer} is done; a read stops early at the end of the file. */
    private long positioned(MemorySegment buffer, long offset, boolean write) throws ErrnoException {
        checkIo(buffer, offset, !write);
        int fd = fd();
        long done = 0;
        long want = buffer.byteSize();
        while (done < want) {
            MemorySegment rest = buffer.asSlice(done);
            long r = write ? Libc.pwrite(fd, rest, offset + done) : Libc.pread(fd, rest, offset + done);
            if (r == 0) {
                if (write) throw new ErrnoException("pwrite " + path + " wrote nothing", Errno.EIO);
                break; // end of file
            }
            done += r;
        }
        return done;
    }

    /**
     * Reads into {@code dst}, one segment after the other, from {@code offset} on: one preadv(2) for up to
     * {@value #IOV_MAX} segments, more calls only after a short read or for longer lists. Returns the bytes read:
     * their total, or fewer when the file ends first.
     */
    public long preadv(List<MemorySegment> dst, long offset) throws ErrnoException {
        return vectored(dst, offset, false);
    }

    /**
     * Reads into {@code dst} only if the page cache holds all of it: one preadv2(2) with RWF_NOWAIT. Returns the
     * bytes read (possibly fewer than asked: part cached, or the end of the file), or -1 when nothing could be read
     * without waiting for I/O, the file system does not support RWF_NOWAIT, or {@code dst} has more than
     * {@value #IOV_MAX} segments. The caller then reads with {@link #preadv}, which may wait.
     */
    public long preadCached(List<MemorySegment> dst, long offset) throws ErrnoException {
        if (dst.size() > IOV_MAX) return -1;
        long total = 0;
        for (MemorySegment s : dst) {
            checkSegment(s, true);
            total += s.byteSize();
        }
        checkRange(offset, total);
        MemorySegment iov = IOVECS.get();
        int count = 0;
        for (MemorySegment s : dst) {
            if (s.byteSize() == 0) continue;
            iov.set(ValueLayout.JAVA_LONG, (long) IOVEC_SIZE * count, s.address());
            iov.set(ValueLayout.JAVA_LONG, (long) IOVEC_SIZE * count + 8, s.byteSize());
            count++;
        }
        long r = Libc.preadv2NoWait(fd(), iov, count, offset);
        return r < 0 ? -1 : r;
    }

    /** Writes all of {@code src}, one segment after the other, from {@code offset} on (see {@link #preadv}). */
    public void pwritev(List<MemorySegment> src, long offset) throws ErrnoException {
        vectored(src, offset, true);
    }

    private long vectored(List<MemorySegment> segments, long offset, boolean write) throws ErrnoException {
        long total = 0;
        for (MemorySegment s : segments) {
            checkSegment(s, !write);
            total += s.byteSize();
        }
        checkRange(offset, total);
        int fd = fd();
        MemorySegment iov = IOVECS.get();
        int next = 0; // first segment not yet done
        long skip = 0; // bytes of segments[next] already done
        long done = 0;
        while (done < total) {
            int count = 0;
            long want = 0;
            for (int i = next; i < segments.size() && count < IOV_MAX; i++) {
                MemorySegment s = segments.get(i);
                long from = i == next ? skip : 0;
                long len = s.byteSize() - from;
                if (len == 0) continue;
                iov.set(ValueLayout.JAVA_LONG, (long) IOVEC_SIZE * count, s.address() + from);
                iov.set(ValueLayout.JAVA_LONG, (long) IOVEC_SIZE * count + 8, len);
                count++;
                want += len;
            }
            long r = Libc.preadvPwritev(fd, iov, count, offset + done, write);
            if (r == 0) {
                if (write) throw new ErrnoException("pwritev " + path + " wrote nothing", Errno.EIO);
                break; // end of file
            }
            done += r;
            // Advance (next, skip) by r bytes.
            long left = r + skip;
            while (next < segments.size() && left >= segments.get(next).byteSize()) {
                left -= segments.get(next).byteSize();
                next++;
            }
            skip = left;
        }
        return done;
    }

    /** fdatasync(2): the data written so far, and the metadata needed to read it back, are on stable storage. */
    public void fdatasync() throws ErrnoException {
        Libc.fdatasync(fd());
    }

    /**
     * fallocate(2) with {@code mode} (a combination of the {@code FALLOC_FL_*} constants). A file system or device
     * that does not implement the mode fails with {@link Errno#EOPNOTSUPP}, as the kernel says it.
     */
    public void fallocate(int mode, long offset, long length) throws ErrnoException {
        checkRange(offset, length);
        Libc.fallocate(fd(), mode, offset, length);
    }

    /**
     * Takes an exclusive {@code flock} on the file without waiting; false when another open file description
     * (this process's or another's) holds a lock on it. Calling it again on a file that already holds the
     * exclusive lock returns true. See the class comment for what it does not exclude.
     */
    public boolean tryLock() throws ErrnoException {
        return Libc.flock(fd(), Libc.LOCK_EX | Libc.LOCK_NB);
    }

    /** Takes a shared {@code flock} without waiting; false when another open file description holds it exclusively. */
    public boolean tryLockShared() throws ErrnoException {
        return Libc.flock(fd(), Libc.LOCK_SH | Libc.LOCK_NB);
    }

    /** Releases this file's {@code flock}, if it holds one. */
    public void unlock() throws ErrnoException {
        Libc.flock(fd(), Libc.LOCK_UN);
    }

    private void checkIo(MemorySegment s, long offset, boolean intoMemory) {
        checkSegment(s, intoMemory);
        checkRange(offset, s.byteSize());
    }

    private static void checkSegment(MemorySegment s, boolean intoMemory) {
        Objects.requireNonNull(s, "segment");
        if (!s.isNative()) throw new IllegalArgumentException("file I/O needs native memory, not a heap segment");
        if (intoMemory && s.isReadOnly()) throw new IllegalArgumentException("cannot read into a read-only segment");
    }

    private static void checkRange(long offset, long length) {
        if (offset < 0 || length < 0 || offset + length < 0) {
            throw new IllegalArgumentException("file range %d+%d out of range".formatted(offset, length));
        }
    }

    @Override
    public String toString() {
        return "HostFile[" + path + (readOnly ? ", read-only" : "") + (blockDevice ? ", block device" : "")
                + (isClosed() ? ", closed]" : "]");
    }
}
