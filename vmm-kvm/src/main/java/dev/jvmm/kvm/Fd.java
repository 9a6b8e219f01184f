package dev.jvmm.kvm;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A file descriptor owned by one Java object, closed exactly once. Using it after close is a programming
 * error ({@link IllegalStateException}), never a stale fd number that may by then name another file.
 */
abstract class Fd implements AutoCloseable {
    private final int fd;
    private final String what;
    private final AtomicBoolean closed = new AtomicBoolean();

    Fd(int fd, String what) {
        this.fd = fd;
        this.what = what;
    }

    /** The fd number, for ioctls. Throws if closed. */
    final int fd() {
        if (closed.get()) throw new IllegalStateException(what + " is closed");
        return fd;
    }

    /** The fd number for passing to the kernel inside a struct (irqfd, ioeventfd). */
    public final int rawFd() {
        return fd();
    }

    public final boolean isClosed() {
        return closed.get();
    }

    @Override
    public void close() throws ErrnoException {
        if (closed.compareAndSet(false, true)) Libc.close(fd);
    }

    @Override
    public String toString() {
        return what + "(fd " + fd + (closed.get() ? ", closed)" : ")");
    }
}
