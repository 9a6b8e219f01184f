package dev.jvmm.core.devices.serial;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The guest console's bytes on their way to the host's stdout, written by a thread of their own so that a stalled
 * reader (a full pipe, a stopped terminal, {@code jvmm run | less} left alone) never blocks a vCPU or shutdown.
 *
 * <p>vCPU threads append to a bounded ring and return at once; the writer thread drains it in chunks and flushes
 * after each, so a prompt without a newline still shows at once. When the ring is full the newest bytes are dropped
 * and counted (a serial line with nobody listening loses data the same way); when the stream fails (EPIPE: the
 * reader is gone) everything from then on is dropped and counted. {@link #close} gives the writer time to finish
 * while it makes progress, and gives up once it has been stuck for the stall timeout: the process never waits on
 * its reader to exit. The writer is a daemon thread, so a write blocked in the kernel does not keep the JVM alive.
 */
public final class ConsoleWriter implements ConsoleOutput, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ConsoleWriter.class.getName());
    /** Room for a burst of boot messages (a verbose boot prints ~40 KiB) while the reader catches up. */
    public static final int DEFAULT_CAPACITY = 256 * 1024;

    private static final int CHUNK = 8192;

    private final OutputStream out;
    private final byte[] ring;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition dataAvailable = lock.newCondition();
    private final Condition progress = lock.newCondition();
    private final Thread writer;
    // Guarded by lock.
    private long head; // next byte to write out (absolute count)
    private long tail; // next free slot (absolute count)
    private long dropped;
    private long written;
    private boolean closing;
    private boolean failed;

    public ConsoleWriter(OutputStream out, int capacity) {
        this.out = Objects.requireNonNull(out);
        if (capacity < 1) throw new IllegalArgumentException("capacity " + capacity);
        this.ring = new byte[capacity];
        this.writer = Thread.ofPlatform().daemon().name("console-out").unstarted(this::drain);
        writer.start();
    }

    public ConsoleWriter(OutputStream out) {
        this(out, DEFAULT_CAPACITY);
    }

    @Override
    public void write(int b) {
        lock.lock();
        try {
            if (failed || closing || tail - head == ring.length) {
                dropped++;
                return;
            }
            ring[(int) (tail % ring.length)] = (byte) b;
            tail++;
            dataAvailable.signal();
        } finally {
            lock.unlock();
        }
    }

    /** Bytes dropped so far: the ring was full, or the output had failed. */
    public long dropped() {
        lock.lock();
        try {
            return dropped;
        } finally {
            lock.unlock();
        }
    }

    /** Bytes written to the output so far. */
    public long written() {
        lock.lock();
        try {
            return written;
        } finally {
            lock.unlock();
        }
    }

    private void drain() {
        byte[] chunk = new byte[CHUNK];
        while (true) {
            int n;
            lock.lock();
            try {
                while (head == tail && !closing) dataAvailable.awaitUninterruptibly();
                if (head == tail) return; // closing and nothing left
                n = (int) Math.min(CHUNK, tail - head);
                for (int i = 0; i < n; i++) chunk[i] = ring[(int) ((head + i) % ring.length)];
            } finally {
                lock.unlock();
            }
            boolean ok = true;
            try {
                out.write(chunk, 0, n);
                out.flush();
            } catch (IOException | RuntimeException e) {
                ok = false;
                LOG.log(
                        System.Logger.Level.WARNING,
                        "console output failed, dropping the guest's console output from " + "now on: {0}",
                        e.getMessage());
            }
            lock.lock();
            try {
                if (failed) return; // close() gave up on us and counted what was left, this chunk included
                if (ok) {
                    head += n;
                    written += n;
                } else {
                    failed = true;
                    dropped += tail - head;
                    head = tail;
                }
                progress.signalAll();
                if (failed) return;
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * Stops accepting bytes and waits for the writer to write out what it holds, for as long as it keeps making
     * progress; once it has made none for {@code stall}, the rest is dropped (counted) and this returns. Idempotent.
     */
    public void close(long stall, TimeUnit unit) {
        long stallNanos = unit.toNanos(stall);
        lock.lock();
        try {
            closing = true;
            dataAvailable.signal();
            long lastHead = head;
            long deadline = System.nanoTime() + stallNanos;
            while (head != tail && !failed) {
                long left = deadline - System.nanoTime();
                if (left <= 0) break;
                try {
                    progress.awaitNanos(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
                if (head != lastHead) {
                    lastHead = head;
                    deadline = System.nanoTime() + stallNanos;
                }
            }
            if (head != tail && !failed) {
                // Stuck: abandon the writer (it may still be blocked in write) and count what it never wrote.
                failed = true;
                dropped += tail - head;
                head = tail;
            }
        } finally {
            lock.unlock();
        }
    }

    /** {@link #close(long, TimeUnit)} with a one-second stall timeout. */
    @Override
    public void close() {
        close(1, TimeUnit.SECONDS);
    }
}
