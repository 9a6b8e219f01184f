package dev.jvmm.kvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An epoll(7) instance: one thread waits on many fds, typically the eventfds of ioeventfds (a guest MMIO doorbell
 * that KVM turned into an eventfd signal without an exit to userspace, api.rst §4.59 KVM_IOEVENTFD) and a stop
 * eventfd. Each registered fd carries a caller-chosen 64-bit token, which {@link #await} hands back when it is ready.
 *
 * <p>Registration ({@link #add}, {@link #modify}, {@link #delete}) may happen on any thread, also while another
 * thread waits: the kernel's interest list is thread-safe. Waiting is for one thread at a time, because the
 * event buffer is allocated once per instance and reused on every call; a second concurrent waiter is a
 * programming error ({@link IllegalStateException}). Closing the epoll fd does not wake a thread blocked in
 * {@link #await} (epoll_wait(2) keeps its reference): to stop a waiter, signal an eventfd it watches.
 *
 * <p>Closing a registered fd removes it from the interest list by itself, unless the fd was duplicated
 * (epoll(7), "Questions and answers" 6); {@link #delete} first is still the clear way.
 */
public final class Epoll extends Fd {
    public static final int EPOLLIN = Libc.EPOLLIN;
    public static final int EPOLLPRI = Libc.EPOLLPRI;
    public static final int EPOLLOUT = Libc.EPOLLOUT;
    /** Always reported, whether asked for or not (epoll_ctl(2)). */
    public static final int EPOLLERR = Libc.EPOLLERR;
    /** Always reported, whether asked for or not (epoll_ctl(2)). */
    public static final int EPOLLHUP = Libc.EPOLLHUP;

    public static final int EPOLLRDHUP = Libc.EPOLLRDHUP;
    /** Edge-triggered: reported once per change, not for as long as the fd stays ready. */
    public static final int EPOLLET = Libc.EPOLLET;
    /** Reported once, then disabled until {@link #modify} re-arms it. */
    public static final int EPOLLONESHOT = Libc.EPOLLONESHOT;

    public static final int EPOLLEXCLUSIVE = Libc.EPOLLEXCLUSIVE;

    /** Events one {@link #await} can return at most with {@link #create()}. */
    public static final int DEFAULT_MAX_EVENTS = 64;

    /**
     * {@code struct epoll_event} is {@code { __u32 events; __u64 data; }} with {@code __attribute__((packed))} on
     * x86_64 only (include/uapi/linux/eventpoll.h, EPOLL_PACKED: the i386 layout kept for the 64-bit ABI): 12
     * bytes with {@code data} at offset 4 there, 16 bytes with {@code data} at offset 8 on aarch64 (and every
     * other 64-bit arch). LibcConstantsTest checks both against the C compilers.
     */
    static final int EVENT_SIZE = eventSize(HostArch.current());

    static final int DATA_OFFSET = dataOffset(HostArch.current());

    /** One epoll_event for epoll_ctl, per thread: registration may run on any thread, concurrently. */
    private static final ThreadLocal<MemorySegment> CTL_EVENT =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(16, 8));

    private final MemorySegment events;
    private final int maxEvents;
    private final AtomicBoolean waiting = new AtomicBoolean();

    private Epoll(int fd, int maxEvents) {
        super(fd, "epoll");
        this.maxEvents = maxEvents;
        // Arena.ofAuto, not one the close() frees: a waiter still inside epoll_wait keeps using the buffer.
        this.events = Arena.ofAuto().allocate((long) EVENT_SIZE * maxEvents, 8);
    }

    static int eventSize(HostArch arch) {
        return arch == HostArch.X86_64 ? 12 : 16;
    }

    static int dataOffset(HostArch arch) {
        return arch == HostArch.X86_64 ? 4 : 8;
    }

    /** epoll_create1(EPOLL_CLOEXEC), returning up to {@link #DEFAULT_MAX_EVENTS} fds per {@link #await}. */
    public static Epoll create() throws ErrnoException {
        return create(DEFAULT_MAX_EVENTS);
    }

    /** epoll_create1(EPOLL_CLOEXEC), returning up to {@code maxEvents} fds per {@link #await}. */
    public static Epoll create(int maxEvents) throws ErrnoException {
        if (maxEvents < 1 || maxEvents > 4096) {
            throw new IllegalArgumentException("epoll maxEvents must be in [1, 4096]: " + maxEvents);
        }
        return new Epoll(Libc.epollCreate1(Libc.EPOLL_CLOEXEC), maxEvents);
    }

    /**
     * EPOLL_CTL_ADD: watch {@code fd} for {@code events} ({@link #EPOLLIN} ...); {@link #await} reports it as
     * {@code token}. EEXIST when {@code fd} is already registered.
     */
    public void add(Fd fd, int events, long token) throws ErrnoException {
        ctl(Libc.EPOLL_CTL_ADD, fd, events, token, "epoll_ctl ADD ");
    }

    /** EPOLL_CTL_MOD: new events and token for a registered fd (ENOENT when it is not registered). */
    public void modify(Fd fd, int events, long token) throws ErrnoException {
        ctl(Libc.EPOLL_CTL_MOD, fd, events, token, "epoll_ctl MOD ");
    }

    /** EPOLL_CTL_DEL: stop watching {@code fd} (ENOENT when it is not registered). */
    public void delete(Fd fd) throws ErrnoException {
        int target = fd.fd();
        Libc.epollCtl(fd(), Libc.EPOLL_CTL_DEL, target, MemorySegment.NULL, "epoll_ctl DEL " + fd);
    }

    private void ctl(int op, Fd fd, int events, long token, String what) throws ErrnoException {
        int target = fd.fd();
        MemorySegment ev = CTL_EVENT.get();
        ev.set(ValueLayout.JAVA_INT, 0, events);
        ev.set(ValueLayout.JAVA_LONG_UNALIGNED, DATA_OFFSET, token);
        Libc.epollCtl(fd(), op, target, ev, what + fd);
    }

    /**
     * Waits up to {@code timeoutMillis} (-1 forever, 0 not at all) for registered fds to become ready; fills
     * {@code tokens[0..n)} with their tokens and returns n, at most {@code min(tokens.length, maxEvents)}.
     * Returns 0 on timeout, and also when a signal interrupted the wait (EINTR): callers loop anyway.
     * Readiness is not consumed here: read the eventfd (level-triggered fds stay ready until then).
     */
    public int await(long[] tokens, int timeoutMillis) throws ErrnoException {
        if (tokens.length == 0) throw new IllegalArgumentException("no room for any event");
        if (timeoutMillis < -1) throw new IllegalArgumentException("timeout must be -1 or >= 0 ms: " + timeoutMillis);
        int epfd = fd();
        if (!waiting.compareAndSet(false, true)) {
            throw new IllegalStateException("another thread is already waiting on this " + this);
        }
        try {
            int n = Libc.epollWait(epfd, events, Math.min(tokens.length, maxEvents), timeoutMillis);
            for (int i = 0; i < n; i++) {
                tokens[i] = events.get(ValueLayout.JAVA_LONG_UNALIGNED, (long) i * EVENT_SIZE + DATA_OFFSET);
            }
            return Math.max(n, 0); // -EINTR
        } finally {
            waiting.set(false);
        }
    }

    /** The most events one {@link #await} returns. */
    public int maxEvents() {
        return maxEvents;
    }
}
