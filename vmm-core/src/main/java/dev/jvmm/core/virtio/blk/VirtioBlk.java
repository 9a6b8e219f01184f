package dev.jvmm.core.virtio.blk;

import static dev.jvmm.core.virtio.blk.VirtioBlkSpec.*;

import dev.jvmm.core.bus.RateLimitedLogger;
import dev.jvmm.core.virtio.VirtioDevice;
import dev.jvmm.core.virtio.VirtioDeviceType;
import dev.jvmm.core.virtio.VirtioInterrupt;
import dev.jvmm.core.virtio.VirtioSpec;
import dev.jvmm.core.virtio.queue.DescriptorChain;
import dev.jvmm.core.virtio.queue.SplitQueue;
import dev.jvmm.core.virtio.queue.VirtqueueException;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The block device (virtio 1.2 §5.2) over a {@link BlockBackend}.
 *
 * <h2>What it offers</h2>
 * <ul>
 *   <li>SEG_MAX ({@value #SEG_MAX}: a chain of the {@value #QUEUE_SIZE}-entry queue minus header and status, as
 *       QEMU), BLK_SIZE ({@value #BLK_SIZE}), FLUSH, MQ ({@code num_queues} queues of {@value #QUEUE_SIZE}), RO
 *       for a read-only backend, and on a writable one DISCARD and WRITE_ZEROES when the backend supports them
 *       (up to {@value #MAX_DISCARD_SEG} segments of up to {@value #MAX_DISCARD_SECTORS} sectors per request;
 *       discards aligned to {@value #DISCARD_SECTOR_ALIGNMENT} sectors, the usual host file system block).
 *       Not offered: SIZE_MAX (no limit on a segment's size), GEOMETRY, TOPOLOGY, CONFIG_WCE (the cache is
 *       writeback while FLUSH is negotiated), LIFETIME, SECURE_ERASE, ZONED.</li>
 *   <li>Durability (§5.2.6.4): with FLUSH negotiated, a completed FLUSH means every write completed before it is
 *       on stable storage ({@link BlockBackend#flush}, fdatasync for a file). A driver that was offered FLUSH but
 *       did not accept it gets write-through: each write, discard and write-zeroes flushes before it completes
 *       (case 1 of §5.2.6.4).</li>
 * </ul>
 *
 * <h2>Requests (§5.2.6)</h2>
 * The 16-byte header {type, reserved, sector} starts the device-readable part, the status byte is the last byte
 * of the device-writable part, the data lies between; the framing of buffers is free (a header split over
 * descriptors, data sharing a buffer with the status all work). IN, OUT, FLUSH, GET_ID, DISCARD and WRITE_ZEROES
 * are served; any other type completes with UNSUPP, as does DISCARD or WRITE_ZEROES when not negotiated, and a
 * segment with unknown flags (or UNMAP on a discard). IOERR, with nothing done: a header shorter than 16 bytes;
 * IN/OUT data not a multiple of 512 bytes or longer than {@value #MAX_REQUEST_SECTORS} sectors; a sector range
 * past the capacity (unsigned, overflow included); OUT, DISCARD or WRITE_ZEROES on a read-only disk; a
 * discard/write-zeroes payload that is empty, not whole segments, more segments than offered or a segment past
 * the capacity or over the sector limit. A chain without any device-writable byte has nowhere to put a status: it
 * is returned with 0 bytes and nothing done. A backend failure completes that request with IOERR. Nothing a guest
 * sends throws into the transport or stops the device. The used length is what the device wrote: the data of an
 * IN or GET_ID plus the status byte (only the status byte for a failed request).
 *
 * <h2>Threads</h2>
 * {@link #queueNotified} (the transport's thread: vCPU or event loop, queue lock held) only pops chains and hands
 * each to a pool of {@code ioThreads} platform threads, so requests run in parallel, across queues and within
 * one. A request's I/O goes straight between the backend and guest RAM. Its completion is queued on its queue's
 * lane; the thread that finishes a request takes the lane lock, pushes every queued completion (so completions
 * that pile up are published as a batch), asks {@link SplitQueue#needsInterrupt} once, and raises the interrupt
 * after releasing the lock. The lane lock is also held by {@code queueNotified} while it pops, which is how pushes
 * serialise with pops as {@link VirtioDevice} requires; the transport's own locks are never taken on an I/O
 * thread. Requests in flight are bounded by the queues: a split queue never hands out more than its size of
 * chains, so at most {@code numQueues × 256} requests wait in the pool.
 *
 * <h2>Reset, flush, close</h2>
 * {@link #reset} forgets the queues, then waits up to {@value #DRAIN_SECONDS} s for the requests in flight to
 * finish and drops their completions: after it returns nothing touches the old rings, and (unless the wait timed
 * out, which is logged) no I/O writes guest RAM for the old driver. {@link #flush} waits the same way for the
 * requests in flight, then flushes the backend. {@link #close} (the machine's shutdown, after the vCPUs stopped and
 * before guest RAM is unmapped) stops taking requests (later ones fail with IOERR at once), lets the pool finish
 * what it has (up to {@value #DRAIN_SECONDS} s), flushes a writable backend and closes it; the device owns its
 * backend.
 */
public final class VirtioBlk implements VirtioDevice, AutoCloseable {
    public static final int QUEUE_SIZE = 256;
    public static final int SEG_MAX = QUEUE_SIZE - 2;
    public static final int BLK_SIZE = 512;
    /** The longest IN/OUT: just under 2 GiB, so the used length fits (QEMU's BDRV_REQUEST_MAX_SECTORS). */
    public static final int MAX_REQUEST_SECTORS = Integer.MAX_VALUE >> SECTOR_SHIFT;

    public static final int MAX_DISCARD_SECTORS = MAX_REQUEST_SECTORS;
    public static final int MAX_DISCARD_SEG = 32;
    public static final int MAX_WRITE_ZEROES_SECTORS = MAX_REQUEST_SECTORS;
    public static final int MAX_WRITE_ZEROES_SEG = 32;
    public static final int DISCARD_SECTOR_ALIGNMENT = 4096 / SECTOR_SIZE;
    /** How long reset, flush and close wait for requests in flight. */
    public static final int DRAIN_SECONDS = 10;

    private static final System.Logger LOG = System.getLogger(VirtioBlk.class.getName());

    /** One activation: what a request needs to know, and the identity completions are checked against. */
    private record Active(long features, VirtioInterrupt interrupt, boolean writeThrough) {}

    /** A finished request waiting to be pushed to its queue. */
    private record Done(Active owner, DescriptorChain chain, int written) {}

    /** Per queue: the lock that serialises pops and pushes, the queue while active, finished requests. */
    private static final class Lane {
        final ReentrantLock lock = new ReentrantLock();
        final ConcurrentLinkedQueue<Done> done = new ConcurrentLinkedQueue<>();
        Active owner; // guarded by lock; null while not active or the queue is not enabled
        SplitQueue queue; // guarded by lock
    }

    private final BlockBackend backend;
    private final String name;
    private final int numQueues;
    private final int ioThreads;
    private final long capacity;
    private final long features;
    private final byte[] config;
    private final byte[] id;
    private final Lane[] lanes;
    private final ThreadPoolExecutor pool;
    private final RateLimitedLogger guestErrors = new RateLimitedLogger(LOG);
    private final RateLimitedLogger ioErrors = new RateLimitedLogger(LOG);
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile Active active;

    private final Object idle = new Object();
    private int running; // requests popped and not yet pushed or dropped; guarded by idle

    /** A device with {@code numQueues} queues and {@link #defaultIoThreads} I/O threads. */
    public VirtioBlk(BlockBackend backend, int numQueues) {
        this(backend, numQueues, defaultIoThreads(numQueues));
    }

    /**
     * @param backend   the disk; the device owns it from now on and closes it in {@link #close}
     * @param numQueues request queues (MQ), 1 to 65535; the machine gives one per vCPU (the transport takes at
     *                  most 1024)
     * @param ioThreads the I/O pool's size, at least 1; threads start on demand and end after 30 s idle
     */
    public VirtioBlk(BlockBackend backend, int numQueues, int ioThreads) {
        this.backend = Objects.requireNonNull(backend, "backend");
        if (numQueues < 1 || numQueues > 0xFFFF) {
            throw new IllegalArgumentException("virtio-blk with " + numQueues + " queues; 1-65535 supported");
        }
        if (ioThreads < 1) throw new IllegalArgumentException("virtio-blk with " + ioThreads + " I/O threads");
        this.name = "virtio-blk " + backend.id();
        this.numQueues = numQueues;
        this.ioThreads = ioThreads;
        this.capacity = Math.max(0, backend.size()) >>> SECTOR_SHIFT;
        boolean ro = backend.readOnly();
        boolean discard = !ro && backend.supportsDiscard();
        boolean zeroes = !ro && backend.supportsWriteZeroes();
        long f =
                VirtioSpec.bit(F_SEG_MAX) | VirtioSpec.bit(F_BLK_SIZE) | VirtioSpec.bit(F_FLUSH) | VirtioSpec.bit(F_MQ);
        if (ro) f |= VirtioSpec.bit(F_RO);
        if (discard) f |= VirtioSpec.bit(F_DISCARD);
        if (zeroes) f |= VirtioSpec.bit(F_WRITE_ZEROES);
        this.features = f;
        this.config = new byte[CONFIG_SIZE];
        putLe(config, CFG_CAPACITY, 8, capacity);
        putLe(config, CFG_SEG_MAX, 4, SEG_MAX);
        putLe(config, CFG_BLK_SIZE, 4, BLK_SIZE);
        putLe(config, CFG_NUM_QUEUES, 2, numQueues);
        if (discard) {
            putLe(config, CFG_MAX_DISCARD_SECTORS, 4, MAX_DISCARD_SECTORS);
            putLe(config, CFG_MAX_DISCARD_SEG, 4, MAX_DISCARD_SEG);
            putLe(config, CFG_DISCARD_SECTOR_ALIGNMENT, 4, DISCARD_SECTOR_ALIGNMENT);
        }
        if (zeroes) {
            putLe(config, CFG_MAX_WRITE_ZEROES_SECTORS, 4, MAX_WRITE_ZEROES_SECTORS);
            putLe(config, CFG_MAX_WRITE_ZEROES_SEG, 4, MAX_WRITE_ZEROES_SEG);
            config[CFG_WRITE_ZEROES_MAY_UNMAP] = (byte) (backend.writeZeroesMayUnmap() ? 1 : 0);
        }
        this.id = idBytes(backend.id());
        this.lanes = new Lane[numQueues];
        for (int q = 0; q < numQueues; q++) lanes[q] = new Lane();
        this.pool = new ThreadPoolExecutor(
                ioThreads,
                ioThreads,
                30,
                TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(),
                Thread.ofPlatform()
                        .daemon()
                        .name(name.replace(' ', '-') + "-io-", 0)
                        .factory());
        pool.allowCoreThreadTimeOut(true);
    }

    /** The default I/O pool: two threads per queue, at least 4 (some parallelism with one queue), at most 16. */
    public static int defaultIoThreads(int numQueues) {
        return (int) Math.clamp(2L * numQueues, 4, 16);
    }

    /** GET_ID's 20 bytes: the id's printable ASCII (others become '?'), NUL-padded, truncated. */
    private static byte[] idBytes(String id) {
        byte[] out = new byte[ID_BYTES];
        byte[] ascii = id.getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < Math.min(ID_BYTES, ascii.length); i++) {
            out[i] = ascii[i] >= 0x20 && ascii[i] < 0x7F ? ascii[i] : (byte) '?';
        }
        return out;
    }

    private static void putLe(byte[] b, int at, int size, long v) {
        for (int i = 0; i < size; i++) b[at + i] = (byte) (v >>> (8 * i));
    }

    // --- VirtioDevice -------------------------------------------------------------------------------------------

    @Override
    public VirtioDeviceType type() {
        return VirtioDeviceType.BLOCK;
    }

    @Override
    public long features() {
        return features;
    }

    @Override
    public int numQueues() {
        return numQueues;
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
        long v = 0;
        for (int i = 0; i < size && offset + i < CONFIG_SIZE; i++) {
            int b = config[offset + i] & 0xFF;
            if (offset + i == CFG_WRITEBACK) {
                Active a = active; // informational without CONFIG_WCE: writeback while FLUSH is negotiated
                b = a != null && !a.writeThrough() ? 1 : 0;
            }
            v |= (long) b << (8 * i);
        }
        return v;
    }

    // writeConfig: every field is read-only without CONFIG_WCE; the default ignores writes.

    @Override
    public void activate(long negotiated, List<SplitQueue> queues, VirtioInterrupt interrupt) {
        Objects.requireNonNull(interrupt, "interrupt");
        Active a = new Active(negotiated, interrupt, (negotiated & VirtioSpec.bit(F_FLUSH)) == 0);
        active = a;
        for (int q = 0; q < numQueues; q++) {
            SplitQueue sq = q < queues.size() ? queues.get(q) : null;
            Lane lane = lanes[q];
            lane.lock.lock();
            try {
                boolean on = sq != null && sq.isEnabled();
                lane.owner = on ? a : null;
                lane.queue = on ? sq : null;
            } finally {
                lane.lock.unlock();
            }
        }
    }

    @Override
    public void queueNotified(int q) throws VirtqueueException {
        if (q < 0 || q >= numQueues) return;
        Lane lane = lanes[q];
        lane.lock.lock();
        try {
            Active a = lane.owner;
            SplitQueue queue = lane.queue;
            if (a == null || queue == null) return;
            do {
                queue.disableNotifications();
                for (Optional<DescriptorChain> c; (c = queue.pop()).isPresent(); ) {
                    submit(a, q, c.get());
                }
            } while (queue.enableNotifications());
        } finally {
            lane.lock.unlock();
        }
    }

    /**
     * Forgets the queues and the interrupt, then waits (at most {@value #DRAIN_SECONDS} s) for the requests in
     * flight: they finish their I/O, and their completions are dropped (the driver forgot those chains). Later
     * kicks find no queue until {@link #activate}.
     */
    @Override
    public void reset() {
        active = null;
        for (Lane lane : lanes) {
            lane.lock.lock();
            try {
                lane.owner = null;
                lane.queue = null;
            } finally {
                lane.lock.unlock();
            }
        }
        if (!awaitIdle()) {
            LOG.log(
                    Level.WARNING,
                    "{0}: reset: {1} requests still running after {2} s; their completions will be "
                            + "dropped, but their I/O may still write guest memory",
                    name,
                    inFlight(),
                    DRAIN_SECONDS);
        }
    }

    // --- machine API ----------------------------------------------------------------------------------------------

    /**
     * Waits (at most {@value #DRAIN_SECONDS} s) for the requests in flight, then makes every completed write
     * durable. The device keeps running. Meant for a stopped guest (shutdown, snapshot): under steady guest I/O
     * the pool may never be idle, and the call then waits the whole time before it flushes.
     *
     * @throws IOException the backend's flush failed: writes may have been lost
     */
    public void flush() throws IOException {
        if (!awaitIdle()) {
            LOG.log(
                    Level.WARNING,
                    "{0}: flush: {1} requests still running after {2} s",
                    name,
                    inFlight(),
                    DRAIN_SECONDS);
        }
        backend.flush();
    }

    /**
     * Shuts the device down: requests that arrive from now on fail with IOERR at once; those in flight complete
     * (the pool gets {@value #DRAIN_SECONDS} s); then a writable backend is flushed and the backend closed. If
     * requests are still running after the wait, the backend is flushed but left open (closing a file under a
     * running I/O could let it hit a reused fd). Idempotent.
     *
     * @throws IOException the final flush (or the close) failed: writes may have been lost
     */
    @Override
    public void close() throws IOException {
        if (!closed.compareAndSet(false, true)) return;
        pool.shutdown();
        boolean finished;
        try {
            finished = pool.awaitTermination(DRAIN_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            finished = false;
        }
        if (!finished) {
            LOG.log(
                    Level.WARNING,
                    "{0}: close: {1} requests still running after {2} s; the disk stays open",
                    name,
                    inFlight(),
                    DRAIN_SECONDS);
        }
        IOException failure = null;
        try {
            backend.flush();
        } catch (IOException e) {
            failure = e;
        }
        if (finished) {
            try {
                backend.close();
            } catch (IOException e) {
                if (failure == null) failure = e;
                else failure.addSuppressed(e);
            }
        }
        if (failure != null) throw failure;
    }

    /** The backend (owned by the device). */
    public BlockBackend backend() {
        return backend;
    }

    /** Capacity in 512-byte sectors. */
    public long capacity() {
        return capacity;
    }

    /** The I/O pool's size. */
    public int ioThreads() {
        return ioThreads;
    }

    /** Requests popped and not yet returned (or dropped). */
    public int inFlight() {
        synchronized (idle) {
            return running;
        }
    }

    // --- request flow ---------------------------------------------------------------------------------------------

    /** Lane lock held (queueNotified). */
    private void submit(Active a, int q, DescriptorChain chain) {
        synchronized (idle) {
            running++;
        }
        try {
            if (closed.get()) throw new RejectedExecutionException("closed");
            int written = readCached(chain);
            if (written >= 0) {
                complete(q, new Done(a, chain, written));
                return;
            }
            pool.execute(() -> run(a, q, chain));
        } catch (RejectedExecutionException e) {
            // Closed: fail it here. The lane lock is reentrant; the interrupt is deferred by the transport.
            complete(q, new Done(a, chain, status(chain, S_IOERR)));
        }
    }

    /**
     * Serves a well-formed read whose data the host page cache holds, here on the notifying thread: no hand-off to
     * the pool, whose queueing and thread wake-up cost more than the copy (docs/perf.md, virtio-blk). Returns the
     * bytes written into the chain, or -1 for anything else (another type, a malformed request, data not cached,
     * an error): the pool then serves it the normal way, which also reports what is wrong.
     */
    private int readCached(DescriptorChain chain) {
        long writable = chain.writableLength();
        if (writable < 1 || chain.readableLength() < REQUEST_HEADER_SIZE) return -1;
        byte[] h = new byte[REQUEST_HEADER_SIZE];
        chain.read(0, h, 0, REQUEST_HEADER_SIZE);
        long bytes = writable - 1;
        long sector = le(h, 8, 8);
        if ((int) le(h, 0, 4) != T_IN
                || bytes == 0
                || (bytes & (SECTOR_SIZE - 1)) != 0
                || (bytes >>> SECTOR_SHIFT) > MAX_REQUEST_SECTORS
                || !inside(sector, bytes >>> SECTOR_SHIFT)) {
            return -1;
        }
        try {
            if (!backend.tryReadCached(slice(chain.writableSegments(), 0, bytes), sector << SECTOR_SHIFT)) return -1;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return (int) bytes + status(chain, S_OK);
    }

    private void run(Active a, int q, DescriptorChain chain) {
        int written = 0;
        try {
            written = serve(a, chain);
        } catch (Throwable t) {
            LOG.log(Level.ERROR, name + ": request failed unexpectedly", t);
            written = status(chain, S_IOERR);
        } finally {
            complete(q, new Done(a, chain, written));
        }
    }

    /** Queues the completion and publishes every queued one of the lane. */
    private void complete(int q, Done d) {
        Lane lane = lanes[q];
        lane.done.add(d);
        int handled = 0;
        boolean notify = false;
        VirtioInterrupt irq = null;
        lane.lock.lock();
        try {
            for (Done x; (x = lane.done.poll()) != null; ) {
                handled++;
                if (x.owner() != lane.owner) continue; // the device was reset since: drop it
                try {
                    lane.queue.pushUsed(x.chain(), x.written());
                } catch (VirtqueueException | RuntimeException e) {
                    LOG.log(Level.WARNING, name + ": returning a chain failed", e);
                }
            }
            if (handled > 0 && lane.owner != null) {
                notify = lane.queue.needsInterrupt();
                irq = lane.owner.interrupt();
            }
        } finally {
            lane.lock.unlock();
        }
        if (handled > 0) {
            synchronized (idle) {
                running -= handled;
                if (running == 0) idle.notifyAll();
            }
        }
        // Outside every lock, and after the request stopped counting: reset never waits on an interrupt sink.
        // The transport's handle is silent once the device was reset.
        if (notify) irq.queue(q);
    }

    private boolean awaitIdle() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(DRAIN_SECONDS);
        synchronized (idle) {
            while (running > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) return false;
                try {
                    TimeUnit.NANOSECONDS.timedWait(idle, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            return true;
        }
    }

    // --- requests (§5.2.6) ----------------------------------------------------------------------------------------

    /** Serves one request; returns the bytes written into the chain's writable part. Never throws for guest input. */
    private int serve(Active a, DescriptorChain chain) {
        long writable = chain.writableLength();
        if (writable == 0) {
            guestErrors.log(Level.WARNING, "%s: request without a writable status byte, returned unserved", name);
            return 0;
        }
        long readable = chain.readableLength();
        if (readable < REQUEST_HEADER_SIZE) {
            return refuse(chain, S_IOERR, "request header of %d bytes, 16 needed", readable);
        }
        byte[] h = new byte[REQUEST_HEADER_SIZE];
        chain.read(0, h, 0, REQUEST_HEADER_SIZE);
        int type = (int) le(h, 0, 4);
        long sector = le(h, 8, 8);
        long payload = readable - REQUEST_HEADER_SIZE; // driver data after the header
        long room = writable - 1; // device data before the status byte
        try {
            return switch (type) {
                case T_IN -> read(chain, sector, room);
                case T_OUT -> write(a, chain, sector, payload);
                case T_FLUSH -> {
                    backend.flush();
                    yield status(chain, S_OK);
                }
                case T_GET_ID -> {
                    int n = (int) Math.min(ID_BYTES, room);
                    chain.write(0, id, 0, n);
                    yield n + status(chain, S_OK);
                }
                case T_DISCARD -> ranges(a, chain, payload, false);
                case T_WRITE_ZEROES -> ranges(a, chain, payload, true);
                default -> refuse(chain, S_UNSUPP, "request type %d unsupported", type);
            };
        } catch (IOException e) {
            ioErrors.log(
                    Level.WARNING,
                    "%s: %s request at sector %d failed: %s",
                    name,
                    typeName(type),
                    sector,
                    e.getMessage());
            return status(chain, S_IOERR);
        }
    }

    private int read(DescriptorChain chain, long sector, long bytes) throws IOException {
        if (!dataOk(bytes, sector, "IN")) return status(chain, S_IOERR);
        if (bytes > 0) backend.read(slice(chain.writableSegments(), 0, bytes), sector << SECTOR_SHIFT);
        return (int) bytes + status(chain, S_OK);
    }

    private int write(Active a, DescriptorChain chain, long sector, long bytes) throws IOException {
        if (backend.readOnly()) return refuse(chain, S_IOERR, "OUT to a read-only disk");
        if (!dataOk(bytes, sector, "OUT")) return status(chain, S_IOERR);
        if (bytes > 0) {
            long end = REQUEST_HEADER_SIZE + bytes;
            backend.write(slice(chain.readableSegments(), REQUEST_HEADER_SIZE, end), sector << SECTOR_SHIFT);
        }
        if (a.writeThrough()) backend.flush();
        return status(chain, S_OK);
    }

    /** IN/OUT data: whole sectors, within the request limit, inside the disk. Logs why not. */
    private boolean dataOk(long bytes, long sector, String what) {
        if ((bytes & (SECTOR_SIZE - 1)) != 0) {
            guestErrors.log(Level.WARNING, "%s: %s of %d bytes, not whole sectors", name, what, bytes);
            return false;
        }
        long sectors = bytes >>> SECTOR_SHIFT;
        if (sectors > MAX_REQUEST_SECTORS) {
            guestErrors.log(
                    Level.WARNING, "%s: %s of %d sectors, more than %d", name, what, sectors, MAX_REQUEST_SECTORS);
            return false;
        }
        if (!inside(sector, sectors)) {
            guestErrors.log(
                    Level.WARNING,
                    "%s: %s of %d sectors at sector %s, the disk has %d",
                    name,
                    what,
                    sectors,
                    Long.toUnsignedString(sector),
                    capacity);
            return false;
        }
        return true;
    }

    /** [sector, sector + sectors) lies inside the disk; {@code sector} is unsigned, {@code sectors} >= 0. */
    private boolean inside(long sector, long sectors) {
        return Long.compareUnsigned(sector, capacity) <= 0 && sectors <= capacity - sector;
    }

    /** DISCARD or WRITE_ZEROES: every segment is checked before any is done. */
    private int ranges(Active a, DescriptorChain chain, long payload, boolean zeroes) throws IOException {
        String what = zeroes ? "WRITE_ZEROES" : "DISCARD";
        if (backend.readOnly()) return refuse(chain, S_IOERR, "%s on a read-only disk", what);
        if ((a.features() & VirtioSpec.bit(zeroes ? F_WRITE_ZEROES : F_DISCARD)) == 0) {
            return refuse(chain, S_UNSUPP, "%s without the feature", what);
        }
        int maxSeg = zeroes ? MAX_WRITE_ZEROES_SEG : MAX_DISCARD_SEG;
        long maxSectors = zeroes ? MAX_WRITE_ZEROES_SECTORS : MAX_DISCARD_SECTORS;
        if (payload == 0 || payload % DISCARD_SEGMENT_SIZE != 0 || payload / DISCARD_SEGMENT_SIZE > maxSeg) {
            return refuse(
                    chain, S_IOERR, "%s payload of %d bytes: 1 to %d segments of 16 needed", what, payload, maxSeg);
        }
        int n = (int) (payload / DISCARD_SEGMENT_SIZE);
        byte[] segs = new byte[n * DISCARD_SEGMENT_SIZE];
        chain.read(REQUEST_HEADER_SIZE, segs, 0, segs.length);
        for (int i = 0; i < n; i++) {
            int flags = (int) le(segs, i * DISCARD_SEGMENT_SIZE + 12, 4);
            int allowed = zeroes ? WRITE_ZEROES_FLAG_UNMAP : 0; // §5.2.6.2: UNMAP on a discard is UNSUPP too
            if ((flags & ~allowed) != 0) {
                return refuse(chain, S_UNSUPP, "%s segment %d with flags 0x%x", what, i, flags);
            }
        }
        for (int i = 0; i < n; i++) {
            long sector = le(segs, i * DISCARD_SEGMENT_SIZE, 8);
            long sectors = le(segs, i * DISCARD_SEGMENT_SIZE + 8, 4);
            if (sectors > maxSectors || !inside(sector, sectors)) {
                return refuse(
                        chain,
                        S_IOERR,
                        "%s segment %d: %d sectors at sector %s, the disk has %d (at most %d)",
                        what,
                        i,
                        sectors,
                        Long.toUnsignedString(sector),
                        capacity,
                        maxSectors);
            }
        }
        boolean mayUnmap = backend.writeZeroesMayUnmap();
        for (int i = 0; i < n; i++) {
            long offset = le(segs, i * DISCARD_SEGMENT_SIZE, 8) << SECTOR_SHIFT;
            long length = le(segs, i * DISCARD_SEGMENT_SIZE + 8, 4) << SECTOR_SHIFT;
            if (zeroes) {
                int flags = (int) le(segs, i * DISCARD_SEGMENT_SIZE + 12, 4);
                backend.writeZeroes(offset, length, mayUnmap && (flags & WRITE_ZEROES_FLAG_UNMAP) != 0);
            } else {
                backend.discard(offset, length);
            }
        }
        if (a.writeThrough()) backend.flush();
        return status(chain, S_OK);
    }

    private int refuse(DescriptorChain chain, int status, String format, Object... args) {
        Object[] all = new Object[args.length + 1];
        all[0] = name; // an argument, not part of the format: a file name may hold a '%'
        System.arraycopy(args, 0, all, 1, args.length);
        guestErrors.log(Level.WARNING, "%s: " + format, all);
        return status(chain, status);
    }

    /** Writes the status as the last writable byte; returns 1 (the byte written), 0 if there is no such byte. */
    private static int status(DescriptorChain chain, int status) {
        long at = chain.writableLength() - 1;
        if (at < 0) return 0;
        try {
            return chain.write(at, new byte[] {(byte) status}, 0, 1);
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /** The bytes [from, to) of the concatenation of {@code segments}, as slices of them. */
    static List<MemorySegment> slice(List<MemorySegment> segments, long from, long to) {
        List<MemorySegment> out = new ArrayList<>(segments.size());
        long pos = 0;
        for (MemorySegment s : segments) {
            long start = pos;
            long end = pos + s.byteSize();
            pos = end;
            if (end <= from) continue;
            if (start >= to) break;
            long a = Math.max(from, start) - start;
            long b = Math.min(to, end) - start;
            if (b > a) out.add(s.asSlice(a, b - a));
        }
        return out;
    }

    private static long le(byte[] b, int at, int size) {
        long v = 0;
        for (int i = 0; i < size; i++) v |= (long) (b[at + i] & 0xFF) << (8 * i);
        return v;
    }

    private static String typeName(int type) {
        return switch (type) {
            case T_IN -> "IN";
            case T_OUT -> "OUT";
            case T_FLUSH -> "FLUSH";
            case T_GET_ID -> "GET_ID";
            case T_DISCARD -> "DISCARD";
            case T_WRITE_ZEROES -> "WRITE_ZEROES";
            default -> "type " + type;
        };
    }

    @Override
    public String toString() {
        return "VirtioBlk[" + backend.id() + ", " + capacity + " sectors, " + numQueues + " queues"
                + (backend.readOnly() ? ", read-only" : "") + "]";
    }
}
