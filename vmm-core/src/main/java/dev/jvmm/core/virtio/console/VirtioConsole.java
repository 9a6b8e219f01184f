package dev.jvmm.core.virtio.console;

import dev.jvmm.core.bus.RateLimitedLogger;
import dev.jvmm.core.devices.serial.ConsoleOutput;
import dev.jvmm.core.virtio.VirtioDevice;
import dev.jvmm.core.virtio.VirtioDeviceType;
import dev.jvmm.core.virtio.VirtioInterrupt;
import dev.jvmm.core.virtio.VirtioSpec;
import dev.jvmm.core.virtio.queue.DescriptorChain;
import dev.jvmm.core.virtio.queue.SplitQueue;
import dev.jvmm.core.virtio.queue.VirtqueueException;
import java.io.Flushable;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The console device (virtio 1.2 §5.3) with a single port and no VIRTIO_CONSOLE_F_MULTIPORT: queue 0 is
 * {@code receiveq} (host to guest, the driver posts device-writable buffers), queue 1 is {@code transmitq}
 * (guest to host, device-readable buffers). Linux binds it with CONFIG_VIRTIO_CONSOLE as {@code hvc0}.
 *
 * <h2>Features and configuration (§5.3.3, §5.3.4)</h2>
 * Offered: VIRTIO_CONSOLE_F_EMERG_WRITE always; VIRTIO_CONSOLE_F_SIZE only when the device was built with a
 * {@link Size} (then {@link #setSize} changes it and sends a configuration change notification). The 12-byte
 * configuration space is {@code struct virtio_console_config}: {@code cols} (le16, 0), {@code rows} (le16, 2),
 * {@code max_nr_ports} (le32, 4; reads 1, meaningful only with MULTIPORT) and {@code emerg_wr} (le32, 8;
 * write-only, reads 0). cols and rows read 0 without a size. A write of any width at {@code emerg_wr} outputs its
 * low byte; as §5.3.5 allows, at any time, before feature negotiation or after the device failed.
 *
 * <h2>Output (transmitq)</h2>
 * A transmitq notification only pops the available chains and hands them to the device's transmit thread
 * ({@code virtio-console-tx}, started at the first activation or emergency write); it never waits for the host.
 * That thread copies each chain's device-readable bytes ({@value #CHUNK} at a time, under the transmit lock) and
 * writes them to the {@link ConsoleOutput} with no lock held, in chain order, then returns the chain with 0 bytes
 * written and raises the queue interrupt when {@link SplitQueue#needsInterrupt()} says so. Device-writable
 * buffers in a transmitq chain (which §5.3.6.1 forbids the driver) are left alone: the chain is still returned
 * with 0. An output that is also {@link Flushable} is flushed after each chunk, so it may buffer the bytes of a
 * chunk (jvmm's {@link dev.jvmm.core.devices.serial.ConsoleWriter} needs no flush: its own thread writes them out). Emergency-write bytes go through a
 * {@value #EMERGENCY_BUFFER}-byte buffer to the same thread (a chunk of them, then a chunk of the pending chains,
 * in turn); beyond that they are dropped and counted. An output that throws loses the rest of that chunk
 * (logged, rate-limited, counted); the chain is returned as usual.
 *
 * <p><b>When the output blocks</b> (stdout not drained), only the transmit thread waits. Chains stay with the
 * device until their bytes are written, so the guest sees its transmitq not drain: Linux's hvc {@code put_chars}
 * sends one buffer and busy-waits for the device to return it (virtio_console.c {@code __send_to_port} with
 * {@code nonblock = false}), so the guest task writing to hvc0 (and any other one that queues up behind the hvc
 * lock) spins until the host output moves again. That is the intended back-pressure. jvmm's own threads are not
 * held: kicks return at once, configuration reads and writes, input and resets proceed, and no lock a vCPU
 * thread or the event loop takes is held while writing. (A shared sink with its own lock, like the machine's
 * panic watcher, is held by the transmit thread while it writes; a PL011 writing to the same sink would wait
 * there, which is the PL011's own issue.)
 *
 * <h2>Input (receiveq)</h2>
 * {@link #pushInput} (the machine's stdin thread) puts the bytes straight into the driver's available receiveq
 * buffers, after any older input still waiting, filling each chain's writable space before taking the next (so
 * input larger than a buffer spans several), and raises the queue interrupt if the queue asks for it. What finds
 * no buffer waits in a bounded backlog ({@value #DEFAULT_BACKLOG} bytes by default); what does not fit there
 * either is dropped and counted ({@link #droppedInput()}). The backlog is delivered later when the driver adds
 * buffers (receiveq notification) and at activation (buffers the driver posted before DRIVER_OK, whose kicks the
 * transport ignored). Chains are popped only when there are bytes for them, so receiveq never holds a chain; while the
 * backlog is empty receiveq notifications are disabled, and they are enabled while input waits for buffers.
 *
 * <h2>Reset</h2>
 * {@link #reset} forgets both queues and the interrupt handle and drops the chains waiting for output: nothing
 * of the driver's is in flight after it returns. A chunk the transmit thread was already writing still reaches
 * the output, its chain is not returned. The transmit thread is not stopped by a reset: it is idle and holds no
 * chain of the driver's, and it touches neither guest memory nor a queue before the next activation. The input
 * backlog and pending emergency bytes are <b>kept</b> (as the PL011 keeps its host input): they are the host's,
 * and go to the next driver.
 *
 * <h2>Threads and locks</h2>
 * The receive lock guards the backlog and every use of receiveq: {@link #queueNotified}(0) (called with the
 * transport's queue lock held), {@link #pushInput}, {@link #activate} and {@link #reset}. The transmit lock
 * guards transmitq, the pending chains, the emergency buffer and the transmit thread's copies from guest memory.
 * Neither is held while writing to the output or while raising an interrupt, and neither is held while taking
 * another lock of the transport, so the order is always transport locks, then these. A ring error met on the
 * stdin or transmit thread (the transport cannot be told there) stops that direction and is thrown from the next
 * {@link #queueNotified} of the queue, where the transport sets DEVICE_NEEDS_RESET.
 *
 * <p>{@link #close} stops the transmit thread (it is a daemon; a thread blocked in the output is left there).
 * Call it before guest memory is unmapped: after it returns the device never touches guest memory again.
 */
public final class VirtioConsole implements VirtioDevice, AutoCloseable {
    /** The queue index of receiveq (port 0 input, host to guest). */
    public static final int RECEIVE_QUEUE = 0;
    /** The queue index of transmitq (port 0 output, guest to host). */
    public static final int TRANSMIT_QUEUE = 1;
    /** Maximum size of both queues. */
    public static final int QUEUE_SIZE = 256;

    /** §5.3.3: cols and rows are valid. */
    public static final int F_SIZE = 0;
    /** §5.3.3: multiple ports and the control queues (not offered). */
    public static final int F_MULTIPORT = 1;
    /** §5.3.3: emerg_wr is valid. */
    public static final int F_EMERG_WRITE = 2;

    /** Offsets in {@code struct virtio_console_config} (§5.3.4), and its size. */
    public static final int CONFIG_COLS = 0,
            CONFIG_ROWS = 2,
            CONFIG_MAX_NR_PORTS = 4,
            CONFIG_EMERG_WR = 8,
            CONFIG_SIZE = 12;

    /** Default bytes of host input kept while the driver has no receive buffers. */
    public static final int DEFAULT_BACKLOG = 4096;
    /** Emergency-write bytes kept while the transmit thread is busy; more are dropped. */
    public static final int EMERGENCY_BUFFER = 4096;
    /** Bytes the transmit thread copies out of guest memory at a time. */
    static final int CHUNK = 4096;

    /** A console size in character cells, as {@code cols} and {@code rows} report it (each 0-65535). */
    public record Size(int cols, int rows) {
        public Size {
            if (cols < 0 || cols > 0xFFFF || rows < 0 || rows > 0xFFFF) {
                throw new IllegalArgumentException("console size %dx%d out of range 0-65535".formatted(cols, rows));
            }
        }
    }

    private static final System.Logger LOG = System.getLogger(VirtioConsole.class.getName());

    private final ConsoleOutput output;
    private final boolean offersSize;
    private final RateLimitedLogger outputErrors = new RateLimitedLogger(LOG);
    private final RateLimitedLogger guestErrors = new RateLimitedLogger(LOG);
    private final AtomicLong txBytes = new AtomicLong();
    private final AtomicLong rxBytes = new AtomicLong();
    private final AtomicLong droppedInput = new AtomicLong();
    private final AtomicLong droppedOutput = new AtomicLong();

    /** cols | rows << 16; one volatile so that a single read never sees half a change. */
    private volatile int size;
    /** The handle of the current activation, for configuration changes; null when not active. */
    private volatile VirtioInterrupt interrupt;

    // --- receive side: guarded by rxLock -----------------------------------------------------------
    private final Object rxLock = new Object();
    private final byte[] backlog;
    private int backlogHead;
    private int backlogCount;
    private SplitQueue rxQueue;
    private VirtioInterrupt rxIrq;
    private VirtqueueException rxFailure;

    // --- transmit side: guarded by txLock ----------------------------------------------------------
    private final ReentrantLock txLock = new ReentrantLock();
    private final Condition txWork = txLock.newCondition();
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private final byte[] emergency = new byte[EMERGENCY_BUFFER];
    private int emergencyHead;
    private int emergencyCount;
    private SplitQueue txQueue;
    private VirtioInterrupt txIrq;
    private VirtqueueException txFailure;
    private boolean closed;
    private boolean lastWasEmergency;
    private Thread writer;

    /** A transmitq chain popped and not yet returned: {@code offset} readable bytes of it are written. */
    private static final class Pending {
        final DescriptorChain chain;
        long offset;

        Pending(DescriptorChain chain) {
            this.chain = chain;
        }
    }

    /** A console writing to {@code output}, with a {@value #DEFAULT_BACKLOG}-byte input backlog and no size. */
    public VirtioConsole(ConsoleOutput output) {
        this(output, DEFAULT_BACKLOG, null);
    }

    /**
     * @param output       where the guest's output goes (written on the device's transmit thread only)
     * @param backlogBytes host input kept while the driver has no receive buffers, at least 1
     * @param size         the console size to report with VIRTIO_CONSOLE_F_SIZE, or null not to offer it
     */
    public VirtioConsole(ConsoleOutput output, int backlogBytes, Size size) {
        this.output = Objects.requireNonNull(output, "output");
        if (backlogBytes < 1) {
            throw new IllegalArgumentException("backlog must hold at least one byte");
        }
        this.backlog = new byte[backlogBytes];
        this.offersSize = size != null;
        this.size = size == null ? 0 : pack(size);
    }

    private static int pack(Size s) {
        return s.cols() | s.rows() << 16;
    }

    // --- VirtioDevice ------------------------------------------------------------------------------

    @Override
    public VirtioDeviceType type() {
        return VirtioDeviceType.CONSOLE;
    }

    @Override
    public long features() {
        long f = VirtioSpec.bit(F_EMERG_WRITE);
        return offersSize ? f | VirtioSpec.bit(F_SIZE) : f;
    }

    @Override
    public int numQueues() {
        return 2;
    }

    @Override
    public int queueMaxSize(int queue) {
        return QUEUE_SIZE;
    }

    @Override
    public int configSize() {
        return CONFIG_SIZE;
    }

    @Override
    public long readConfig(int offset, int size) {
        if (offset >= CONFIG_EMERG_WR) {
            return 0; // emerg_wr is write-only
        }
        long image = Integer.toUnsignedLong(this.size) | 1L << (8 * CONFIG_MAX_NR_PORTS);
        return image >>> (8 * offset);
    }

    @Override
    public void writeConfig(int offset, int size, long value) {
        if (offset != CONFIG_EMERG_WR) {
            return; // cols, rows and max_nr_ports are read-only; bytes 9-11 are not where the character goes
        }
        txLock.lock();
        try {
            if (emergencyCount == emergency.length || closed) {
                droppedOutput.incrementAndGet();
                return;
            }
            emergency[(emergencyHead + emergencyCount) % emergency.length] = (byte) value;
            emergencyCount++;
            startWriterLocked();
            txWork.signal();
        } finally {
            txLock.unlock();
        }
    }

    @Override
    public void activate(long features, List<SplitQueue> queues, VirtioInterrupt interrupt) {
        Objects.requireNonNull(interrupt);
        this.interrupt = interrupt;
        txLock.lock();
        try {
            txQueue = queues.get(TRANSMIT_QUEUE);
            txIrq = interrupt;
            txFailure = null;
            startWriterLocked();
        } finally {
            txLock.unlock();
        }
        boolean notify;
        synchronized (rxLock) {
            rxQueue = queues.get(RECEIVE_QUEUE);
            rxIrq = interrupt;
            rxFailure = null;
            notify = deliverQuietly(null); // buffers posted before DRIVER_OK got no kick the device saw
        }
        if (notify) {
            interrupt.queue(RECEIVE_QUEUE);
        }
        try {
            takeOutput(); // likewise output posted before DRIVER_OK
        } catch (VirtqueueException e) {
            guestErrors.log(Level.WARNING, "virtio-console: transmitq at activation: %s", e.getMessage());
        }
    }

    @Override
    public void queueNotified(int queue) throws VirtqueueException {
        if (queue == TRANSMIT_QUEUE) {
            takeOutput();
        } else if (queue == RECEIVE_QUEUE) {
            boolean notify;
            VirtioInterrupt irq;
            synchronized (rxLock) {
                if (rxFailure != null) {
                    throw rxFailure;
                }
                if (rxQueue == null) {
                    return;
                }
                deliverLocked(null);
                notify = rxQueue.needsInterrupt();
                irq = rxIrq;
            }
            if (notify && irq != null) {
                irq.queue(RECEIVE_QUEUE);
            }
        }
    }

    @Override
    public void reset() {
        interrupt = null;
        synchronized (rxLock) {
            rxQueue = null;
            rxIrq = null;
            rxFailure = null;
            // the backlog is kept for the next driver
        }
        txLock.lock();
        try {
            txQueue = null;
            txIrq = null;
            txFailure = null;
            pending.clear(); // the transmit thread drops the chain it may be writing: it is not the head any more
        } finally {
            txLock.unlock();
        }
    }

    // --- public API for the machine -------------------------------------------------------------------

    /**
     * Queues host input for the guest (from the console reader thread); delivers what the driver's available
     * receive buffers hold at once. Returns how many bytes were accepted (delivered or kept); the rest did not fit
     * in the backlog and are dropped, counted in {@link #droppedInput()}.
     */
    public int pushInput(byte[] data, int off, int len) {
        Objects.checkFromIndexSize(off, len, data.length);
        boolean notify;
        VirtioInterrupt irq;
        int done;
        synchronized (rxLock) {
            Input in = new Input(data, off, len);
            notify = deliverQuietly(in); // straight into buffers when there are some, the backlog first
            int n = Math.min(backlog.length - backlogCount, len - in.used);
            int tail = (backlogHead + backlogCount) % backlog.length;
            int first = Math.min(n, backlog.length - tail);
            System.arraycopy(data, off + in.used, backlog, tail, first);
            System.arraycopy(data, off + in.used + first, backlog, 0, n - first);
            backlogCount += n;
            done = in.used + n;
            irq = rxIrq;
        }
        if (done < len) {
            droppedInput.addAndGet(len - done);
        }
        if (notify && irq != null) {
            irq.queue(RECEIVE_QUEUE);
        }
        return done;
    }

    /** {@link #pushInput(byte[], int, int)} of a whole array. */
    public int pushInput(byte[] data) {
        return pushInput(data, 0, data.length);
    }

    /**
     * Changes the size reported in cols and rows and sends a configuration change notification (if the driver is
     * active).
     *
     * @throws IllegalStateException the device was built without a size, so VIRTIO_CONSOLE_F_SIZE is not offered
     */
    public void setSize(Size newSize) {
        if (!offersSize) {
            throw new IllegalStateException("VIRTIO_CONSOLE_F_SIZE is not offered: build the console with a size");
        }
        int packed = pack(newSize);
        VirtioInterrupt irq = interrupt;
        if (irq == null) {
            size = packed;
        } else {
            irq.config(() -> size = packed); // with config_generation, so cols and rows change together
        }
    }

    /** The size cols and rows report (0x0 without VIRTIO_CONSOLE_F_SIZE). */
    public Size size() {
        int s = size;
        return new Size(s & 0xFFFF, s >>> 16);
    }

    /** Bytes written to the output (transmitq and emergency writes). */
    public long txBytes() {
        return txBytes.get();
    }

    /** Bytes delivered into receiveq buffers. */
    public long rxBytes() {
        return rxBytes.get();
    }

    /** Input bytes dropped because the backlog was full. */
    public long droppedInput() {
        return droppedInput.get();
    }

    /** Output bytes lost: emergency writes beyond the buffer, and bytes the output failed to take. */
    public long droppedOutput() {
        return droppedOutput.get();
    }

    /** Input bytes waiting for receive buffers. */
    public int pendingInput() {
        synchronized (rxLock) {
            return backlogCount;
        }
    }

    /**
     * Stops the transmit thread and forgets the queues; pending output is dropped. Idempotent. Does not wait for
     * a write the output is blocked in. After it returns the device does not touch guest memory.
     */
    @Override
    public void close() {
        synchronized (rxLock) {
            rxQueue = null;
            rxIrq = null;
        }
        txLock.lock();
        try {
            closed = true;
            txQueue = null;
            txIrq = null;
            pending.clear();
            emergencyCount = 0;
            txWork.signalAll();
        } finally {
            txLock.unlock();
        }
    }

    /** The transmit thread, null before it is started (tests). */
    Thread transmitThread() {
        txLock.lock();
        try {
            return writer;
        } finally {
            txLock.unlock();
        }
    }

    // --- receive ---------------------------------------------------------------------------------------

    /** Input being pushed: {@code used} bytes of {@code data[off..off+len)} went into receive buffers. */
    private static final class Input {
        final byte[] data;
        final int off;
        final int len;
        int used;

        Input(byte[] data, int off, int len) {
            this.data = data;
            this.off = off;
            this.len = len;
        }
    }

    /**
     * {@link #deliverLocked} where the transport cannot hear of a ring error (input thread, activation): the error
     * is kept for the next receiveq notification. Returns whether the driver wants an interrupt. rxLock held.
     */
    private boolean deliverQuietly(Input in) {
        SplitQueue q = rxQueue;
        if (rxFailure != null || q == null) {
            return false;
        }
        try {
            deliverLocked(in);
        } catch (VirtqueueException e) {
            rxFailure = e;
        } catch (RuntimeException e) {
            rxFailure = new VirtqueueException("receiveq: " + e);
            LOG.log(Level.DEBUG, "virtio-console receive failure", e);
        }
        if (rxFailure != null) {
            guestErrors.log(Level.WARNING, "virtio-console: receiveq stopped: %s", rxFailure.getMessage());
        }
        return q.needsInterrupt(); // chains returned before a failure are still the driver's to see
    }

    /**
     * Moves the backlog, then {@code in} (may be null), into available receiveq chains, each filled before the
     * next is popped. rxLock held, rxQueue set. Chains are popped only while there are bytes for them;
     * notifications are wanted only while bytes wait for buffers.
     */
    private void deliverLocked(Input in) throws VirtqueueException {
        SplitQueue q = rxQueue;
        if (!q.isEnabled()) {
            return;
        }
        while (true) {
            if (backlogCount == 0 && (in == null || in.used == in.len)) {
                q.disableNotifications();
                return;
            }
            Optional<DescriptorChain> c = q.pop();
            if (c.isEmpty()) {
                if (q.enableNotifications()) {
                    continue; // buffers arrived meanwhile
                }
                return;
            }
            DescriptorChain chain = c.get();
            int n = fill(chain, in);
            q.pushUsed(chain, n);
            rxBytes.addAndGet(n);
        }
    }

    /** Writes as much of the backlog, then of {@code in}, as the chain's writable space holds; returns the bytes. */
    private int fill(DescriptorChain chain, Input in) {
        long space = chain.writableLength();
        int done = 0;
        while (backlogCount > 0 && done < space) {
            int n = (int) Math.min(Math.min(backlogCount, backlog.length - backlogHead), space - done);
            int w = chain.write(done, backlog, backlogHead, n);
            if (w <= 0) {
                return done;
            }
            backlogHead = (backlogHead + w) % backlog.length;
            backlogCount -= w;
            done += w;
        }
        if (backlogCount == 0) {
            backlogHead = 0;
            if (in != null && done < space) {
                int n = (int) Math.min(in.len - in.used, space - done);
                int w = chain.write(done, in.data, in.off + in.used, n);
                in.used += w;
                done += w;
            }
        }
        return done;
    }

    // --- transmit --------------------------------------------------------------------------------------

    /** Pops every available transmitq chain for the transmit thread. Never waits for the output. */
    private void takeOutput() throws VirtqueueException {
        txLock.lock();
        try {
            if (txFailure != null) {
                throw txFailure;
            }
            SplitQueue q = txQueue;
            if (q == null || closed || !q.isEnabled()) {
                return;
            }
            int before = pending.size();
            do {
                q.disableNotifications();
                for (Optional<DescriptorChain> c; (c = q.pop()).isPresent(); ) {
                    pending.addLast(new Pending(c.get()));
                }
            } while (q.enableNotifications());
            if (pending.size() != before) {
                txWork.signal();
            }
        } finally {
            txLock.unlock();
        }
    }

    /** txLock held. */
    private void startWriterLocked() {
        if (writer == null && !closed) {
            writer = Thread.ofPlatform().daemon().name("virtio-console-tx").start(this::transmitLoop);
        }
    }

    /** The transmit thread: copies out under txLock, writes with no lock, returns chains under txLock. */
    private void transmitLoop() {
        byte[] buf = new byte[CHUNK];
        while (true) {
            Pending job;
            int n;
            txLock.lock();
            try {
                while (!closed && emergencyCount == 0 && pending.isEmpty()) {
                    txWork.awaitUninterruptibly();
                }
                if (closed) {
                    return;
                }
                // Emergency bytes first, but alternating with chains so that neither starves the other.
                boolean emergencyTurn = emergencyCount > 0 && (pending.isEmpty() || !lastWasEmergency);
                lastWasEmergency = emergencyTurn;
                if (emergencyTurn) {
                    job = null;
                    n = 0;
                    while (emergencyCount > 0 && n < buf.length) {
                        buf[n++] = emergency[emergencyHead];
                        emergencyHead = (emergencyHead + 1) % emergency.length;
                        emergencyCount--;
                    }
                } else {
                    job = pending.peekFirst();
                    try {
                        n = job.chain.read(job.offset, buf, 0, buf.length);
                    } catch (RuntimeException e) {
                        failTransmitLocked(e);
                        continue;
                    }
                }
            } finally {
                txLock.unlock();
            }

            emit(buf, n);

            if (job != null) {
                finish(job, n);
            }
        }
    }

    /** Writes {@code buf[0..n)} to the output; no lock held. */
    private void emit(byte[] buf, int n) {
        for (int i = 0; i < n; i++) {
            try {
                output.write(buf[i] & 0xFF);
            } catch (IOException | RuntimeException e) {
                droppedOutput.addAndGet(n - i);
                outputErrors.log(
                        Level.WARNING, "virtio-console: console output failed, %d bytes dropped: %s", n - i, e);
                return;
            }
            txBytes.incrementAndGet();
        }
        if (n > 0 && output instanceof Flushable f) {
            try {
                f.flush();
            } catch (IOException | RuntimeException e) {
                outputErrors.log(Level.WARNING, "virtio-console: console output flush failed: %s", e);
            }
        }
    }

    /** Accounts {@code n} written bytes to {@code job}; returns its chain once all its bytes are written. */
    private void finish(Pending job, int n) {
        boolean notify = false;
        VirtioInterrupt irq = null;
        txLock.lock();
        try {
            if (pending.peekFirst() != job || txQueue == null) {
                return; // reset or closed meanwhile: the chain is not the driver's business any more
            }
            job.offset += n;
            if (n == 0 || job.offset >= job.chain.readableLength()) {
                pending.removeFirst();
                txQueue.pushUsed(job.chain, 0);
                notify = txQueue.needsInterrupt();
                irq = txIrq;
            }
        } catch (VirtqueueException | RuntimeException e) {
            failTransmitLocked(e);
        } finally {
            txLock.unlock();
        }
        if (notify && irq != null) {
            irq.queue(TRANSMIT_QUEUE);
        }
    }

    /** txLock held: stop transmitting until reset; the next transmitq notification reports it. */
    private void failTransmitLocked(Exception e) {
        txFailure = e instanceof VirtqueueException v ? v : new VirtqueueException("transmitq: " + e);
        pending.clear();
        guestErrors.log(Level.WARNING, "virtio-console: transmitq stopped: %s", e);
        if (e instanceof RuntimeException) {
            LOG.log(Level.DEBUG, "virtio-console transmit failure", e);
        }
    }
}
