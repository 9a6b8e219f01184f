package dev.jvmm.pcie;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The bus numbers a port currently owns: the (secondary, subordinate) pair the guest wrote into its Type 1
 * header's Secondary and Subordinate Bus Number registers (PCIe Base 6.0 §7.5.1.3.3-4), named after them (OpenVMM
 * calls it {@code AssignedBusRange}); not an address range. It is snooped from configuration writes and read,
 * without locks, by configuration routing and by MSI code that builds requester ids on device threads; both fields
 * live in one atomic int so a reader never sees half an update.
 *
 * <p>A range with secondary bus 0 is unassigned: bus 0 can only be a root bus, never the far side of a
 * bridge, and 0 is the reset value, so such a port routes nothing.
 */
public final class BusNumberRange {
    private final AtomicInteger packed = new AtomicInteger();

    /** Stores a new pair; returns whether it differs from the old one. */
    boolean set(int secondary, int subordinate) {
        int value = (secondary & 0xFF) << 8 | (subordinate & 0xFF);
        return packed.getAndSet(value) != value;
    }

    public int secondary() {
        return packed.get() >>> 8;
    }

    public int subordinate() {
        return packed.get() & 0xFF;
    }

    public boolean isAssigned() {
        return secondary() != 0;
    }

    /** Whether configuration requests for {@code bus} go through this port: {@code secondary <= bus <= subordinate}. */
    public boolean contains(int bus) {
        int v = packed.get();
        int secondary = v >>> 8;
        int subordinate = v & 0xFF;
        return secondary != 0 && secondary <= bus && bus <= subordinate;
    }

    /** The secondary bus, or -1 while unassigned; this is what functions below the port use as their bus. */
    public int secondaryOrUnassigned() {
        int secondary = secondary();
        return secondary == 0 ? -1 : secondary;
    }

    @Override
    public String toString() {
        int v = packed.get();
        return String.format("[%02x-%02x]", v >>> 8, v & 0xFF);
    }
}
