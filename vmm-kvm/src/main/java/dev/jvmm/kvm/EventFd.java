package dev.jvmm.kvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * An eventfd(2) counter: the kernel-side doorbell of ioeventfd (guest to jvmm) and irqfd (jvmm to guest).
 */
public final class EventFd extends Fd {
    private final boolean nonBlocking;

    private EventFd(int fd, boolean nonBlocking) {
        super(fd, "eventfd");
        this.nonBlocking = nonBlocking;
    }

    /** A blocking eventfd (reads wait for a signal). */
    public static EventFd create() throws ErrnoException { return create(false); }

    public static EventFd create(boolean nonBlocking) throws ErrnoException {
        int flags = Libc.EFD_CLOEXEC | (nonBlocking ? Libc.EFD_NONBLOCK : 0);
        return new EventFd(Libc.eventfd(0, flags), nonBlocking);
    }

    /** Adds {@code value} (> 0) to the counter, waking readers and, for an irqfd, raising its interrupt. */
    public void signal(long value) throws ErrnoException {
        if (value <= 0) throw new IllegalArgumentException("eventfd increments must be positive: " + value);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(ValueLayout.JAVA_LONG);
            v.set(ValueLayout.JAVA_LONG, 0, value);
            Libc.write(fd(), v, "eventfd write");
        }
    }

    public void signal() throws ErrnoException { signal(1); }

    /**
     * Reads and resets the counter. A non-blocking eventfd with nothing signalled returns 0 (a signalled
     * counter is never 0); a blocking one waits.
     */
    public long read() throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(ValueLayout.JAVA_LONG);
            long r = Libc.read(fd(), v, "eventfd read");
            if (r < 0) return 0; // -EAGAIN: nothing signalled
            return v.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    public boolean isNonBlocking() { return nonBlocking; }
}
