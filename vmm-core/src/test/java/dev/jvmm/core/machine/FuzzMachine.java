package dev.jvmm.core.machine;

import static dev.jvmm.core.arch.aarch64.MemoryMap.MiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.jvmm.core.arch.aarch64.MemoryMap;
import dev.jvmm.core.bus.AddressRange;
import dev.jvmm.core.bus.BackgroundRegion;
import dev.jvmm.core.bus.Bus;
import dev.jvmm.core.devices.pvpanic.PvPanic;
import dev.jvmm.core.devices.serial.ConsoleOutput;
import dev.jvmm.core.irq.DeviceIdMapping;
import dev.jvmm.core.irq.GicMsiMode;
import dev.jvmm.core.irq.Gicv2mFrame;
import dev.jvmm.core.irq.IrqLine;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.pci.EcamRegion;
import dev.jvmm.core.pci.GuestPci;
import dev.jvmm.core.pci.PciTestDevice;
import dev.jvmm.core.pci.PcieConfig;
import dev.jvmm.core.pci.PcieConfig.DeviceKind;
import dev.jvmm.core.pci.PcieConfig.DeviceSpec;
import dev.jvmm.core.pci.PcieHost;
import dev.jvmm.core.pci.PcieHostBridge;
import dev.jvmm.core.virtio.blk.VirtioBlk;
import dev.jvmm.core.virtio.pci.VirtioPciTransport;
import dev.jvmm.kvm.ErrnoException;
import dev.jvmm.kvm.Mmap;
import dev.jvmm.pcie.Endpoint;
import dev.jvmm.pcie.EndpointFunction;
import dev.jvmm.pcie.PciFunction;
import dev.jvmm.pcie.config.ReadOnlyBits;
import dev.jvmm.pcie.msi.RequesterId;
import dev.jvmm.pcie.util.Sizes;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;

/**
 * The machine {@link Machine} builds, minus KVM, for {@link MmioBusFuzzTest}: the same {@link MachineBus} (PL011,
 * PL031, GICv2m frame, every ECAM window and BAR of the PCIe hierarchy) and the same {@link PcieDevices} (virtio-rng,
 * virtio-blk on a temporary file, virtio-console) over guest RAM in an anonymous mapping. What needs KVM is faked:
 * the SPI lines record their edges and check them ({@link Spis}); MSIs go through the emulated v2m frame (the ITS
 * lives in the kernel); queue notifications exit to the transport as they do while no ioeventfd is registered.
 *
 * <p>The hierarchy: root complex rc0 (segment 0, 256 buses) with a hot-plug root port left empty, a root port with a
 * three-port switch (a two-function test endpoint, an empty port, a virtio-rng), the virtio-console as an integrated
 * endpoint on the root bus and a second virtio-rng on a root port of its own (as {@code --rng} without port=); root
 * complex rc3 (segment 3, 16 buses) with the virtio-blk and a test endpoint with a 64-bit BAR.
 *
 * <p>Besides the parts, it knows the guest's view (what the enumeration found, where the BARs went, the drivers) and
 * the invariants: {@link #checkRead}/{@link #checkWrite} for single accesses and {@link #checkAfterStorm} for the
 * machine once the threads are done.
 */
final class FuzzMachine implements AutoCloseable {
    static final long RAM_BYTES = 64 * MiB;
    static final long DISK_BYTES = MiB;
    /** Guest RAM from here holds the drivers' queues and buffers, a megabyte per device; the rest is for noise. */
    private static final long DRIVER_AREAS = MemoryMap.RAM_BASE + 16 * MiB;
    /** v2m SPIs per device: one per MSI-X vector (at most 3 here) and room to spare. */
    private static final int SPIS_PER_DEVICE = 8;

    private static final long QUIESCE_NANOS = TimeUnit.SECONDS.toNanos(30);

    // PrimeCell identification registers, as the TRMs give them (PL011: DDI 0183 §3.3.16-17; PL031: DDI 0224
    // §3.3.9-10).
    private static final int[] PL011_PERIPH_ID = {0x11, 0x10, 0x04, 0x00};
    private static final int[] PL031_PERIPH_ID = {0x31, 0x10, 0x04, 0x00};
    private static final int[] PRIMECELL_ID = {0x0D, 0xF0, 0x05, 0xB1};

    /** What a static part of the address space is, for the access invariants. */
    enum Kind {
        UART,
        RTC,
        PVPANIC,
        V2M,
        ECAM,
        ECAM_UNASSIGNED,
        WINDOW,
        UNCLAIMED,
        STRADDLING
    }

    private record Part(Kind kind, AddressRange range, PcieHostBridge bridge) {}

    private final Arena arena;
    private final GuestMemory ram;
    private final MemoryMap map;
    private final Spis spis = new Spis();
    private final ConsoleTail consoleTail = new ConsoleTail();
    private final PcieDevices devices;
    private final PcieHost pcie;
    private final MachineBus machineBus;
    private final Gicv2mFrame v2m;

    // The guest's view, set up by setUp() on one thread before the storm; read-only afterwards.
    private final List<GuestPci> guests = new ArrayList<>();
    private final Map<GuestPci, List<String>> firstEnumeration = new HashMap<>();
    private final List<GuestPci.Found> found = new ArrayList<>();
    private final Map<GuestPci.Found, GuestPci> foundOn = new IdentityHashMap<>();
    private final List<GuestPci.Assigned> assigned = new ArrayList<>();
    private final Map<GuestPci.Assigned, PciFunction> functionOf = new IdentityHashMap<>();
    private final List<VirtioTarget> targets = new ArrayList<>();
    private final List<ReadOnlyBits> readOnly = new ArrayList<>();
    private final LongAdder pvpanicReports = new LongAdder();
    private final List<String> readOnlyNames = new ArrayList<>();
    /** Per host bridge: the root bus's functions (device << 3 | function) and their vendor/device id. */
    private final Map<PcieHostBridge, Map<Integer, Integer>> rootBus = new IdentityHashMap<>();

    private final List<Part> parts = new ArrayList<>();
    private final List<AddressRange> gaps = new ArrayList<>();
    private final LongAdder[] checked = new LongAdder[Kind.values().length];

    private FuzzMachine(Path disk, SplittableRandom entropy) throws ErrnoException {
        map = MemoryMap.create(4, RAM_BYTES, 40);
        arena = Arena.ofShared();
        ram = new GuestMemory(MemoryMap.RAM_BASE, Mmap.anonymous(RAM_BYTES, arena));
        // As Machine: one console sink for the UART and the virtio-console, behind the panic watcher.
        ConsoleOutput console = new PanicWatcher(consoleTail);
        devices = new PcieDevices(ram, 2, console, entropy::split);
        pcie = PcieHost.create(topology(disk), map, devices::create);
        machineBus = MachineBus.assemble(
                pcie,
                console,
                GicMsiMode.V2M,
                DeviceIdMapping.forSegments(pcie.segments()),
                spis,
                (address, data, devid) -> {
                    throw new AssertionError("KVM_SIGNAL_MSI on a v2m machine");
                },
                new PvPanic.Listener() { // random writes hit the pvpanic register too: the machine only counts
                    @Override
                    public void panicked() {
                        pvpanicReports.increment();
                    }

                    @Override
                    public void crashLoaded() {
                        pvpanicReports.increment();
                    }
                });
        v2m = (Gicv2mFrame) machineBus.msi();
        for (int k = 0; k < checked.length; k++) checked[k] = new LongAdder();
    }

    /** Builds the machine with a {@link #DISK_BYTES} disk image in {@code dir}; {@code entropy} seeds the rngs. */
    static FuzzMachine create(Path dir, SplittableRandom entropy) throws IOException, ErrnoException {
        Path disk = dir.resolve("disk0.img");
        try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "rw")) {
            f.setLength(DISK_BYTES);
        }
        return new FuzzMachine(disk, entropy);
    }

    private static PcieConfig topology(Path disk) {
        return new PcieConfig(
                List.of(new PcieConfig.RootComplexSpec("rc0", 0, 256), new PcieConfig.RootComplexSpec("rc3", 3, 16)),
                List.of(
                        new PcieConfig.RootPortSpec("rc0", "rp0", true),
                                new PcieConfig.RootPortSpec("rc0", "rp1", false),
                        new PcieConfig.RootPortSpec("rc3", "rp2", false),
                                new PcieConfig.RootPortSpec("rc3", "rp3", true)),
                List.of(new PcieConfig.SwitchSpec("rp1", "sw0", 3, true)),
                List.of(
                        new PcieConfig.EndpointSpec("sw0.dp0", "ep0", 2),
                        new PcieConfig.EndpointSpec(
                                "rp3",
                                "ep1",
                                1,
                                PciTestDevice.VENDOR_ID,
                                PciTestDevice.DEVICE_ID,
                                PciTestDevice.CLASS_CODE,
                                true)),
                List.of(
                        new DeviceSpec(DeviceKind.VIRTIO_RNG, "rng0", "sw0.dp2"),
                        new DeviceSpec(DeviceKind.VIRTIO_BLK, "blk0", "rp2", new PcieConfig.DiskOptions(disk, false)),
                        new DeviceSpec(DeviceKind.VIRTIO_CONSOLE, "con0", "rc0"),
                        new DeviceSpec(DeviceKind.VIRTIO_RNG, "rng1", null)));
    }

    // --- set-up: the guest's firmware and drivers, one thread, asserted ---------------------------------------------

    /**
     * What a guest does at boot, through the bus only: enumerates every host bridge, assigns every BAR, and brings
     * every virtio device up with a request served ({@link VirtioTarget#probeAndServe}). Then records what must not
     * change: the static map of the address space and the read-only configuration bits of every endpoint function.
     */
    void setUp(SplittableRandom rnd) {
        Bus bus = bus();
        // Before any BAR is mapped the bus holds only what never moves.
        for (Bus.Region r : bus.regions()) parts.add(part(r));
        computeGaps(bus.regions());
        for (PcieHostBridge bridge : pcie.bridges()) {
            GuestPci g = new GuestPci(bus, bridge);
            guests.add(g);
            List<GuestPci.Found> list = g.enumerate();
            firstEnumeration.put(g, strings(list));
            Map<Integer, Integer> root = new HashMap<>();
            for (GuestPci.Found f : list) {
                found.add(f);
                foundOn.put(f, g);
                if (f.bus() == bridge.rootComplex().firstBus())
                    root.put(f.device() << 3 | f.function(), f.vendorId() | f.deviceId() << 16);
            }
            rootBus.put(bridge, root);
            assigned.addAll(g.assignBars(list));
        }
        for (Map.Entry<String, Endpoint> e : pcie.topology().endpoints().entrySet()) {
            for (int fn = 0; fn < 8; fn++) {
                PciFunction f = e.getValue().function(fn).orElse(null);
                if (f == null) continue;
                GuestPci.Assigned view = viewOf(f);
                functionOf.put(view, f);
                EndpointFunction ef = (EndpointFunction) f;
                readOnly.add(ReadOnlyBits.of(ef.configSpace()));
                readOnlyNames.add(e.getKey() + "." + fn);
            }
        }
        assertEquals(assigned.size(), functionOf.size(), "every endpoint the guest found is one of the topology's");
        long area = DRIVER_AREAS;
        for (VirtioPciTransport t : devices.transports()) {
            int firstSpi = MemoryMap.SPI_V2M_BASE + SPIS_PER_DEVICE * targets.size();
            targets.add(new VirtioTarget(this, t, viewOf(t.function()), area, firstSpi));
            area += VirtioTarget.AREA_BYTES;
        }
        for (VirtioTarget t : targets) t.probeAndServe(rnd);
    }

    /** The guest's view of {@code f}: the function the enumeration found at f's requester id below f's host bridge. */
    private GuestPci.Assigned viewOf(PciFunction f) {
        PcieHostBridge bridge = pcie.bridgeOf(f).orElseThrow();
        RequesterId rid = f.msiTarget().requesterId().orElseThrow(() -> new AssertionError(f + " has no bus number"));
        for (GuestPci.Assigned a : assigned) {
            GuestPci.Found x = a.found();
            if (foundOn.get(x).bridge() == bridge
                    && x.bus() == rid.bus()
                    && x.device() == rid.device()
                    && x.function() == rid.function()) {
                return a;
            }
        }
        throw new AssertionError("the guest did not find the function at " + rid + " below " + bridge.name());
    }

    private Part part(Bus.Region r) {
        AddressRange range = r.range();
        if (range.equals(MemoryMap.UART)) return new Part(Kind.UART, range, null);
        if (range.equals(MemoryMap.RTC)) return new Part(Kind.RTC, range, null);
        if (range.equals(MemoryMap.PVPANIC)) return new Part(Kind.PVPANIC, range, null);
        if (range.equals(MemoryMap.GIC_V2M)) return new Part(Kind.V2M, range, null);
        if (range.equals(map.ecamArea())) return new Part(Kind.ECAM_UNASSIGNED, range, null);
        for (PcieHostBridge b : pcie.bridges()) {
            if (range.equals(b.ecam())) return new Part(Kind.ECAM, range, b);
        }
        if (r.device() instanceof BackgroundRegion) return new Part(Kind.WINDOW, range, null);
        throw new AssertionError("unexpected region before any BAR is mapped: " + r);
    }

    /** The address space up to 1 GiB past the last region, minus every region: where nothing may answer. */
    private void computeGaps(List<Bus.Region> regions) {
        List<AddressRange> sorted =
                new ArrayList<>(regions.stream().map(Bus.Region::range).toList());
        sorted.sort((a, b) -> Long.compareUnsigned(a.base(), b.base()));
        long at = 0;
        for (AddressRange r : sorted) {
            if (Long.compareUnsigned(r.base(), at) > 0) gaps.add(AddressRange.ofEnd(at, r.base()));
            if (Long.compareUnsigned(r.end(), at) > 0) at = r.end();
        }
        gaps.add(new AddressRange(at, MemoryMap.GiB));
    }

    private static List<String> strings(List<GuestPci.Found> list) {
        return list.stream().map(Object::toString).toList();
    }

    // --- what the workers use ----------------------------------------------------------------------------------------

    Bus bus() {
        return machineBus.mmio();
    }

    GuestMemory ram() {
        return ram;
    }

    MemoryMap map() {
        return map;
    }

    List<GuestPci> guests() {
        return guests;
    }

    List<GuestPci.Found> found() {
        return found;
    }

    GuestPci guestOf(GuestPci.Found f) {
        return foundOn.get(f);
    }

    List<GuestPci.Assigned> assigned() {
        return assigned;
    }

    List<VirtioTarget> targets() {
        return targets;
    }

    List<AddressRange> gaps() {
        return gaps;
    }

    List<AddressRange> staticRanges() {
        return parts.stream().map(Part::range).toList();
    }

    List<PcieHostBridge> bridges() {
        return pcie.bridges();
    }

    long v2mDoorbell() {
        return v2m.doorbell();
    }

    Gicv2mFrame v2m() {
        return v2m;
    }

    /** Edges raised on SPI {@code spi} so far. */
    long spiRaises(int spi) {
        return spis.line(spi).raises.get();
    }

    /** The host side of the consoles: bytes for the PL011 and the virtio-console, as a console reader thread pushes them. */
    void typeInput(byte[] bytes, boolean virtio) {
        if (virtio) devices.virtioConsole().orElseThrow().pushInput(bytes);
        else machineBus.uart().pushInput(bytes);
    }

    /** Whether BAR {@code bar} of the function behind {@code view} is on the bus where the guest put it. */
    boolean barAt(GuestPci.Assigned view, int bar) {
        PciFunction f = functionOf.get(view);
        Optional<AddressRange> at = pcie.barMapper(f).orElseThrow().mapped(bar);
        return at.isPresent() && at.get().base() == view.bar(bar);
    }

    /**
     * Waits until virtio-blk's I/O pool has no request left: the one device thread that writes guest RAM on its own
     * (data read from the disk). A single-threaded run does this after every operation so that the next one meets
     * the same guest RAM on every replay. (The console's transmit thread only reads guest RAM, apart from the used
     * entry of a chain it has written out; it is not waited for, since a guest may post gigabytes of output.)
     */
    void quiesce() {
        long deadline = System.nanoTime() + QUIESCE_NANOS;
        for (VirtioPciTransport t : devices.transports()) {
            if (!(t.device() instanceof VirtioBlk blk)) continue;
            while (blk.inFlight() > 0) {
                if (System.nanoTime() > deadline) throw new AssertionError(t.name() + " still has requests after 30 s");
                LockSupport.parkNanos(10_000);
            }
        }
    }

    // --- invariants of single accesses ---------------------------------------------------------------------------

    /** Where [address, address + size) lies in the static map (sizes out of range are the caller's business). */
    Kind classify(long address, int size) {
        long end = address + size;
        boolean wraps = Long.compareUnsigned(end, address) <= 0;
        Part inside = null;
        boolean touched = false;
        for (Part p : parts) {
            AddressRange r = p.range();
            boolean overlaps =
                    Long.compareUnsigned(address, r.end()) < 0 && (wraps || Long.compareUnsigned(r.base(), end) < 0);
            if (!overlaps) continue;
            touched = true;
            if (!wraps && r.contains(address, size) && (inside == null || p.kind() == Kind.ECAM)) inside = p;
        }
        if (!touched) return Kind.UNCLAIMED;
        if (inside == null) return Kind.STRADDLING;
        if (inside.kind() == Kind.ECAM_UNASSIGNED) {
            for (Part p : parts) {
                if (p.kind() == Kind.ECAM && p.range().overlaps(new AddressRange(address, size)))
                    return Kind.STRADDLING;
            }
        }
        return inside.kind();
    }

    private Part partOf(Kind kind, long address) {
        for (Part p : parts) if (p.kind() == kind && p.range().contains(address)) return p;
        throw new AssertionError(kind + " at 0x" + Long.toHexString(address));
    }

    private static boolean validSize(int size) {
        return size == 1 || size == 2 || size == 4 || size == 8;
    }

    /**
     * The invariants of one read, whatever any thread did before: an access of an invalid size or to an address
     * nothing claims is unhandled; a handled value fits the access width; the PL011, PL031 and v2m identification
     * and constant registers read their constants; the ECAM's unassigned segments and the root buses' empty slots
     * read all ones, the root buses' functions their ids. {@code quiet} (no other thread runs): a read of a PCIe
     * window where no BAR is reads all ones.
     */
    void checkRead(long address, int size, OptionalLong result, boolean quiet) {
        if (!validSize(size)) {
            assertTrue(result.isEmpty(), () -> "a read of " + size + " bytes was handled");
            return;
        }
        Kind kind = classify(address, size);
        if (kind == Kind.UNCLAIMED) {
            assertTrue(result.isEmpty(), () -> "a read of unclaimed 0x%x was answered".formatted(address));
            checked[kind.ordinal()].increment();
            return;
        }
        if (result.isEmpty()) {
            assertTrue(
                    kind == Kind.STRADDLING || kind == Kind.WINDOW,
                    () -> "a read of %d bytes inside %s at 0x%x was unhandled".formatted(size, kind, address));
            return;
        }
        long v = result.getAsLong();
        long mask = Sizes.sizeMask(size);
        assertEquals(0, v & ~mask, () -> "read of %d bytes at 0x%x returned 0x%x".formatted(size, address, v));
        checked[kind.ordinal()].increment();
        switch (kind) {
            case UART -> {
                long offset = address - MemoryMap.UART.base();
                if (offset == 0x018) {
                    // UARTFR (DDI 0183 §3.3.3): transmission is instantaneous, so TXFE=1, TXFF=0, BUSY=0; CTS, DSR and
                    // DCD as a connected terminal; the receive FIFO is never empty and full at once.
                    assertEquals(0x87, v & 0xAF, () -> "PL011 UARTFR 0x" + Long.toHexString(v));
                    assertTrue(
                            (v & 0x50) != 0x50, () -> "PL011 UARTFR RXFE and RXFF both set: 0x" + Long.toHexString(v));
                }
                primeCell(offset, v, PL011_PERIPH_ID, "PL011");
            }
            case RTC -> {
                long offset = address - MemoryMap.RTC.base();
                if (offset == 0x0C) assertEquals(1, v, "PL031 RTCCR: the RTC is started for good (DDI 0224 §3.3.4)");
                primeCell(offset, v, PL031_PERIPH_ID, "PL031");
            }
            case PVPANIC ->
                assertEquals(
                        address == MemoryMap.PVPANIC.base() ? PvPanic.SUPPORTED : 0,
                        v,
                        () -> "pvpanic read at 0x%x/%d".formatted(address, size));
            case V2M -> {
                long offset = address - MemoryMap.GIC_V2M.base();
                long typer = (long) MemoryMap.spiIntid(MemoryMap.SPI_V2M_BASE) << 16 | MemoryMap.V2M_SPI_COUNT;
                assertEquals(
                        offset == 0x008 && size == 4 ? typer : 0,
                        v,
                        () -> "v2m read at +0x%x/%d".formatted(offset, size));
            }
            case ECAM_UNASSIGNED -> assertEquals(mask, v, () -> "unassigned ECAM at 0x%x".formatted(address));
            case ECAM -> ecamRead(partOf(Kind.ECAM, address).bridge(), address, size, v);
            case WINDOW -> {
                if (quiet && bus().find(address, size).device() instanceof BackgroundRegion) {
                    assertEquals(mask, v, () -> "PCIe window without a BAR at 0x%x".formatted(address));
                }
            }
            default -> {}
        }
    }

    /** The PrimeCell ids, at word offsets (an access of any size there reads the addressed register). */
    private static void primeCell(long offset, long v, int[] periphId, String what) {
        if ((offset & 3) != 0) return;
        if (offset >= 0xFE0 && offset < 0xFF0) {
            assertEquals(periphId[(int) (offset - 0xFE0) / 4], v, what + " PeriphID at 0x" + Long.toHexString(offset));
        } else if (offset >= 0xFF0 && offset < 0x1000) {
            assertEquals(
                    PRIMECELL_ID[(int) (offset - 0xFF0) / 4], v, what + " PCellID at 0x" + Long.toHexString(offset));
        }
    }

    /** A read inside a root complex's ECAM window: the root bus never changes, whatever the guest writes. */
    private void ecamRead(PcieHostBridge bridge, long address, int size, long v) {
        long offset = address - bridge.ecam().base();
        int reg = (int) (offset & 0xFFF);
        long allOnes = Sizes.sizeMask(size);
        if (size == 8 || (reg & (size - 1)) != 0) {
            assertEquals(allOnes, v, "ECAM takes 1, 2 and 4-byte aligned accesses only (PCIe Base 6.0 §7.2.2)");
            return;
        }
        if (offset >>> 20 != 0) return; // below the root bus: the routing is whatever the guest made of it
        int devfn = (int) (offset >>> 12) & 0xFF;
        Integer id = rootBus.get(bridge).get(devfn);
        if (id == null) {
            assertEquals(
                    allOnes,
                    v,
                    () -> "%s root bus %02x.%x: no function there".formatted(bridge.name(), devfn >> 3, devfn & 7));
        } else if (reg < 4) {
            assertEquals(
                    (Integer.toUnsignedLong(id) >>> (8 * reg)) & allOnes,
                    v,
                    () -> "%s root bus %02x.%x: id register".formatted(bridge.name(), devfn >> 3, devfn & 7));
        }
    }

    /** The invariants of one write: unhandled exactly where a read would be, handled inside every static part. */
    void checkWrite(long address, int size, boolean handled) {
        if (!validSize(size)) {
            assertFalse(handled, () -> "a write of " + size + " bytes was handled");
            return;
        }
        Kind kind = classify(address, size);
        switch (kind) {
            case UNCLAIMED -> assertFalse(handled, () -> "a write to unclaimed 0x%x was taken".formatted(address));
            case UART, RTC, V2M, ECAM, ECAM_UNASSIGNED ->
                assertTrue(
                        handled,
                        () -> "a write of %d bytes inside %s at 0x%x was unhandled".formatted(size, kind, address));
            default -> {}
        }
    }

    /** Single accesses checked per kind of address: the generator must reach every kind for a run to mean much. */
    long checked(Kind kind) {
        return checked[kind.ordinal()].sum();
    }

    // --- invariants of the machine after the storm (one thread, asserted) -------------------------------------------

    /**
     * What must hold once every thread stopped, whatever they did: the guest finds the same hierarchy, its BARs go
     * back where it puts them, no read-only configuration bit changed, every virtio device serves requests again
     * after a reset (with their interrupts reaching the GIC), the PL011, PL031 and v2m frame behave, nothing threw.
     */
    void checkAfterStorm(SplittableRandom rnd) {
        quiesce();
        Bus bus = bus();
        for (GuestPci g : guests) {
            List<GuestPci.Found> again = g.enumerate();
            assertEquals(
                    firstEnumeration.get(g), strings(again), g.bridge().name() + ": the hierarchy the guest finds");
            List<GuestPci.Assigned> views = g.assignBars(again);
            for (GuestPci.Assigned v : views) {
                GuestPci.Assigned before = assigned.stream()
                        .filter(a -> a.found().toString().equals(v.found().toString()) && foundOn.get(a.found()) == g)
                        .findFirst()
                        .orElseThrow();
                for (int bar = 0; bar < 6; bar++) {
                    assertEquals(before.bar(bar), v.bar(bar), v + " BAR" + bar + " assigned elsewhere");
                    if (v.bar(bar) != 0)
                        assertTrue(barAt(before, bar), v + " BAR" + bar + " is not on the bus where the guest put it");
                }
            }
        }
        for (int i = 0; i < readOnly.size(); i++) readOnly.get(i).check(readOnlyNames.get(i) + " after the storm");
        for (VirtioTarget t : targets) t.probeAndServe(rnd);
        checkUart(bus);
        checkRtc(bus);
        checkV2m(bus);
        assertEquals(0, bus.deviceFaults(), "devices that threw into the bus");
        for (Bus.Region r : bus.regions()) {
            if (r.device() instanceof EcamRegion e) assertEquals(0, e.faults(), r.name() + ": functions that threw");
        }
        spis.assertClean();
    }

    private static long read(Bus bus, long address, int size) {
        return bus.read(address, size)
                .orElseThrow(() -> new AssertionError("unhandled read at 0x" + Long.toHexString(address)));
    }

    /** The PL011 still receives, transmits and drives its interrupt line as UARTMIS says (DDI 0183 §2.9.6). */
    private void checkUart(Bus bus) {
        long base = MemoryMap.UART.base();
        Line irq = spis.line(MemoryMap.SPI_UART);
        bus.write(base + 0x038, 4, 0); // UARTIMSC: nothing
        bus.write(base + 0x030, 4, 0x301); // UARTCR: UARTEN, TXE, RXE (no loopback)
        bus.write(base + 0x02C, 4, 0x10); // UARTLCR_H: FIFOs on
        int drained = 0;
        while ((read(bus, base + 0x018, 4) & 0x10) == 0) { // until RXFE
            read(bus, base, 4);
            assertTrue(
                    ++drained <= dev.jvmm.core.devices.serial.Pl011.DEFAULT_BACKLOG + 16,
                    "PL011 gave more bytes than its FIFO and backlog hold");
        }
        assertEquals(0, read(bus, base + 0x040, 4), "UARTMIS with everything masked");
        assertFalse(irq.high, "PL011 line high with UARTMIS 0");
        bus.write(base + 0x038, 4, 0x50); // UARTIMSC: RX and RT
        machineBus.uart().pushInput(new byte[] {'o', 'k'});
        assertTrue(read(bus, base + 0x040, 4) != 0, "UARTMIS with input waiting");
        assertTrue(irq.high, "PL011 line low with input waiting and RTIM set");
        assertEquals('o', read(bus, base, 4));
        assertEquals('k', read(bus, base, 4));
        assertEquals(0x10, read(bus, base + 0x018, 4) & 0x10, "UARTFR.RXFE once the input is read");
        assertFalse(irq.high, "PL011 line still high after the input was read");
        // (The console's own bytes are not compared: the virtio-console may still be writing what a guest queued.)
        long sent = machineBus.uart().txBytes();
        long console = consoleTail.bytes();
        for (int i = 0; i < 8; i++) bus.write(base, 4, 'a' + i);
        assertEquals(sent + 8, machineBus.uart().txBytes(), "PL011 bytes transmitted");
        assertTrue(consoleTail.bytes() >= console + 8, "PL011 bytes reach the console");
    }

    /** The PL031 still counts from what the guest loads, and its line follows RTCMIS. */
    private void checkRtc(Bus bus) {
        long base = MemoryMap.RTC.base();
        bus.write(base + 0x10, 4, 0); // RTCIMSC: masked
        bus.write(base + 0x1C, 4, 1); // RTCICR: clear
        bus.write(base + 0x08, 4, 0x1234_5678); // RTCLR
        long now = read(bus, base, 4);
        assertTrue(
                now >= 0x1234_5678 && now <= 0x1234_5678 + 5,
                "RTCDR 0x" + Long.toHexString(now) + " after loading 0x12345678");
        assertEquals(0, read(bus, base + 0x18, 4), "RTCMIS after clearing and masking");
        assertFalse(spis.line(MemoryMap.SPI_RTC).high, "PL031 line high with RTCMIS 0");
    }

    /** The v2m frame raises exactly the SPI a guest write names, and only SPIs it owns. */
    private void checkV2m(Bus bus) {
        int spi = MemoryMap.SPI_V2M_BASE + 5;
        long before = spis.line(spi).raises.get();
        long all = spis.totalRaises();
        bus.write(v2m.doorbell(), 4, MemoryMap.spiIntid(spi));
        assertEquals(before + 1, spis.line(spi).raises.get(), "one edge on the SPI the message names");
        assertEquals(all + 1, spis.totalRaises(), "and on no other");
        long rejected = v2m.rejected();
        bus.write(v2m.doorbell(), 4, MemoryMap.spiIntid(MemoryMap.SPI_V2M_BASE - 1));
        bus.write(v2m.doorbell(), 4, MemoryMap.spiIntid(MemoryMap.SPI_V2M_BASE + MemoryMap.V2M_SPI_COUNT));
        assertEquals(rejected + 2, v2m.rejected(), "SPIs outside the frame are rejected");
        assertEquals(all + 1, spis.totalRaises(), "and raise nothing");
    }

    /** Bytes written to the console (both UARTs). */
    long consoleBytes() {
        return consoleTail.bytes();
    }

    /** Whether {@code text} is among the console's last 8 KiB of output. */
    boolean consoleShowed(String text) {
        return consoleTail.showed(text);
    }

    /**
     * The console: counts bytes and keeps the latest 8 KiB, for the checks after the storm (twice the virtio-console's
     * transmit chunk: emergency bytes a guest wrote during the storm may still follow what a check sent).
     */
    private static final class ConsoleTail implements ConsoleOutput {
        private final byte[] tail = new byte[8192];
        private long bytes;

        @Override
        public synchronized void write(int b) {
            tail[(int) (bytes++ % tail.length)] = (byte) b;
        }

        synchronized long bytes() {
            return bytes;
        }

        synchronized boolean showed(String text) {
            int n = (int) Math.min(bytes, tail.length);
            byte[] recent = new byte[n];
            for (int i = 0; i < n; i++) recent[i] = tail[(int) ((bytes - n + i) % tail.length)];
            return new String(recent, java.nio.charset.StandardCharsets.ISO_8859_1).contains(text);
        }
    }

    /**
     * Shuts the devices down as the machine does (a disk finishes and flushes what is in flight, the console's
     * thread stops), then unmaps guest RAM: nothing touches it any more.
     */
    @Override
    public void close() {
        devices.close();
        arena.close();
    }

    // --- the SPI lines ---------------------------------------------------------------------------------------------

    /**
     * The machine's wired interrupts without KVM: one {@link Line} per SPI. Only the SPIs the machine owns may be
     * asked for (UART, RTC, the v2m frame's); the level-triggered ones (UART, RTC) must change level at every call,
     * since both devices drive their line only on a change of UARTMIS/RTCMIS (under their own lock).
     */
    final class Spis implements IntFunction<IrqLine> {
        private final Line[] lines = new Line[MemoryMap.GIC_NR_IRQS - 32];
        private final java.util.Queue<String> problems = new java.util.concurrent.ConcurrentLinkedQueue<>();

        Spis() {
            for (int spi = 0; spi < lines.length; spi++) {
                lines[spi] = new Line(this, spi, spi == MemoryMap.SPI_UART || spi == MemoryMap.SPI_RTC);
            }
        }

        @Override
        public IrqLine apply(int spi) {
            boolean v2mSpi = spi >= MemoryMap.SPI_V2M_BASE && spi < MemoryMap.SPI_V2M_BASE + MemoryMap.V2M_SPI_COUNT;
            if (spi != MemoryMap.SPI_UART && spi != MemoryMap.SPI_RTC && !v2mSpi) {
                problem("a device asked for SPI " + spi + ", which the machine does not give it");
                return IrqLine.NONE;
            }
            return lines[spi];
        }

        Line line(int spi) {
            return lines[spi];
        }

        long totalRaises() {
            long n = 0;
            for (Line l : lines) n += l.raises.get();
            return n;
        }

        void problem(String what) {
            if (problems.size() < 20) problems.add(what);
        }

        List<String> problems() {
            return List.copyOf(problems);
        }

        void assertClean() {
            if (!problems.isEmpty()) fail("interrupt lines: " + problems);
        }
    }

    /** One SPI: its level, its rising edges, and the check that a level-triggered device only reports changes. */
    static final class Line implements IrqLine {
        private final Spis owner;
        private final int spi;
        private final boolean levelTriggered;
        volatile boolean high;
        final AtomicLong raises = new AtomicLong();

        Line(Spis owner, int spi, boolean levelTriggered) {
            this.owner = owner;
            this.spi = spi;
            this.levelTriggered = levelTriggered;
        }

        @Override
        public void set(boolean level) {
            if (levelTriggered && level == high)
                owner.problem("SPI " + spi + " driven " + (level ? "high" : "low") + " twice");
            high = level;
            if (level) raises.incrementAndGet();
        }
    }
}
