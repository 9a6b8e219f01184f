package dev.jvmm.core.pci;

import dev.jvmm.core.bus.AddressRange;
import dev.jvmm.pcie.config.BarDefinition;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The address space the BARs of one host bridge's functions share: where a BAR may be mapped (the bridge's
 * {@link PcieWindows}), the one lock under which every {@link BarMapper} below the bridge places its BARs, and the
 * BARs that wait for a range another BAR holds.
 *
 * <p><b>Overlaps.</b> Software must give every function its own addresses; PCIe Base 6.0 defines no outcome for
 * two functions decoding the same one (§7.5.1.2.1 describes how a single BAR decodes). jvmm stays deterministic:
 * the BAR mapped first keeps the range, and a BAR the guest enables over it is refused and <em>waits</em> here.
 * Whenever a BAR below the bridge leaves its range (moved, or its decode enable cleared in the Command register,
 * §7.5.1.1.3), the waiting BARs are tried again in the order they were refused, before the moved BAR takes its new
 * place: the earliest request for a free range gets it. A waiting BAR stops waiting when its function changes it
 * again. This is what a guest that swaps two BARs with decoding on (Linux updates 32-bit BARs that way) relies
 * on: after both writes, both BARs are mapped. A BAR outside the windows does not wait: no other BAR's move can
 * make it fit, only the guest writing it.
 *
 * <p><b>Locks.</b> A BAR change arrives on the vCPU thread that wrote configuration space, with that function's
 * configuration space locked. The order is: one function's configuration space, then this object, then the bus's
 * update lock. A retry places another function's BAR with only this object held, so no thread ever holds two
 * functions' locks; the mappers' observers run under this lock and must not take configuration-space locks.
 */
public final class BarSpace {
    /** A BAR refused because its range was taken, with the CPU range it wants. */
    private record Waiting(BarMapper mapper, int bar, AddressRange range) {}

    private final PcieWindows windows;
    private final List<Waiting> waiting = new ArrayList<>(); // guarded by this, in refusal order

    public BarSpace(PcieWindows windows) {
        this.windows = Objects.requireNonNull(windows);
    }

    public PcieWindows windows() {
        return windows;
    }

    /**
     * The CPU address range a BAR at PCI address {@code pciAddress} occupies, if it lies entirely inside one of the
     * host bridge's windows: memory BARs in the 32- or 64-bit window (CPU address = PCI address), I/O BARs in the
     * I/O window (translated to the CPU address of the memory-mapped I/O space).
     */
    public Optional<AddressRange> cpuRange(BarDefinition d, long pciAddress) {
        if (d.kind() == BarDefinition.Kind.IO) return windows.ioToCpu(pciAddress, d.size());
        return windows.holdsMemory(pciAddress, d.size())
                ? Optional.of(new AddressRange(pciAddress, d.size()))
                : Optional.empty();
    }

    /** BARs waiting for their range, over all functions below the bridge. */
    public synchronized int waitingCount() {
        return waiting.size();
    }

    /** Records that {@code mapper}'s BAR {@code bar} waits for {@code range} (called under this lock). */
    synchronized void await(BarMapper mapper, int bar, AddressRange range) {
        cancel(mapper, bar);
        waiting.add(new Waiting(mapper, bar, range));
    }

    /** Forgets any wait of {@code mapper}'s BAR {@code bar}: its function changed it (called under this lock). */
    synchronized void cancel(BarMapper mapper, int bar) {
        waiting.removeIf(w -> w.mapper == mapper && w.bar == bar);
    }

    /**
     * A BAR left its range: maps every waiting BAR whose range is now free, in refusal order (called under this lock,
     * by the mapper that freed the range). Mapping one never frees another, so one pass suffices.
     */
    synchronized void rangeFreed() {
        for (Iterator<Waiting> it = waiting.iterator(); it.hasNext(); ) {
            Waiting w = it.next();
            if (w.mapper.mapWaiting(w.bar, w.range)) it.remove();
        }
    }
}
