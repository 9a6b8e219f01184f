package dev.jvmm.core.virtio.blk;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A disk in memory for the device tests, with knobs: read-only, which optional operations it supports, an
 * exception every read and write throws, a gate that holds reads and writes until released, and a barrier that
 * reads and writes must cross together (to prove they run in parallel). Counts what it was asked.
 */
final class FakeBackend implements BlockBackend {
    private final Arena arena = Arena.ofShared();
    final MemorySegment data;
    final String id;
    final boolean readOnly;
    volatile boolean discard = true;
    volatile boolean zeroes = true;
    volatile IOException failWith;
    volatile CountDownLatch entered;
    volatile CountDownLatch gate;
    volatile CyclicBarrier barrier;
    final AtomicInteger reads = new AtomicInteger();
    final AtomicInteger writes = new AtomicInteger();
    final AtomicInteger flushes = new AtomicInteger();
    final AtomicInteger running = new AtomicInteger();
    final AtomicInteger maxRunning = new AtomicInteger();
    final List<String> ops = Collections.synchronizedList(new ArrayList<>());
    volatile boolean closed;

    FakeBackend(long size, String id, boolean readOnly) {
        this.data = arena.allocate(size, 4096);
        this.id = id;
        this.readOnly = readOnly;
    }

    FakeBackend(long size) {
        this(size, "fake", false);
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public long size() {
        return data.byteSize();
    }

    @Override
    public boolean readOnly() {
        return readOnly;
    }

    private void enter(String op) throws IOException {
        ops.add(op);
        int now = running.incrementAndGet();
        maxRunning.accumulateAndGet(now, Math::max);
        try {
            CountDownLatch e = entered;
            if (e != null) e.countDown();
            CountDownLatch g = gate;
            if (g != null && !g.await(10, TimeUnit.SECONDS)) throw new IOException("gate never opened");
            CyclicBarrier b = barrier;
            if (b != null) b.await(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            if (e instanceof IOException io) throw io;
            throw new IOException("barrier: " + e, e);
        }
        IOException f = failWith;
        if (f != null) throw f;
    }

    private void leave() {
        running.decrementAndGet();
    }

    /** Makes the next reads and writes stop inside the backend, once {@link #entered} is open, until {@link #gate} opens. */
    void holdRequests() {
        entered = new CountDownLatch(1);
        gate = new CountDownLatch(1);
    }

    @Override
    public void read(List<MemorySegment> dst, long offset) throws IOException {
        reads.incrementAndGet();
        transfer("read", dst, offset, false);
    }

    @Override
    public void write(List<MemorySegment> src, long offset) throws IOException {
        writes.incrementAndGet();
        transfer("write", src, offset, true);
    }

    /** Copies between the disk from {@code offset} on and {@code segments}, one after the other. */
    private void transfer(String op, List<MemorySegment> segments, long offset, boolean toDisk) throws IOException {
        enter(op + " " + offset);
        try {
            long at = offset;
            for (MemorySegment s : segments) {
                if (toDisk) {
                    MemorySegment.copy(s, 0, data, at, s.byteSize());
                } else {
                    MemorySegment.copy(data, at, s, 0, s.byteSize());
                }
                at += s.byteSize();
            }
        } finally {
            leave();
        }
    }

    @Override
    public void flush() {
        flushes.incrementAndGet();
        ops.add("flush");
    }

    @Override
    public boolean supportsDiscard() {
        return discard;
    }

    @Override
    public void discard(long offset, long length) {
        ops.add("discard " + offset + "+" + length);
        data.asSlice(offset, length).fill((byte) 0);
    }

    @Override
    public boolean supportsWriteZeroes() {
        return zeroes;
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayUnmap) {
        ops.add("zeroes " + offset + "+" + length + (mayUnmap ? " unmap" : ""));
        data.asSlice(offset, length).fill((byte) 0);
    }

    @Override
    public void close() {
        closed = true;
    }

    /** Frees the memory; after the device is closed. */
    void free() {
        arena.close();
    }
}
