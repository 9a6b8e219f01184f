package dev.jvmm.core.event;

import dev.jvmm.core.bus.RateLimitedLogger;
import dev.jvmm.kvm.Epoll;
import dev.jvmm.kvm.ErrnoException;
import dev.jvmm.kvm.EventFd;
import java.lang.System.Logger.Level;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One thread that waits on eventfds with epoll and runs their handlers: the back-end side of ioeventfd queue
 * notifications (the guest's MMIO write signals the eventfd inside KVM with no exit to userspace). No busy
 * thread: it sleeps in epoll_wait until something is signalled or it is closed.
 *
 * <p>A handler runs on the loop thread after its eventfd's counter was read (so one wake-up covers any number of
 * signals before it, as ioeventfd semantics allow). A handler that throws is logged rate-limited and stays
 * registered: a device fault must not stop the loop, and so the other devices' notifications.
 */
public final class EventLoop implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(EventLoop.class.getName());
    private static final long STOP_TOKEN = 0;
    private static final int BATCH = 64;

    private record Registration(EventFd fd, Runnable handler) {}

    private final Epoll epoll;
    private final EventFd stop;
    private final Map<Long, Registration> handlers = new ConcurrentHashMap<>();
    private final AtomicLong nextToken = new AtomicLong(STOP_TOKEN + 1);
    private final AtomicLong dispatched = new AtomicLong();
    private final RateLimitedLogger faults = new RateLimitedLogger(LOG);
    private final Thread thread;
    private volatile boolean closed;

    private EventLoop(Epoll epoll, EventFd stop, String name) {
        this.epoll = epoll;
        this.stop = stop;
        this.thread = Thread.ofPlatform().daemon().name(name).unstarted(this::loop);
    }

    /** Creates and starts the loop thread. */
    public static EventLoop start(String name) throws ErrnoException {
        Epoll epoll = Epoll.create();
        EventFd stop = null;
        try {
            stop = EventFd.create(true);
            epoll.add(stop, Epoll.EPOLLIN, STOP_TOKEN);
            EventLoop loop = new EventLoop(epoll, stop, name);
            loop.thread.start();
            return loop;
        } catch (ErrnoException | RuntimeException e) {
            if (stop != null) stop.close();
            epoll.close();
            throw e;
        }
    }

    /** A registered handler; {@link #cancel} removes it. */
    public final class Handle {
        private final long token;

        private Handle(long token) {
            this.token = token;
        }

        /** Stops watching the eventfd (the caller still owns and closes it). */
        public void cancel() {
            Registration r = handlers.remove(token);
            if (r == null || closed) return;
            try {
                epoll.delete(r.fd());
            } catch (ErrnoException e) {
                LOG.log(Level.WARNING, "epoll delete {0}: {1}", r.fd(), e.getMessage());
            }
        }
    }

    /** Runs {@code handler} on the loop thread each time {@code fd} (non-blocking or not) is signalled. */
    public Handle register(EventFd fd, Runnable handler) throws ErrnoException {
        Objects.requireNonNull(fd);
        Objects.requireNonNull(handler);
        if (closed) throw new IllegalStateException("event loop closed");
        long token = nextToken.getAndIncrement();
        handlers.put(token, new Registration(fd, handler));
        try {
            epoll.add(fd, Epoll.EPOLLIN, token);
        } catch (ErrnoException e) {
            handlers.remove(token);
            throw e;
        }
        return new Handle(token);
    }

    /** Handlers run so far. */
    public long dispatched() {
        return dispatched.get();
    }

    private void loop() {
        long[] tokens = new long[BATCH];
        while (!closed) {
            int n;
            try {
                n = epoll.await(tokens, -1);
            } catch (ErrnoException e) {
                if (closed) return;
                faults.log(Level.ERROR, "epoll_wait: %s", e.getMessage());
                continue;
            }
            for (int i = 0; i < n && !closed; i++) {
                if (tokens[i] == STOP_TOKEN) return;
                Registration r = handlers.get(tokens[i]);
                if (r == null) continue; // cancelled after epoll reported it
                try {
                    r.fd().read(); // reset the counter: level-triggered epoll would report it again
                    r.handler().run();
                    dispatched.incrementAndGet();
                } catch (ErrnoException | RuntimeException e) {
                    faults.log(Level.WARNING, "event handler for %s failed: %s", r.fd(), e);
                }
            }
        }
    }

    /** Stops the thread, waits for it, and closes the epoll instance. Registered eventfds stay open. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            stop.signal();
        } catch (ErrnoException e) {
            LOG.log(Level.WARNING, "event loop stop: {0}", e.getMessage());
        }
        if (Thread.currentThread() != thread) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            stop.close();
            epoll.close();
        } catch (ErrnoException e) {
            LOG.log(Level.WARNING, "event loop close: {0}", e.getMessage());
        }
    }
}
