package dev.jvmm.kvm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The libc calls jvmm makes, linked once into {@code static final} handles and invoked with {@code invokeExact}
 * so the JIT can inline the downcall stubs. This is the only class in jvmm that links native functions.
 *
 * <p>Every call that reports failure through errno is linked with {@code captureCallState("errno")}: the JVM saves
 * errno right after the call, before any Java code can clobber it (Linker javadoc, "captureCallState"). The
 * capture buffer is one small segment per thread. Variadic functions ({@code ioctl}, {@code open}) are linked with
 * {@code firstVariadicArg}, as the Linker requires even when the variadic arguments look like fixed ones.
 *
 * <p>Wrappers return the raw result and throw {@link ErrnoException} on failure, naming the operation.
 */
final class Libc {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final ThreadLocal<MemorySegment> CAPTURE_BUFFER =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CAPTURE));

    // int ioctl(int fd, unsigned long request, ...): the two shapes jvmm needs, an integer or a pointer argument.
    private static final MethodHandle IOCTL_LONG =
            linkErrno("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), 2);
    private static final MethodHandle IOCTL_PTR =
            linkErrno("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), 2);
    // int open(const char *path, int flags, ...  mode_t mode)
    private static final MethodHandle OPEN =
            linkErrno("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), 2);
    private static final MethodHandle CLOSE = linkErrno("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), -1);
    private static final MethodHandle MMAP = linkErrno(
            "mmap", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), -1);
    private static final MethodHandle MUNMAP =
            linkErrno("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG), -1);
    private static final MethodHandle EVENTFD =
            linkErrno("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), -1);
    private static final MethodHandle READ =
            linkErrno("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), -1);
    private static final MethodHandle WRITE =
            linkErrno("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), -1);
    private static final MethodHandle SIGACTION =
            linkErrno("sigaction", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), -1);
    // int epoll_create1(int flags); int epoll_ctl(int epfd, int op, int fd, struct epoll_event *event);
    // int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout)
    private static final MethodHandle EPOLL_CREATE1 =
            linkErrno("epoll_create1", FunctionDescriptor.of(JAVA_INT, JAVA_INT), -1);
    private static final MethodHandle EPOLL_CTL =
            linkErrno("epoll_ctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS), -1);
    private static final MethodHandle EPOLL_WAIT =
            linkErrno("epoll_wait", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), -1);
    // pthread_* return the error number instead of setting errno.
    private static final MethodHandle PTHREAD_SELF = link("pthread_self", FunctionDescriptor.of(JAVA_LONG));
    private static final MethodHandle PTHREAD_KILL =
            link("pthread_kill", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT));
    private static final MethodHandle PTHREAD_SIGMASK =
            link("pthread_sigmask", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle SIGRTMIN = link("__libc_current_sigrtmin", FunctionDescriptor.of(JAVA_INT));

    // Flag values below are the asm-generic ones, shared by x86_64 and arm64 (include/uapi/asm-generic/fcntl.h,
    // mman-common.h, linux/eventfd.h); LibcConstantsTest checks them against the C compiler.
    static final int O_RDWR = 2;
    static final int O_NONBLOCK = 0x800;
    static final int O_CLOEXEC = 0x80000;
    static final int PROT_READ = 1;
    static final int PROT_WRITE = 2;
    static final int MAP_SHARED = 1;
    static final int MAP_PRIVATE = 2;
    static final int MAP_ANONYMOUS = 0x20;
    static final int MAP_NORESERVE = 0x4000;
    static final int EFD_CLOEXEC = O_CLOEXEC;
    static final int EFD_NONBLOCK = O_NONBLOCK;
    // include/uapi/linux/eventpoll.h: the same on every arch (only struct epoll_event's packing differs, see Epoll).
    static final int EPOLL_CLOEXEC = O_CLOEXEC;
    static final int EPOLL_CTL_ADD = 1;
    static final int EPOLL_CTL_DEL = 2;
    static final int EPOLL_CTL_MOD = 3;
    static final int EPOLLIN = 0x001;
    static final int EPOLLPRI = 0x002;
    static final int EPOLLOUT = 0x004;
    static final int EPOLLERR = 0x008;
    static final int EPOLLHUP = 0x010;
    static final int EPOLLRDHUP = 0x2000;
    static final int EPOLLEXCLUSIVE = 1 << 28;
    static final int EPOLLWAKEUP = 1 << 29;
    static final int EPOLLONESHOT = 1 << 30;
    static final int EPOLLET = 1 << 31;
    static final int SIG_BLOCK = 0;
    static final int SIG_UNBLOCK = 1;
    /** glibc's sigset_t: 1024 bits. The kernel's own sigset (KVM_SET_SIGNAL_MASK) is 64 bits. */
    static final int GLIBC_SIGSET_BYTES = 128;

    static final int KERNEL_SIGSET_BYTES = 8;

    private Libc() {}

    @SuppressWarnings("restricted")
    private static MethodHandle linkErrno(String name, FunctionDescriptor fd, int firstVariadic) {
        var addr = LIBC.findOrThrow(name);
        return firstVariadic < 0
                ? LINKER.downcallHandle(addr, fd, Linker.Option.captureCallState("errno"))
                : LINKER.downcallHandle(
                        addr,
                        fd,
                        Linker.Option.firstVariadicArg(firstVariadic),
                        Linker.Option.captureCallState("errno"));
    }

    @SuppressWarnings("restricted")
    private static MethodHandle link(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LIBC.findOrThrow(name), fd);
    }

    private static int errno(MemorySegment capture) {
        return (int) ERRNO.get(capture, 0L);
    }

    /** ioctl with an integer argument; returns the result, or {@code -errno} (JDK CaptureStateUtil's idiom). */
    private static int rawIoctl(int fd, long request, long arg) {
        MemorySegment cap = CAPTURE_BUFFER.get();
        try {
            int r = (int) IOCTL_LONG.invokeExact(cap, fd, request, arg);
            return r < 0 ? -errno(cap) : r;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** ioctl with a pointer argument; returns the result, or {@code -errno}. */
    private static int rawIoctl(int fd, long request, MemorySegment arg) {
        MemorySegment cap = CAPTURE_BUFFER.get();
        try {
            int r = (int) IOCTL_PTR.invokeExact(cap, fd, request, arg);
            return r < 0 ? -errno(cap) : r;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    static int ioctl(int fd, long request, long arg, String op) throws ErrnoException {
        int r = rawIoctl(fd, request, arg);
        if (r < 0) throw new ErrnoException(op, -r);
        return r;
    }

    static int ioctl(int fd, long request, MemorySegment arg, String op) throws ErrnoException {
        int r = rawIoctl(fd, request, arg);
        if (r < 0) throw new ErrnoException(op, -r);
        return r;
    }

    /**
     * ioctl that may be interrupted: returns {@code -errno} instead of throwing for EINTR and EAGAIN, the two
     * results KVM_RUN gives when a kick or a pending signal ends it early.
     */
    static int ioctlInterruptible(int fd, long request, long arg, String op) throws ErrnoException {
        int r = rawIoctl(fd, request, arg);
        if (r < 0 && r != -Errno.EINTR && r != -Errno.EAGAIN) throw new ErrnoException(op, -r);
        return r;
    }

    static int open(String path, int flags) throws ErrnoException {
        MemorySegment cap = CAPTURE_BUFFER.get();
        int r;
        try (Arena arena = Arena.ofConfined()) {
            r = (int) OPEN.invokeExact(cap, arena.allocateFrom(path), flags, 0);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        if (r < 0) throw new ErrnoException("open " + path, errno(cap));
        return r;
    }

    static void close(int fd) throws ErrnoException {
        MemorySegment cap = CAPTURE_BUFFER.get();
        int r;
        try {
            r = (int) CLOSE.invokeExact(cap, fd);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        // EINTR from close(2) on Linux still means the fd is gone: do not retry (close(2), "Dealing with error
        // returns").
        if (r < 0 && errno(cap) != Errno.EINTR) throw new ErrnoException("close", errno(cap));
    }

    /** mmap; returns the zero-length segment mmap gives (callers reinterpret it with a size and a lifetime). */
    static MemorySegment mmap(long length, int prot, int flags, int fd, long offset, String op) throws ErrnoException {
        MemorySegment cap = CAPTURE_BUFFER.get();
        MemorySegment r;
        try {
            r = (MemorySegment) MMAP.invokeExact(cap, MemorySegment.NULL, length, prot, flags, fd, offset);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        if (r.address() == -1L) throw new ErrnoException(op, errno(cap)); // MAP_FAILED
        return r;
    }

    static void munmap(MemorySegment addr, long length) throws ErrnoException {
        MemorySegment cap = CAPTURE_BUFFER.get();
        int r;
        try {
            r = (int) MUNMAP.invokeExact(cap, addr, length);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        if (r < 0) throw new ErrnoException("munmap", errno(cap));
    }

    static int eventfd(int initval, int flags) throws ErrnoException {
        MemorySegment cap = CAPTURE_BUFFER.get();
        int r;
        try {
            r = (int) EVENTFD.invokeExact(cap, initval, flags);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        if (r < 0) throw new ErrnoException("eventfd", errno(cap));
        return r;
    }

    /** read(2); returns -EAGAIN instead of throwing when a non-blocking fd has nothing. */
    static long read(int fd, MemorySegment buf, String op) throws ErrnoException {
        MemorySegment cap = CAPTURE_BUFFER.get();
        long r;
        try {
            r = (long) READ.invokeExact(cap, fd, buf, buf.byteSize());
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        if (r < 0) {
            int e = errno(cap);
            if (e == Errno.EAGAIN) return -e;
            throw new ErrnoException(op, e);
        }
        return r;
    }

    static long write(int fd, MemorySegment buf, String op) throws ErrnoException {
        MemorySegment cap = CAPTURE_BUFFER.get();
        long r;
        try {
            r = (long) WRITE.invokeExact(cap, fd, buf, buf.byteSize());
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        if (r < 0) throw new ErrnoException(op, errno(cap));
        return r;
    }

    static void sigaction(int signal, MemorySegment act, String op) throws ErrnoException {
        MemorySegment cap = CAPTURE_BUFFER.get();
        int r;
        try {
            r = (int) SIGACTION.invokeExact(cap, signal, act, MemorySegment.NULL);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        if (r < 0) throw new ErrnoException(op, errno(cap));
    }

    static int epollCreate1(int flags) throws ErrnoException {
        MemorySegment cap = CAPTURE_BUFFER.get();
        int r;
        try {
            r = (int) EPOLL_CREATE1.invokeExact(cap, flags);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        if (r < 0) throw new ErrnoException("epoll_create1", errno(cap));
        return r;
    }

    /** epoll_ctl(2); {@code event} is NULL for EPOLL_CTL_DEL (allowed since Linux 2.6.9). */
    static void epollCtl(int epfd, int op, int fd, MemorySegment event, String what) throws ErrnoException {
        MemorySegment cap = CAPTURE_BUFFER.get();
        int r;
        try {
            r = (int) EPOLL_CTL.invokeExact(cap, epfd, op, fd, event);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        if (r < 0) throw new ErrnoException(what, errno(cap));
    }

    /**
     * epoll_wait(2); returns the number of ready events, or {@code -EINTR} instead of throwing when a signal handled
     * on this thread ended the wait early (epoll_wait is never restarted after a handler, whatever SA_RESTART says).
     */
    static int epollWait(int epfd, MemorySegment events, int maxEvents, int timeoutMillis) throws ErrnoException {
        MemorySegment cap = CAPTURE_BUFFER.get();
        int r;
        try {
            r = (int) EPOLL_WAIT.invokeExact(cap, epfd, events, maxEvents, timeoutMillis);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        if (r < 0) {
            int e = errno(cap);
            if (e == Errno.EINTR) return -e;
            throw new ErrnoException("epoll_wait", e);
        }
        return r;
    }

    static long pthreadSelf() {
        try {
            return (long) PTHREAD_SELF.invokeExact();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    static void pthreadKill(long thread, int signal) throws ErrnoException {
        int r;
        try {
            r = (int) PTHREAD_KILL.invokeExact(thread, signal);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        if (r != 0) throw new ErrnoException("pthread_kill", r);
    }

    static void pthreadSigmask(int how, MemorySegment set) throws ErrnoException {
        int r;
        try {
            r = (int) PTHREAD_SIGMASK.invokeExact(how, set, MemorySegment.NULL);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        if (r != 0) throw new ErrnoException("pthread_sigmask", r);
    }

    static int sigrtmin() {
        try {
            return (int) SIGRTMIN.invokeExact();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** Address of a libc function, for use as a do-nothing signal handler (see {@link VcpuKicker}). */
    static MemorySegment symbol(String name) {
        return LIBC.findOrThrow(name);
    }

    // --- Files (HostFile: disk images and block devices) --------------------------------------------------------
    // Appended for HostFile. off_t and size_t are 64-bit on both arches jvmm runs on; glibc's pread/pwrite/preadv/
    // pwritev/fallocate are the 64-bit-offset calls there (no *64 variants needed).

    // ssize_t pread(int fd, void *buf, size_t count, off_t offset); ssize_t pwrite(...) likewise
    private static final MethodHandle PREAD =
            linkErrno("pread", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG), -1);
    private static final MethodHandle PWRITE =
            linkErrno("pwrite", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG), -1);
    // ssize_t preadv(int fd, const struct iovec *iov, int iovcnt, off_t offset); pwritev likewise
    private static final MethodHandle PREADV =
            linkErrno("preadv", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG), -1);
    private static final MethodHandle PWRITEV =
            linkErrno("pwritev", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG), -1);
    // ssize_t preadv2(int fd, const struct iovec *iov, int iovcnt, off_t offset, int flags) (glibc 2.26, Linux 4.6)
    private static final MethodHandle PREADV2 = linkErrno(
            "preadv2", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_INT), -1);
    /** preadv2 flag: fail with EAGAIN instead of waiting for I/O, i.e. read only what the page cache holds. */
    static final int RWF_NOWAIT = 0x8;

    private static final MethodHandle FDATASYNC = linkErrno("fdatasync", FunctionDescriptor.of(JAVA_INT, JAVA_INT), -1);
    // int fallocate(int fd, int mode, off_t offset, off_t len)
    private static final MethodHandle FALLOCATE =
            linkErrno("fallocate", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), -1);
    private static final MethodHandle FLOCK =
            linkErrno("flock", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), -1);

    /**
     * int fstat(int fd, struct stat *buf), linked on first use: glibc exports {@code fstat} as a symbol only since
     * 2.33 (before, it was an inline wrapper around {@code __fxstat}), so a host with an older glibc fails
     * {@link #fstat} alone instead of every call in this class.
     */
    private static final class Fstat {
        static final MethodHandle FSTAT = linkErrno("fstat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS), -1);
    }

    // asm-generic fcntl.h, linux/falloc.h, sys/file.h, sys/stat.h, linux/fs.h, limits.h: the same on x86_64 and
    // arm64 (HostFileTest checks them against both C compilers).
    static final int O_RDONLY = 0;
    static final int FALLOC_FL_KEEP_SIZE = 0x01;
    static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    static final int FALLOC_FL_ZERO_RANGE = 0x10;
    static final int LOCK_SH = 1;
    static final int LOCK_EX = 2;
    static final int LOCK_NB = 4;
    static final int LOCK_UN = 8;
    static final int S_IFMT = 0170000;
    static final int S_IFDIR = 0040000;
    static final int S_IFREG = 0100000;
    static final int S_IFBLK = 0060000;
    /** _IOR(0x12, 114, size_t): a block device's size in bytes. */
    static final long BLKGETSIZE64 = 0x80081272L;
    /** The most iovecs one preadv/pwritev takes (UIO_MAXIOV). */
    static final int IOV_MAX = 1024;

    /** pread(2) into {@code buf} (its whole size); retries EINTR. Returns the bytes read, 0 at end of file. */
    static long pread(int fd, MemorySegment buf, long offset) throws ErrnoException {
        MemorySegment cap = CAPTURE_BUFFER.get();
        while (true) {
            long r;
            try {
                r = (long) PREAD.invokeExact(cap, fd, buf, buf.byteSize(), offset);
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
            if (r >= 0) return r;
            if (errno(cap) != Errno.EINTR) throw new ErrnoException("pread", errno(cap));
        }
    }

    /** pwrite(2) of {@code buf} (its whole size); retries EINTR. Returns the bytes written. */
    static long pwrite(int fd, MemorySegment buf, long offset) throws ErrnoException {
        MemorySegment cap = CAPTURE_BUFFER.get();
        while (true) {
            long r;
            try {
                r = (long) PWRITE.invokeExact(cap, fd, buf, buf.byteSize(), offset);
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
            if (r >= 0) return r;
            if (errno(cap) != Errno.EINTR) throw new ErrnoException("pwrite", errno(cap));
        }
    }

    /**
     * preadv(2)/pwritev(2) of {@code count} struct iovecs at {@code iov}; retries EINTR. Returns the bytes
     * transferred. The memory the iovecs point at must stay mapped for the call: the caller keeps it alive.
     */
    static long preadvPwritev(int fd, MemorySegment iov, int count, long offset, boolean write) throws ErrnoException {
        MemorySegment cap = CAPTURE_BUFFER.get();
        while (true) {
            long r;
            try {
                r = write
                        ? (long) PWRITEV.invokeExact(cap, fd, iov, count, offset)
                        : (long) PREADV.invokeExact(cap, fd, iov, count, offset);
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
            if (r >= 0) return r;
            if (errno(cap) != Errno.EINTR) throw new ErrnoException(write ? "pwritev" : "preadv", errno(cap));
        }
    }

    /**
     * preadv2(2) with RWF_NOWAIT: the bytes read, or {@code -errno} when the data is not in the page cache (EAGAIN)
     * or the file system cannot tell (EOPNOTSUPP). Returning instead of throwing keeps the miss path free of
     * exception allocation: a miss is normal, the caller then reads the blocking way.
     */
    static long preadv2NoWait(int fd, MemorySegment iov, int count, long offset) throws ErrnoException {
        MemorySegment cap = CAPTURE_BUFFER.get();
        while (true) {
            long r;
            try {
                r = (long) PREADV2.invokeExact(cap, fd, iov, count, offset, RWF_NOWAIT);
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
            if (r >= 0) return r;
            int e = errno(cap);
            if (e == Errno.EAGAIN || e == Errno.EOPNOTSUPP) return -e;
            if (e != Errno.EINTR) throw new ErrnoException("preadv2", e);
        }
    }

    static void fdatasync(int fd) throws ErrnoException {
        MemorySegment cap = CAPTURE_BUFFER.get();
        while (true) {
            int r;
            try {
                r = (int) FDATASYNC.invokeExact(cap, fd);
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
            if (r == 0) return;
            if (errno(cap) != Errno.EINTR) throw new ErrnoException("fdatasync", errno(cap));
        }
    }

    static void fallocate(int fd, int mode, long offset, long length) throws ErrnoException {
        MemorySegment cap = CAPTURE_BUFFER.get();
        while (true) {
            int r;
            try {
                r = (int) FALLOCATE.invokeExact(cap, fd, mode, offset, length);
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
            if (r == 0) return;
            if (errno(cap) != Errno.EINTR) throw new ErrnoException("fallocate", errno(cap));
        }
    }

    /** flock(2); returns false when {@code LOCK_NB} was given and another open file description holds the lock. */
    static boolean flock(int fd, int operation) throws ErrnoException {
        MemorySegment cap = CAPTURE_BUFFER.get();
        while (true) {
            int r;
            try {
                r = (int) FLOCK.invokeExact(cap, fd, operation);
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
            if (r == 0) return true;
            int e = errno(cap);
            if (e == Errno.EAGAIN) return false; // EWOULDBLOCK is EAGAIN on Linux
            if (e != Errno.EINTR) throw new ErrnoException("flock", e);
        }
    }

    /** fstat(2) into {@code buf}, a {@code struct stat} of the host's layout. */
    static void fstat(int fd, MemorySegment buf) throws ErrnoException {
        MethodHandle fstat;
        try {
            fstat = Fstat.FSTAT;
        } catch (LinkageError e) { // ExceptionInInitializerError, then NoClassDefFoundError: no such symbol
            throw new UnsupportedOperationException("this glibc exports no fstat (glibc 2.33 or newer needed)", e);
        }
        MemorySegment cap = CAPTURE_BUFFER.get();
        int r;
        try {
            r = (int) fstat.invokeExact(cap, fd, buf);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        if (r < 0) throw new ErrnoException("fstat", errno(cap));
    }
}
