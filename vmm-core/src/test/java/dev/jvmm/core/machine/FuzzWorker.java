package dev.jvmm.core.machine;

import dev.jvmm.core.bus.AddressRange;
import dev.jvmm.core.bus.Bus;
import dev.jvmm.core.pci.GuestPci;
import dev.jvmm.core.pci.PcieHostBridge;
import dev.jvmm.core.virtio.pci.VirtioPciTransport;
import dev.jvmm.core.virtio.queue.HostileRings;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.SplittableRandom;

/**
 * One thread of the storm: {@code ops} operations drawn from its own random stream, each checked at once.
 *
 * <ul>
 *   <li>66% a single access of the bus: sizes 1, 2, 4, 8 (one in twenty invalid), mostly naturally aligned, reads
 *       and writes of noise, 0, all ones, single bits; at a region of the current map (BARs included, wherever they
 *       are now), the configuration space of a function the guest found, the BAR structures where the guest put
 *       them, the edges of every static part, the unclaimed gaps, the root buses, the ECAM of absent segments, or
 *       anywhere at all. Each one is checked by {@link FuzzMachine#checkRead}/{@link FuzzMachine#checkWrite}.</li>
 *   <li>28% a driver step on a virtio device ({@link VirtioTarget#fuzz}).</li>
 *   <li>2% console input from the host, into the PL011 or the virtio-console.</li>
 *   <li>2% a re-enumeration and BAR assignment of one host bridge, as firmware would (keeps the devices reachable
 *       after hostile configuration writes, and races them).</li>
 *   <li>0.5% on a single thread: everything re-enumerated and one device brought up and served, asserted
 *       ({@link VirtioTarget#probeAndServe}); more accesses on several threads.</li>
 * </ul>
 *
 * Nothing a worker decides depends on what it reads, so its operations are a function of its seed alone.
 */
final class FuzzWorker implements Runnable {
    private static final int[] INVALID_SIZES = {0, 3, 5, 6, 7, 9, 12, 16, -1, Integer.MIN_VALUE};
    private static final int TRACE = 24;
    private static final int READ = 0, WRITE = 1, VIRTIO = 2, HOST = 3, RECOVER = 4, PROBE = 5;
    private static final String[] OP_NAMES = {"read", "write", "virtio", "host input", "recover", "probe"};
    private static final ThreadLocal<FuzzWorker> CURRENT = new ThreadLocal<>();

    private final FuzzMachine m;
    private final int id;
    private final long ops;
    private final SplittableRandom rnd;
    private final boolean quiet;
    private final MmioBusFuzzTest.Run run;
    private final Bus bus;
    private final Map<VirtioTarget, HostileRings> hostile = new HashMap<>();
    private List<Bus.Region> regions = List.of();
    private volatile long done;

    // The last operations, for the failure message: kind, address (or target), size, value.
    private final int[] traceKind = new int[TRACE];
    private final long[] traceAddress = new long[TRACE];
    private final int[] traceSize = new int[TRACE];
    private final long[] traceValue = new long[TRACE];
    private long traced;

    /**
     * @param quiet the only thread: quiesces the devices after each operation (exact replay) and checks what only
     *              holds without concurrent changes
     */
    FuzzWorker(FuzzMachine m, int id, long ops, SplittableRandom rnd, boolean quiet, MmioBusFuzzTest.Run run) {
        this.m = m;
        this.id = id;
        this.ops = ops;
        this.rnd = rnd;
        this.quiet = quiet;
        this.run = run;
        this.bus = m.bus();
    }

    /** Operations finished so far (read by the watchdog). */
    long done() {
        return done;
    }

    /**
     * Where the calling thread is, if it is a worker: its last operations (a device fault is logged on the thread
     * whose access caused it, so this names the culprit).
     */
    static String whereIsCurrentThread() {
        FuzzWorker w = CURRENT.get();
        return w == null ? "on thread " + Thread.currentThread().getName() : w.trace();
    }

    @Override
    public void run() {
        CURRENT.set(this);
        for (long op = 0; op < ops && !run.stopped(); op++) {
            try {
                if ((op & 0xFF) == 0) regions = bus.regions();
                step();
                if (quiet) m.quiesce();
            } catch (Throwable t) {
                run.fail("thread " + id + ", operation " + op + ": " + t + "\n" + trace(), t);
                return;
            }
            done = op + 1;
        }
    }

    private void step() {
        int k = rnd.nextInt(1000);
        if (k < 660) {
            access();
        } else if (k < 940) {
            VirtioTarget t = m.targets().get(rnd.nextInt(m.targets().size()));
            record(VIRTIO, m.targets().indexOf(t), 0, 0);
            t.fuzz(rnd, hostile.computeIfAbsent(t, x -> x.hostileRings(rnd)), quiet);
        } else if (k < 960) {
            byte[] bytes = new byte[1 + rnd.nextInt(64)];
            rnd.nextBytes(bytes);
            boolean virtio = rnd.nextBoolean();
            record(HOST, virtio ? 1 : 0, bytes.length, 0);
            m.typeInput(bytes, virtio);
        } else if (k < 980) {
            GuestPci g = m.guests().get(rnd.nextInt(m.guests().size()));
            record(RECOVER, m.guests().indexOf(g), 0, 0);
            g.assignBars(g.enumerate());
        } else if (k < 985 && quiet) {
            VirtioTarget t = m.targets().get(rnd.nextInt(m.targets().size()));
            record(PROBE, m.targets().indexOf(t), 0, 0);
            for (GuestPci g : m.guests()) g.assignBars(g.enumerate());
            t.probeAndServe(rnd);
        } else {
            access();
        }
    }

    private void access() {
        int size = size();
        long address = address();
        if (size > 0 && Integer.bitCount(size) == 1 && rnd.nextInt(4) != 0) address &= -size;
        if (rnd.nextInt(100) < 45) {
            long value = value();
            record(WRITE, address, size, value);
            m.checkWrite(address, size, bus.write(address, size, value));
        } else {
            record(READ, address, size, 0);
            OptionalLong result = bus.read(address, size);
            m.checkRead(address, size, result, quiet);
        }
    }

    private int size() {
        return rnd.nextInt(20) == 0 ? INVALID_SIZES[rnd.nextInt(INVALID_SIZES.length)] : 1 << rnd.nextInt(4);
    }

    private long value() {
        return switch (rnd.nextInt(8)) {
            case 0 -> 0;
            case 1 -> -1L;
            case 2 -> rnd.nextInt(256);
            case 3 -> 1L << rnd.nextInt(64);
            default -> rnd.nextLong();
        };
    }

    private long address() {
        switch (rnd.nextInt(20)) {
            case 0, 1, 2, 3, 4, 5 -> {
                if (regions.isEmpty()) return rnd.nextLong();
                AddressRange r = regions.get(rnd.nextInt(regions.size())).range();
                return r.base() + offset(r.size());
            }
            case 6, 7, 8, 9 -> {
                GuestPci.Found f = m.found().get(rnd.nextInt(m.found().size()));
                return m.guestOf(f).address(f.bus(), f.device(), f.function(), register());
            }
            case 10, 11, 12 -> {
                GuestPci.Assigned v = m.assigned().get(rnd.nextInt(m.assigned().size()));
                int bar = rnd.nextInt(6);
                while (v.bar(bar) == 0) bar = (bar + 1) % 6;
                return v.bar(bar) + (bar == VirtioPciTransport.REGS_BAR ? virtioRegister() : rnd.nextInt(0x1000));
            }
            case 13, 14 -> {
                List<AddressRange> parts = m.staticRanges();
                AddressRange r = parts.get(rnd.nextInt(parts.size()));
                return (rnd.nextBoolean() ? r.base() : r.end()) + rnd.nextInt(33) - 16;
            }
            case 15, 16 -> {
                AddressRange g = m.gaps().get(rnd.nextInt(m.gaps().size()));
                return g.base() + offset(g.size());
            }
            case 17 -> {
                PcieHostBridge b = m.bridges().get(rnd.nextInt(m.bridges().size()));
                return b.ecam().base() + ((long) rnd.nextInt(32) << 15 | (long) rnd.nextInt(8) << 12 | register());
            }
            case 18 -> {
                AddressRange ecam = m.map().ecamArea();
                return ecam.base() + rnd.nextLong(ecam.size());
            }
            default -> {
                return rnd.nextBoolean() ? rnd.nextLong() : rnd.nextLong(1L << 40);
            }
        }
    }

    /** An offset into something {@code length} bytes long: mostly the registers at its start, sometimes its end. */
    private long offset(long length) {
        return switch (rnd.nextInt(8)) {
            case 0, 1, 2, 3 -> rnd.nextLong(Math.min(length, 0x100));
            case 4 -> length - 1 - rnd.nextLong(Math.min(length, 16));
            case 5 -> rnd.nextLong(Math.min(length, 0x1000));
            default -> rnd.nextLong(length);
        };
    }

    /** A configuration register: mostly the header (command, BARs, bus numbers, bridge control), then capabilities. */
    private int register() {
        return switch (rnd.nextInt(10)) {
            case 0, 1, 2, 3, 4, 5 -> rnd.nextInt(0x40);
            case 6, 7, 8 -> 0x40 + rnd.nextInt(0xC0);
            default -> rnd.nextInt(0x1000);
        };
    }

    /** An offset into the virtio BAR: mostly into one of its four structures. */
    private long virtioRegister() {
        return switch (rnd.nextInt(5)) {
            case 0 -> VirtioPciTransport.COMMON_OFFSET + rnd.nextInt(0x40);
            case 1 -> VirtioPciTransport.ISR_OFFSET + rnd.nextInt(8);
            case 2 -> VirtioPciTransport.DEVICE_CFG_OFFSET + rnd.nextInt(0x40);
            case 3 -> VirtioPciTransport.NOTIFY_OFFSET + rnd.nextInt(0x20);
            default -> rnd.nextLong(VirtioPciTransport.REGS_BAR_SIZE);
        };
    }

    private void record(int kind, long address, int size, long value) {
        int i = (int) (traced++ % TRACE);
        traceKind[i] = kind;
        traceAddress[i] = address;
        traceSize[i] = size;
        traceValue[i] = value;
    }

    /** The last operations, oldest first. */
    private String trace() {
        List<String> lines = new ArrayList<>();
        for (long n = Math.max(0, traced - TRACE); n < traced; n++) {
            int i = (int) (n % TRACE);
            String what = switch (traceKind[i]) {
                case READ ->
                    "read %d bytes at 0x%x (%s)".formatted(traceSize[i], traceAddress[i], where(traceAddress[i]));
                case WRITE ->
                    "write %d bytes of 0x%x at 0x%x (%s)"
                            .formatted(traceSize[i], traceValue[i], traceAddress[i], where(traceAddress[i]));
                case VIRTIO, PROBE -> OP_NAMES[traceKind[i]] + " " + m.targets().get((int) traceAddress[i]).name;
                case RECOVER ->
                    "recover " + m.guests().get((int) traceAddress[i]).bridge().name();
                default ->
                    "%s %d bytes to the %s"
                            .formatted(
                                    OP_NAMES[traceKind[i]],
                                    traceSize[i],
                                    traceAddress[i] == 1 ? "virtio-console" : "PL011");
            };
            lines.add("  " + what);
        }
        return "last operations of thread " + id + ":\n" + String.join("\n", lines);
    }

    /** What the bus maps at {@code address} now (not necessarily what it mapped then). */
    private String where(long address) {
        Bus.Region r = bus.regionAt(address);
        return r == null ? "nothing there now" : "now " + r.name();
    }
}
