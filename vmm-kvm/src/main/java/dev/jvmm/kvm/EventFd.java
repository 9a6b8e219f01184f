package dev.jvmm.kvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * An eventfd(2) counter: the kernel-side doorbell of ioeventfd (guest to jvmm) and irqfd (jvmm to guest).
 */
public final class EventFd extends Fd {
    /**
     * The 8-byte counter buffer of read(2)/write(2), one per thread: {@link #signal} is the VMM's half of every
     * irqfd interrupt and {@link #read} runs on every ioeventfd doorbell, so neither makes an Arena per call.
     * (Like Libc's errno capture buffer; a thread only ever uses it for one call at a time.)
     */
    private static final ThreadLocal<MemorySegment> COUNTER =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(ValueLayout.JAVA_LONG));

    private EventFd(int fd) {
        super(fd, "eventfd");
    }

    /** A blocking eventfd (reads wait for a signal). */
    public static EventFd create() throws ErrnoException {
        return create(false);
    }

    public static EventFd create(boolean nonBlocking) throws ErrnoException {
        int flags = Libc.EFD_CLOEXEC | (nonBlocking ? Libc.EFD_NONBLOCK : 0);
        return new EventFd(Libc.eventfd(0, flags));
    }

    /** Adds {@code value} (> 0) to the counter, waking readers and, for an irqfd, raising its interrupt. */
    public void signal(long value) throws ErrnoException {
        if (value <= 0) throw new IllegalArgumentException("eventfd increments must be positive: " + value);
        MemorySegment v = COUNTER.get();
        v.set(ValueLayout.JAVA_LONG, 0, value);
        Libc.write(fd(), v, "eventfd write");
    }

    public void signal() throws ErrnoException {
        signal(1);
    }

    /**
     * Reads and resets the counter. A non-blocking eventfd with nothing signalled returns 0 (a signalled
     * counter is never 0); a blocking one waits.
     */
    public long read() throws ErrnoException {
        MemorySegment v = COUNTER.get();
        long r = Libc.read(fd(), v, "eventfd read");
        if (r < 0) return 0; // -EAGAIN: nothing signalled
        return v.get(ValueLayout.JAVA_LONG, 0);
    }
}
