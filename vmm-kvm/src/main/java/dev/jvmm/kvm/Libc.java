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
    private static final MethodHandle IOCTL_LONG = linkErrno("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), 2);
    private static final MethodHandle IOCTL_PTR = linkErrno("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), 2);
    // int open(const char *path, int flags, ...  mode_t mode)
    private static final MethodHandle OPEN = linkErrno("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), 2);
    private static final MethodHandle CLOSE = linkErrno("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), -1);
    private static final MethodHandle MMAP = linkErrno("mmap",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), -1);
    private static final MethodHandle MUNMAP = linkErrno("munmap",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG), -1);
    private static final MethodHandle EVENTFD = linkErrno("eventfd",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), -1);
    private static final MethodHandle READ = linkErrno("read",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), -1);
    private static final MethodHandle WRITE = linkErrno("write",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), -1);
    private static final MethodHandle SIGACTION = linkErrno("sigaction",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), -1);
    // int epoll_create1(int flags); int epoll_ctl(int epfd, int op, int fd, struct epoll_event *event);
    // int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout)
    private static final MethodHandle EPOLL_CREATE1 = linkErrno("epoll_create1",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT), -1);
    private static final MethodHandle EPOLL_CTL = linkErrno("epoll_ctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS), -1);
    private static final MethodHandle EPOLL_WAIT = linkErrno("epoll_wait",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), -1);
    // pthread_* return the error number instead of setting errno.
    private static final MethodHandle PTHREAD_SELF = link("pthread_self", FunctionDescriptor.of(JAVA_LONG));
    private static final MethodHandle PTHREAD_KILL = link("pthread_kill",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT));
    private static final MethodHandle PTHREAD_SIGMASK = link("pthread_sigmask",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
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

    private Libc() { }

    @SuppressWarnings("restricted")
    private static MethodHandle linkErrno(String name, FunctionDescriptor fd, int firstVariadic) {
        var addr = LIBC.findOrThrow(name);
        return firstVariadic < 0
                ? LINKER.downcallHandle(addr, fd, Linker.Option.captureCallState("errno"))
                : LINKER.downcallHandle(addr, fd, Linker.Option.firstVariadicArg(firstVariadic),
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
        // EINTR from close(2) on Linux still means the fd is gone: do not retry (close(2), "Dealing with error returns").
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
}
