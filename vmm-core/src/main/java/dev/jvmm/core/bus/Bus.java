package dev.jvmm.core.bus;

import static dev.jvmm.pcie.util.Sizes.sizeMask;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.OptionalLong;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * An address-range map of {@link MmioDevice}s with priority layers, for guest MMIO (or port I/O) exits.
 *
 * <p><b>Layers.</b> Every region is registered at an integer priority. An address belongs to the
 * highest-priority region containing it; lower layers show through wherever nothing higher is mapped. This is
 * how a {@link BackgroundRegion} (all ones, writes ignored) lies under a PCIe window while BARs come and go
 * above it. Regions of the same priority must not overlap; regions of different priorities may.
 *
 * <p><b>Accesses.</b> An access [addr, addr + size) goes to a device only when one visible region holds all of
 * it. Sizes are 1, 2, 4 or 8; anything else is unhandled. Values are little-endian, zero-extended to 64 bits; the
 * bus masks them to the access size in both directions, so a device cannot leak high bits and never sees them.
 *
 * <p><b>Straddling accesses.</b> An access that a visible region holds only in part, because it runs off the
 * region's end (into a gap, the next region, or a region of another layer) or starts in a gap and runs into a
 * region, is decoded by no device: no device is asked about any of it, neither about bytes it does not own nor
 * about its own part of the access. The bus answers it itself, for the whole access, the way an Unsupported Request
 * completes (PCIe Base 6.0 §2.3.2) and the all-ones {@link BackgroundRegion}s read: a read returns all ones at
 * the access size, a write is dropped. Such accesses are counted ({@link #straddlingReads()},
 * {@link #straddlingWrites()}) and logged rate-limited. One rule for every region, whatever lies past its end: a
 * BAR, an ECAM window, a platform device, a background.
 *
 * <p><b>Threads.</b> Lookups run on vCPU threads, several at once, and take no lock: they binary-search an
 * immutable snapshot (the layers flattened into sorted, non-overlapping segments). Updates (register,
 * remove: rare, e.g. BAR programming or hotplug) take a lock and publish a new snapshot. An access racing
 * with an update sees either the old or the new map, never a mix.
 *
 * <p><b>Unhandled accesses</b>, those that touch no region at all (or have an odd size), are reported to the
 * caller ({@link OptionalLong#empty()}, {@code false}), counted, and logged rate-limited, so the vCPU loop decides
 * the guest-visible answer.
 */
public final class Bus {
    /** Priority of background regions: below every device. */
    public static final int PRIORITY_BACKGROUND = -100;
    /** Priority of ordinary device regions. */
    public static final int PRIORITY_DEVICE = 0;

    private static final System.Logger LOG = System.getLogger(Bus.class.getName());

    /**
     * A registered region: the handle returned by {@link #register} and taken by {@link #remove}. Identity
     * matters, not value: two registrations of the same device and range are two regions.
     */
    public static final class Region {
        private final String name;
        private final AddressRange range;
        private final int priority;
        private final MmioDevice device;
        private final long sequence;

        private Region(String name, AddressRange range, int priority, MmioDevice device, long sequence) {
            this.name = name;
            this.range = range;
            this.priority = priority;
            this.device = device;
            this.sequence = sequence;
        }

        public String name() {
            return name;
        }

        public AddressRange range() {
            return range;
        }

        public int priority() {
            return priority;
        }

        public MmioDevice device() {
            return device;
        }

        @Override
        public String toString() {
            return "'%s' %s prio %d".formatted(name, range, priority);
        }
    }

    /** Highest priority first; ties (possible only across non-overlapping regions) by registration order. */
    private static final Comparator<Region> VISIBILITY =
            Comparator.comparingInt((Region r) -> r.priority).reversed().thenComparingLong(r -> r.sequence);

    /**
     * The flattened map: segment i is [start(i), ends[i]) owned by owners[i]. keys[i] = start(i) ^ MIN_VALUE,
     * so a signed binary search over keys orders addresses unsigned.
     */
    private record Snapshot(long[] keys, long[] ends, Region[] owners) {
        static final Snapshot EMPTY = new Snapshot(new long[0], new long[0], new Region[0]);

        long start(int i) {
            return keys[i] ^ Long.MIN_VALUE;
        }
    }

    private final String busName;
    private final Object updateLock = new Object();
    private final List<Region> regions = new ArrayList<>(); // guarded by updateLock
    private final AtomicLong sequence = new AtomicLong();
    private volatile Snapshot snapshot = Snapshot.EMPTY;

    private final LongAdder unhandledReads = new LongAdder();
    private final LongAdder unhandledWrites = new LongAdder();
    private final LongAdder straddlingReads = new LongAdder();
    private final LongAdder straddlingWrites = new LongAdder();
    private final RateLimitedLogger unhandledLog;
    private final RateLimitedLogger faultLog;

    /** @param busName for log lines and {@link #describe()}, e.g. "mmio" */
    public Bus(String busName) {
        this.busName = busName;
        this.unhandledLog = new RateLimitedLogger(LOG);
        this.faultLog = new RateLimitedLogger(LOG);
    }

    /** The bus's name, as given to the constructor. */
    public String name() {
        return busName;
    }

    /**
     * Maps {@code device} at {@code range} in layer {@code priority}.
     *
     * @throws IllegalArgumentException if the range overlaps a region of the same priority (the message names
     *                                  both), or the name is blank
     */
    public Region register(String name, AddressRange range, int priority, MmioDevice device) {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("bus region needs a name");
        if (range == null || device == null) throw new NullPointerException("range and device are required");
        synchronized (updateLock) {
            for (Region r : regions) {
                if (r.priority == priority && r.range.overlaps(range)) {
                    throw new IllegalArgumentException(
                            "%s bus: region '%s' %s overlaps region '%s' %s at the same priority %d"
                                    .formatted(busName, name, range, r.name, r.range, priority));
                }
            }
            Region region = new Region(name, range, priority, device, sequence.getAndIncrement());
            regions.add(region);
            snapshot = flatten(regions);
            return region;
        }
    }

    /** Unmaps a region registered on this bus. Returns false if it was not (or no longer) registered. */
    public boolean remove(Region region) {
        synchronized (updateLock) {
            for (int i = 0; i < regions.size(); i++) {
                if (regions.get(i) == region) {
                    regions.remove(i);
                    snapshot = flatten(regions);
                    return true;
                }
            }
            return false;
        }
    }

    /** The registered regions, highest priority first. */
    public List<Region> regions() {
        synchronized (updateLock) {
            return regions.stream()
                    .sorted(VISIBILITY.thenComparing(r -> r.range.base(), Long::compareUnsigned))
                    .toList();
        }
    }

    /**
     * The visible region that holds all of [address, address + size), or null when no device decodes the access
     * (nothing mapped, straddles a region end, or size not 1/2/4/8). Lock-free, allocation-free.
     */
    public Region find(long address, int size) {
        return find(snapshot, address, size);
    }

    private static Region find(Snapshot s, long address, int size) {
        if (!validSize(size)) return null;
        int i = segmentIndex(s, address);
        if (i < 0) return null;
        long offset = address - s.start(i);
        long length = s.ends[i] - s.start(i);
        if (Long.compareUnsigned(offset, length) >= 0) return null; // in a gap after segment i
        if (Long.compareUnsigned(size, length - offset) > 0) return null; // runs off the segment's end
        return s.owners[i];
    }

    /**
     * Whether some visible region holds a byte of [address, address + size) (size 1, 2, 4 or 8). Unsigned: an
     * access running past 2^64 is compared by distance, so it cannot wrap around to address 0.
     */
    private static boolean touchesRegion(Snapshot s, long address, int size) {
        int i = segmentIndex(s, address);
        if (i >= 0 && Long.compareUnsigned(address - s.start(i), s.ends[i] - s.start(i)) < 0) return true;
        int next = i + 1; // the first segment starting above address
        return next < s.owners.length && Long.compareUnsigned(s.start(next) - address, size) < 0;
    }

    private static boolean validSize(int size) {
        return size == 1 || size == 2 || size == 4 || size == 8;
    }

    /** The visible region at one address (for debugging and logs), or null. */
    public Region regionAt(long address) {
        return find(address, 1);
    }

    /**
     * Reads {@code size} bytes at {@code address}: the device's answer masked to the access size; all ones when
     * the access straddles a region's end (counted, logged rate-limited); empty when it touches no region at all
     * or has an odd size (counted, logged rate-limited). A device that throws (a bug: devices must not) is logged
     * and answers all ones, as an unanswered bus read does.
     */
    public OptionalLong read(long address, int size) {
        Snapshot s = snapshot;
        Region r = find(s, address, size);
        if (r == null) {
            if (validSize(size) && touchesRegion(s, address, size)) {
                straddlingReads.increment();
                unhandledLog.log(
                        Level.WARNING,
                        "%s bus: read of %d bytes at 0x%x straddles a region's end" + " (%s); all ones",
                        busName,
                        size,
                        address,
                        describeAt(s, address));
                return OptionalLong.of(sizeMask(size));
            }
            unhandledReads.increment();
            unhandledLog.log(Level.WARNING, "%s bus: unhandled read of %d bytes at 0x%x", busName, size, address);
            return OptionalLong.empty();
        }
        long value;
        try {
            value = r.device.read(address - r.range.base(), size);
        } catch (RuntimeException e) {
            faultLog.log(Level.ERROR, "%s bus: device '%s' threw on a read at 0x%x: %s", busName, r.name, address, e);
            value = -1L;
        }
        return OptionalLong.of(value & sizeMask(size));
    }

    /**
     * Writes {@code size} bytes of {@code value} (masked to the access size) at {@code address}. An access that
     * straddles a region's end is dropped, counted and logged rate-limited, and returns true: the bus decided it.
     * Returns false when the access touches no region at all or has an odd size (counted, logged rate-limited).
     * A device that throws is logged.
     */
    public boolean write(long address, int size, long value) {
        Snapshot s = snapshot;
        Region r = find(s, address, size);
        if (r == null) {
            if (validSize(size) && touchesRegion(s, address, size)) {
                straddlingWrites.increment();
                unhandledLog.log(
                        Level.WARNING,
                        "%s bus: write of %d bytes at 0x%x (value 0x%x) straddles a region's" + " end (%s); dropped",
                        busName,
                        size,
                        address,
                        value & sizeMask(size),
                        describeAt(s, address));
                return true;
            }
            unhandledWrites.increment();
            unhandledLog.log(
                    Level.WARNING,
                    "%s bus: unhandled write of %d bytes at 0x%x (value 0x%x)",
                    busName,
                    size,
                    address,
                    value & sizeMask(size));
            return false;
        }
        try {
            r.device.write(address - r.range.base(), size, value & sizeMask(size));
        } catch (RuntimeException e) {
            faultLog.log(Level.ERROR, "%s bus: device '%s' threw on a write at 0x%x: %s", busName, r.name, address, e);
        }
        return true;
    }

    /** Reads no region handled since the bus was made. */
    public long unhandledReads() {
        return unhandledReads.sum();
    }

    /** Writes no region handled since the bus was made. */
    public long unhandledWrites() {
        return unhandledWrites.sum();
    }

    /** Reads that straddled a region's end (answered all ones) since the bus was made. */
    public long straddlingReads() {
        return straddlingReads.sum();
    }

    /** Writes that straddled a region's end (dropped) since the bus was made. */
    public long straddlingWrites() {
        return straddlingWrites.sum();
    }

    /** Number of device exceptions the bus caught (each one is a device bug). */
    public long deviceFaults() {
        return faultLog.count();
    }

    /**
     * A human-readable map: the registered regions by layer, then the visible segments a guest sees (where
     * layers overlap, which region answers each part).
     */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        sb.append(busName).append(" bus: ").append(regions().size()).append(" regions\n");
        for (Region r : regions()) {
            sb.append(
                    "  prio %5d  0x%016x-0x%016x  %s%n".formatted(r.priority, r.range.base(), r.range.last(), r.name));
        }
        Snapshot s = snapshot;
        sb.append("  visible:\n");
        for (int i = 0; i < s.owners.length; i++) {
            sb.append("    0x%016x-0x%016x  %s%n".formatted(s.start(i), s.ends[i] - 1, s.owners[i].name));
        }
        return sb.toString();
    }

    /** For a log line: which region the first byte of an access falls in, or that it falls in a gap. */
    private static String describeAt(Snapshot s, long address) {
        Region r = find(s, address, 1);
        return r == null ? "starts in a gap" : "starts in '" + r.name + "' " + r.range;
    }

    /** Index of the last segment starting at or below address, or -1. */
    private static int segmentIndex(Snapshot s, long address) {
        int i = Arrays.binarySearch(s.keys, address ^ Long.MIN_VALUE);
        return i >= 0 ? i : -i - 2;
    }

    /**
     * Flattens the layers with a sweep over region boundaries: between two consecutive boundaries the visible
     * region is the highest-priority one active there. Adjacent pieces of the same region are merged so that
     * an access crossing an internal boundary (left by a region of a lower layer) is not mistaken for a
     * straddling one. O(n log n) in the number of regions.
     */
    private static Snapshot flatten(List<Region> regions) {
        record Event(long at, boolean start, Region region) {}
        List<Event> events = new ArrayList<>(regions.size() * 2);
        for (Region r : regions) {
            events.add(new Event(r.range.base(), true, r));
            events.add(new Event(r.range.end(), false, r));
        }
        events.sort((a, b) -> Long.compareUnsigned(a.at, b.at));

        long[] keys = new long[events.size()];
        long[] ends = new long[events.size()];
        Region[] owners = new Region[events.size()];
        int n = 0;
        TreeSet<Region> active = new TreeSet<>(VISIBILITY);
        int e = 0;
        while (e < events.size()) {
            long at = events.get(e).at;
            for (; e < events.size() && events.get(e).at == at; e++) {
                Event ev = events.get(e);
                if (ev.start) active.add(ev.region);
                else active.remove(ev.region);
            }
            if (active.isEmpty() || e == events.size()) continue;
            long next = events.get(e).at;
            Region top = active.first();
            if (n > 0 && owners[n - 1] == top && ends[n - 1] == at) {
                ends[n - 1] = next;
            } else {
                keys[n] = at ^ Long.MIN_VALUE;
                ends[n] = next;
                owners[n] = top;
                n++;
            }
        }
        return new Snapshot(Arrays.copyOf(keys, n), Arrays.copyOf(ends, n), Arrays.copyOf(owners, n));
    }
}
