package dev.jvmm.core.machine;

import static dev.jvmm.core.virtio.pci.ModernPciDriver.*;
import static dev.jvmm.core.virtio.pci.VirtioPciSpec.ISR_CONFIG;
import static dev.jvmm.core.virtio.pci.VirtioPciSpec.ISR_QUEUE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.pci.GuestPci;
import dev.jvmm.core.virtio.VirtioDeviceType;
import dev.jvmm.core.virtio.blk.VirtioBlk;
import dev.jvmm.core.virtio.blk.VirtioBlkSpec;
import dev.jvmm.core.virtio.console.VirtioConsole;
import dev.jvmm.core.virtio.pci.DriverRing;
import dev.jvmm.core.virtio.pci.DriverRing.Desc;
import dev.jvmm.core.virtio.pci.ModernPciDriver;
import dev.jvmm.core.virtio.pci.VirtioPciTransport;
import dev.jvmm.core.virtio.queue.HostileRings;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * The guest's driver for one virtio function of the fuzzed machine, talking to it only through the MMIO bus (ECAM and
 * the BARs the guest assigned, {@link GuestPci.Assigned}), with its queues in its own megabyte of guest RAM:
 * <pre>
 *   +0x00000 + q * 0x8000   queue q: descriptor table, available ring, used ring (DriverRing layout)
 *   +0x40000                indirect tables ({@link HostileRings} points there)
 *   +0x80000 .. +0x100000   buffers
 * </pre>
 * Two kinds of use: {@link #fuzz} (any thread, concurrently with everything else: well-formed and hostile driver
 * steps, nothing asserted except what holds whatever other threads do) and {@link #probeAndServe} (one thread, the
 * machine otherwise quiet: a complete driver bring-up and one request of each kind, everything asserted).
 */
final class VirtioTarget {
    static final long AREA_BYTES = 1 << 20;
    private static final long QUEUE_STRIDE = 0x8000;
    private static final long INDIRECT = 0x40000;
    private static final long DATA = 0x80000;
    private static final long DATA_BYTES = AREA_BYTES - DATA;

    final String name;
    final VirtioPciTransport transport;
    final GuestPci.Assigned function;
    final ModernPciDriver driver;
    private final FuzzMachine machine;
    private final GuestMemory mem;
    private final long area;
    private final int numQueues;
    private final int maxQueueSize;
    private final int firstSpi;
    /** The rings each queue was last given by a well-formed setup (racy by design: threads replace them). */
    private final AtomicReferenceArray<DriverRing> rings;
    /** Well-formed requests seen completed during the storm (the generator must reach the devices). */
    final LongAdder completed = new LongAdder();

    /**
     * @param firstSpi the v2m SPI (not INTID) of vector 0; vector v raises SPI {@code firstSpi + v}
     */
    VirtioTarget(
            FuzzMachine machine, VirtioPciTransport transport, GuestPci.Assigned function, long area, int firstSpi) {
        this.machine = machine;
        this.name = transport.name();
        this.transport = transport;
        this.function = function;
        this.driver = new ModernPciDriver(function);
        this.mem = machine.ram();
        this.area = area;
        this.numQueues = transport.device().numQueues();
        int max = 0;
        for (int q = 0; q < numQueues; q++)
            max = Math.max(max, transport.device().queueMaxSize(q));
        this.maxQueueSize = max;
        this.firstSpi = firstSpi;
        this.rings = new AtomicReferenceArray<>(numQueues);
    }

    VirtioDeviceType type() {
        return transport.device().type();
    }

    private long ringBase(int q) {
        return area + QUEUE_STRIDE * q;
    }

    private int intid(int vector) {
        return firstSpi + vector + 32;
    }

    // --- one thread, quiet machine: everything asserted ---------------------------------------------------------

    /**
     * Brings the device up as Linux's virtio_pci_modern does (reset, features, MSI-X to the v2m frame, every queue,
     * DRIVER_OK) and serves one request of each kind the device has, checking its result in guest RAM and that its
     * interrupt reached the GIC. After the storm this is the proof that no guest could wedge the device for good: a
     * reset always brings it back.
     */
    void probeAndServe(SplittableRandom rnd) {
        driver.enablePci();
        driver.enableMsix(false, v -> machine.v2mDoorbell(), this::intid);
        long offered = driver.deviceFeatures();
        // EVENT_IDX off, so that every completion interrupts and the interrupt check below cannot miss.
        driver.negotiate(offered & ~EVENT_IDX);
        assertEquals(numQueues, driver.configVector(numQueues), name + ": config vector");
        DriverRing[] fresh = new DriverRing[numQueues];
        for (int q = 0; q < numQueues; q++) {
            fresh[q] = new DriverRing(mem, ringBase(q), 16);
            assertEquals(q, driver.setupQueue(q, fresh[q], q), name + ": queue " + q + " vector");
            driver.enableQueue(q);
            rings.set(q, fresh[q]);
        }
        driver.addStatus(DRIVER_OK);
        assertEquals(ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK, driver.status(), name + ": status after bring-up");
        long buffers = area + DATA;
        switch (type()) {
            case ENTROPY -> serveEntropy(fresh[0], buffers);
            case BLOCK -> serveBlock(fresh[0], buffers, rnd);
            case CONSOLE -> serveConsole(fresh, buffers);
            default -> throw new AssertionError(name + ": no request for " + type());
        }
    }

    private void serveEntropy(DriverRing ring, long buf) {
        long before = machine.spiRaises(firstSpi);
        mem.write(buf, new byte[64]);
        int head = ring.offer(Desc.writable(buf, 64));
        driver.kick(0);
        assertEquals(new DriverRing.Used(head, 64), ring.awaitUsed(1), name + ": used element");
        awaitInterrupt(firstSpi, before);
    }

    private void serveBlock(DriverRing ring, long buf, SplittableRandom rnd) {
        VirtioBlk blk = (VirtioBlk) transport.device();
        long sector = rnd.nextLong(blk.capacity() - 8);
        byte[] pattern = new byte[4096];
        rnd.nextBytes(pattern);
        long header = buf, data = buf + 0x1000, status = buf + 0x3000, back = buf + 0x4000;
        long before = machine.spiRaises(firstSpi);

        blkHeader(header, VirtioBlkSpec.T_OUT, sector);
        mem.write(data, pattern);
        mem.write(status, new byte[] {(byte) 0xEE, (byte) 0xEE, (byte) 0xEE}); // one status byte per request
        ring.offer(Desc.readable(header, 16), Desc.readable(data, pattern.length), Desc.writable(status, 1));
        driver.kick(0);
        ring.awaitUsed(1);
        assertEquals(VirtioBlkSpec.S_OK, statusByte(status), name + ": OUT status");

        blkHeader(header + 16, VirtioBlkSpec.T_IN, sector);
        mem.write(back, new byte[pattern.length]);
        ring.offer(Desc.readable(header + 16, 16), Desc.writable(back, pattern.length), Desc.writable(status + 1, 1));
        driver.kick(0);
        assertEquals(pattern.length + 1, ring.awaitUsed(2).len(), name + ": IN used length");
        assertEquals(VirtioBlkSpec.S_OK, statusByte(status + 1), name + ": IN status");
        assertArrayEquals(pattern, mem.read(back, pattern.length), name + ": sector " + sector + " read back");

        blkHeader(header + 32, VirtioBlkSpec.T_GET_ID, 0);
        ring.offer(
                Desc.readable(header + 32, 16),
                Desc.writable(back, VirtioBlkSpec.ID_BYTES),
                Desc.writable(status + 2, 1));
        driver.kick(0);
        ring.awaitUsed(3);
        byte[] id = Arrays.copyOf(blk.backend().id().getBytes(StandardCharsets.US_ASCII), VirtioBlkSpec.ID_BYTES);
        assertArrayEquals(id, mem.read(back, VirtioBlkSpec.ID_BYTES), name + ": GET_ID");
        awaitInterrupt(firstSpi, before);
    }

    private void serveConsole(DriverRing[] fresh, long buf) {
        VirtioConsole console = (VirtioConsole) transport.device();
        DriverRing rx = fresh[VirtioConsole.RECEIVE_QUEUE];
        DriverRing tx = fresh[VirtioConsole.TRANSMIT_QUEUE];
        // The transmit thread may still finish a chunk of a chain the reset dropped; the chain below comes after it.
        long sent = console.txBytes();
        String text = "jvmm-fuzz " + name + "\n";
        byte[] out = text.getBytes(StandardCharsets.US_ASCII);
        mem.write(buf, out);
        tx.offer(Desc.readable(buf, out.length));
        driver.kick(VirtioConsole.TRANSMIT_QUEUE);
        tx.awaitUsed(1);
        assertTrue(console.txBytes() >= sent + out.length, name + ": bytes transmitted");
        assertTrue(machine.consoleShowed(text), name + ": transmitted bytes on the console");

        // Input typed during the storm may still wait in the backlog: the first buffer takes it (at most
        // DEFAULT_BACKLOG bytes), the fresh input lands in the next one.
        long before = machine.spiRaises(firstSpi + VirtioConsole.RECEIVE_QUEUE);
        rx.offer(Desc.writable(buf + 0x1000, 0x2000));
        rx.offer(Desc.writable(buf + 0x3000, 0x2000));
        driver.kick(VirtioConsole.RECEIVE_QUEUE);
        byte[] in = "typed".getBytes(StandardCharsets.US_ASCII);
        assertEquals(in.length, console.pushInput(in), name + ": input accepted");
        int used = rx.usedIdx();
        assertTrue(used == 1 || used == 2, name + ": receive buffers used: " + used);
        DriverRing.Used last = rx.usedElem(used - 1);
        assertEquals(in.length, last.len(), name + ": input length");
        assertArrayEquals(in, mem.read(buf + 0x1000 + 0x2000L * (used - 1), in.length), name + ": input bytes");
        awaitInterrupt(firstSpi + VirtioConsole.RECEIVE_QUEUE, before);
    }

    /**
     * Waits (at most 10 s) for an edge on {@code spi} after the {@code before} seen so far: a device publishes a used
     * entry first and interrupts after, possibly from its own thread.
     */
    private void awaitInterrupt(int spi, long before) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (machine.spiRaises(spi) <= before) {
            assertTrue(System.nanoTime() < deadline, name + ": no interrupt reached the GIC on SPI " + spi);
            LockSupport.parkNanos(50_000);
        }
    }

    private void blkHeader(long at, int type, long sector) {
        mem.writeIntLE(at, type);
        mem.writeIntLE(at + 4, 0);
        mem.writeLongLE(at + 8, sector);
    }

    private int statusByte(long at) {
        VarHandle.acquireFence();
        return mem.read(at, 1)[0] & 0xFF;
    }

    // --- any thread, during the storm: nothing asserted that other threads can break ----------------------------

    /**
     * One driver step, chosen at random: a bring-up with well-formed or hostile queue settings, well-formed requests,
     * hostile ring contents, notifications of any width to any queue, reads of the common configuration, device
     * configuration, the PCI_CFG window, MSI-X programming, a reset.
     *
     * @param quiet whether no other thread runs: only then do reads through the BAR prove something about the device
     *              (another thread may have moved the BAR, so the read reached something else)
     */
    void fuzz(SplittableRandom rnd, HostileRings hostile, boolean quiet) {
        int q = rnd.nextInt(numQueues);
        switch (rnd.nextInt(20)) {
            case 0, 1, 2 -> bringUp(rnd);
            case 3, 4, 5, 6 -> request(rnd, q);
            case 7, 8 -> scribble(rnd, hostile, q);
            case 9, 10 -> notify(rnd);
            case 11, 12 -> readCommon(rnd, quiet);
            case 13 -> deviceConfig(rnd, quiet);
            case 14 -> pciCfgWindow(rnd);
            case 15 -> msix(rnd);
            case 16 -> driver.setStatus(rnd.nextInt(8) == 0 ? rnd.nextInt(256) : 0);
            default -> driver.kick(q);
        }
    }

    /** A bring-up that is mostly right: sizes, addresses, vectors and features sometimes wrong, some steps skipped. */
    private void bringUp(SplittableRandom rnd) {
        driver.setStatus(0);
        driver.setStatus(ACKNOWLEDGE);
        driver.setStatus(ACKNOWLEDGE | DRIVER);
        // Mostly a subset of what the device offers (FEATURES_OK then sticks), sometimes bits it never offered.
        long offered = transport.device().features() | VERSION_1 | INDIRECT_DESC | EVENT_IDX;
        long features = VERSION_1 | (offered & rnd.nextLong());
        if (rnd.nextInt(10) == 0) features = rnd.nextLong();
        driver.driverFeatures(features);
        driver.addStatus(FEATURES_OK);
        driver.write(MSIX_CONFIG, 2, rnd.nextInt(4) == 0 ? rnd.nextInt(0x10000) : numQueues);
        for (int q = 0; q < numQueues; q++) {
            if (rnd.nextInt(8) == 0) continue;
            int max = transport.device().queueMaxSize(q);
            int size = rnd.nextInt(10) == 0
                    ? rnd.nextInt(0x10000)
                    : 1 << rnd.nextInt(Integer.numberOfTrailingZeros(max) + 1);
            driver.write(Q_SELECT, 2, rnd.nextInt(16) == 0 ? rnd.nextInt(0x10000) : q);
            driver.write(Q_SIZE, 2, size);
            long desc, avail, used;
            if (rnd.nextInt(5) != 0 && Integer.bitCount(size) == 1 && size <= max) {
                DriverRing ring = new DriverRing(mem, ringBase(q), size);
                rings.set(q, ring);
                desc = ring.desc;
                avail = ring.avail;
                used = ring.used;
            } else {
                desc = hostileRingAddress(rnd);
                avail = hostileRingAddress(rnd);
                used = hostileRingAddress(rnd);
            }
            driver.write(Q_DESCLO, 4, desc & 0xFFFF_FFFFL);
            driver.write(Q_DESCHI, 4, desc >>> 32);
            if (rnd.nextBoolean()) {
                driver.write(Q_AVAILLO, 8, avail);
            } else {
                driver.write(Q_AVAILLO, 4, avail & 0xFFFF_FFFFL);
                driver.write(Q_AVAILHI, 4, avail >>> 32);
            }
            driver.write(Q_USEDLO, 4, used & 0xFFFF_FFFFL);
            driver.write(Q_USEDHI, 4, used >>> 32);
            driver.write(Q_MSIX, 2, rnd.nextInt(4) == 0 ? rnd.nextInt(0x10000) : q);
            driver.write(Q_ENABLE, 2, rnd.nextInt(10) == 0 ? rnd.nextInt(0x10000) : 1);
        }
        if (rnd.nextInt(10) != 0) driver.addStatus(DRIVER_OK);
    }

    /** Ring addresses a broken driver gives: anywhere in RAM, misaligned, just outside RAM, or anywhere at all. */
    private long hostileRingAddress(SplittableRandom rnd) {
        return switch (rnd.nextInt(4)) {
            case 0 -> mem.base() + rnd.nextLong(mem.size());
            case 1 -> ringBase(rnd.nextInt(numQueues)) + rnd.nextInt(16);
            case 2 -> mem.end() - rnd.nextInt(0x2000);
            default -> rnd.nextLong();
        };
    }

    /** One to four requests of the device's own kind, well-formed (with random sizes), then a kick. */
    private void request(SplittableRandom rnd, int q) {
        DriverRing ring = rings.get(q);
        if (ring == null) return;
        int before = ring.usedIdx();
        int n = 1 + rnd.nextInt(4);
        for (int i = 0; i < n; i++) {
            long buf = area + DATA + (rnd.nextLong(DATA_BYTES - 0x3000) & ~0xFL);
            switch (type()) {
                case ENTROPY -> ring.offer(Desc.writable(buf, 1 + rnd.nextInt(0x2000)));
                case BLOCK -> {
                    int[] types = {
                        VirtioBlkSpec.T_IN,
                        VirtioBlkSpec.T_OUT,
                        VirtioBlkSpec.T_FLUSH,
                        VirtioBlkSpec.T_GET_ID,
                        VirtioBlkSpec.T_DISCARD,
                        VirtioBlkSpec.T_WRITE_ZEROES,
                        99
                    };
                    int t = types[rnd.nextInt(types.length)];
                    long capacity = ((VirtioBlk) transport.device()).capacity();
                    blkHeader(buf, t, rnd.nextInt(20) == 0 ? rnd.nextLong() : rnd.nextLong(capacity));
                    int len = 512 * (1 + rnd.nextInt(8));
                    Desc data = t == VirtioBlkSpec.T_IN || t == VirtioBlkSpec.T_GET_ID
                            ? Desc.writable(buf + 16, len)
                            : Desc.readable(buf + 16, len);
                    ring.offer(Desc.readable(buf, 16), data, Desc.writable(buf + 16 + len, 1));
                }
                case CONSOLE -> {
                    int len = 1 + rnd.nextInt(256);
                    ring.offer(q == VirtioConsole.TRANSMIT_QUEUE ? Desc.readable(buf, len) : Desc.writable(buf, len));
                }
                default -> {}
            }
        }
        driver.kick(q);
        VarHandle.acquireFence();
        if (ring.usedIdx() != before) completed.increment();
    }

    /** Noise and near-misses in the descriptor table and available ring of queue {@code q}, then a kick. */
    private void scribble(SplittableRandom rnd, HostileRings hostile, int q) {
        DriverRing ring = rings.get(q);
        if (ring == null) return;
        hostile.noise(rnd.nextBoolean() ? 3 : 40);
        hostile.descriptors(ring.desc, 16 * ring.size, ring.size);
        if (rnd.nextInt(4) == 0) hostile.descriptors(area + INDIRECT, 0x4000, 64);
        hostile.avail(ring.avail, ring.size);
        driver.kick(q);
    }

    /** HostileRings for this device's area: well-formed descriptors point into its buffers and indirect tables. */
    HostileRings hostileRings(SplittableRandom rnd) {
        return new HostileRings(mem, rnd, area + DATA, DATA_BYTES, area + INDIRECT);
    }

    /** A notify write of any width at any slot of the notify structure, known queue or not. */
    private void notify(SplittableRandom rnd) {
        long slot = rnd.nextInt(4) == 0 ? rnd.nextInt(0x1000) : 4L * rnd.nextInt(numQueues + 1);
        int size = 1 << rnd.nextInt(4);
        function.barWrite(VirtioPciTransport.REGS_BAR, VirtioPciTransport.NOTIFY_OFFSET + slot, size, rnd.nextLong());
    }

    /**
     * Reads the common configuration, the ISR and queue fields of a random queue; with {@code quiet} (and the BAR
     * where the driver put it) checks what holds whatever the guest wrote before (virtio 1.2 §4.1.4.3, §2.1).
     */
    private void readCommon(SplittableRandom rnd, boolean quiet) {
        driver.write(Q_SELECT, 2, rnd.nextInt(8) == 0 ? rnd.nextInt(0x10000) : rnd.nextInt(numQueues));
        long numQueuesRead = driver.read(NUM_QUEUES, 2);
        long status = driver.read(STATUS, 1);
        long size = driver.read(Q_SIZE, 2);
        long queueVector = driver.read(Q_MSIX, 2);
        long configVector = driver.read(MSIX_CONFIG, 2);
        long isr = driver.isr();
        driver.read(rnd.nextInt(0x40), 1 << rnd.nextInt(4)); // any width at any offset: answered, never thrown
        if (!quiet || !machine.barAt(function, VirtioPciTransport.REGS_BAR)) return;
        assertEquals(numQueues, numQueuesRead, name + ": num_queues");
        assertEquals(
                0,
                status & ~(ACKNOWLEDGE | DRIVER | DRIVER_OK | FEATURES_OK | NEEDS_RESET | FAILED),
                name + ": unknown status bits");
        assertTrue((status & DRIVER_OK) == 0 || (status & FEATURES_OK) != 0, name + ": DRIVER_OK without FEATURES_OK");
        // A queue_select beyond num_queues reads every queue field as 0.
        assertTrue(size == 0 || Long.bitCount(size) == 1 && size <= maxQueueSize, name + ": queue_size " + size);
        assertTrue(queueVector == NO_VECTOR || queueVector <= numQueues, name + ": queue_msix_vector " + queueVector);
        assertTrue(
                configVector == NO_VECTOR || configVector <= numQueues, name + ": config_msix_vector " + configVector);
        assertTrue(isr <= (ISR_QUEUE | ISR_CONFIG), name + ": ISR " + isr);
    }

    /** Device configuration reads and writes of any width and offset; quiet, the read-only fields stay put. */
    private void deviceConfig(SplittableRandom rnd, boolean quiet) {
        int size = 1 << rnd.nextInt(4);
        int offset = rnd.nextInt(0x40);
        if (rnd.nextBoolean()) {
            function.barWrite(
                    VirtioPciTransport.REGS_BAR, VirtioPciTransport.DEVICE_CFG_OFFSET + offset, size, rnd.nextLong());
        }
        long at = VirtioPciTransport.DEVICE_CFG_OFFSET;
        switch (type()) {
            case BLOCK -> {
                long capacity = function.barRead(VirtioPciTransport.REGS_BAR, at + VirtioBlkSpec.CFG_CAPACITY, 8);
                if (quiet && machine.barAt(function, VirtioPciTransport.REGS_BAR)) {
                    assertEquals(((VirtioBlk) transport.device()).capacity(), capacity, name + ": capacity");
                }
            }
            case CONSOLE -> {
                long ports = function.barRead(VirtioPciTransport.REGS_BAR, at + VirtioConsole.CONFIG_MAX_NR_PORTS, 4);
                if (quiet && machine.barAt(function, VirtioPciTransport.REGS_BAR)) {
                    assertEquals(1, ports, name + ": max_nr_ports");
                }
            }
            default -> function.barRead(VirtioPciTransport.REGS_BAR, at + offset, size);
        }
    }

    /** The PCI_CFG capability's window onto the BARs (§4.1.4.9), through ECAM: mostly at the common configuration
     *  and the notify slots, so the window path also kicks queues. */
    private void pciCfgWindow(SplittableRandom rnd) {
        int bar = rnd.nextInt(8) == 0 ? rnd.nextInt(256) : VirtioPciTransport.REGS_BAR;
        long offset = switch (rnd.nextInt(3)) {
            case 0 -> rnd.nextInt(0x38);
            case 1 -> VirtioPciTransport.NOTIFY_OFFSET + 4L * rnd.nextInt(numQueues + 1);
            default -> rnd.nextInt();
        };
        int length = rnd.nextInt(8) == 0 ? rnd.nextInt() : 1 << rnd.nextInt(3);
        driver.window(bar, offset, length);
        int size = 1 << rnd.nextInt(3);
        if (rnd.nextBoolean()) driver.windowRead(size);
        else driver.windowWrite(size, rnd.nextInt());
    }

    /** MSI-X as a driver programs it, with doorbells and SPIs mostly right, sometimes masked, sometimes garbage. */
    private void msix(SplittableRandom rnd) {
        switch (rnd.nextInt(4)) {
            case 0 ->
                driver.enableMsix(
                        rnd.nextInt(4) == 0,
                        v -> rnd.nextInt(8) == 0 ? rnd.nextLong() : machine.v2mDoorbell(),
                        v -> rnd.nextInt(8) == 0 ? rnd.nextInt() : intid(v));
            case 1 -> driver.unmask(rnd.nextInt(numQueues + 1));
            case 2 -> driver.pending(rnd.nextInt(numQueues + 1));
            default -> function.configWrite(driver.msixCap + 2, 2, rnd.nextInt(0x10000));
        }
    }

    @Override
    public String toString() {
        return name + " " + function;
    }
}
