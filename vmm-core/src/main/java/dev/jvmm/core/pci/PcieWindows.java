package dev.jvmm.core.pci;

import dev.jvmm.core.bus.AddressRange;
import dev.jvmm.pcie.util.Sizes;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The address windows one host bridge forwards to its PCI hierarchy: where the guest may place BARs and bridge
 * windows below it (a device tree {@code ranges} entry each).
 *
 * <ul>
 *   <li>{@code io}: CPU addresses of the PCI I/O window, inside {@link PcieLayout#pcieIo()}; PCI I/O address
 *       {@code ioPciBase} appears at {@code io.base()} (I/O space is memory mapped);</li>
 *   <li>{@code mmio32}: 32-bit non-prefetchable memory, inside {@link PcieLayout#pcieMmio32()}, CPU = PCI
 *       address;</li>
 *   <li>{@code mmio64}: 64-bit memory, inside {@link PcieLayout#pcieMmio64()}, CPU = PCI address.</li>
 * </ul>
 *
 * <p>The machine-wide windows are split evenly between the host bridges, in order, so no two bridges ever share an
 * address. Granules: I/O 4 KiB and memory 1 MiB, the granularity of a PCI-to-PCI bridge's windows (PCIe Base 6.0
 * §7.5.1.3.6, §7.5.1.3.8), so the first bridge window below a host bridge can start at its base. The 64-bit share
 * is a power of two aligned to its size or to 1 GiB, whichever is smaller, so BARs up to 1 GiB (and, in shares
 * that happen to be aligned, larger ones) fit at their natural alignment. The PCI
 * I/O addresses of all bridges are distinct too (the offset into the machine's I/O window), which keeps one flat
 * I/O map and lets a BAR's CPU address be computed without knowing the bridge.
 */
public record PcieWindows(AddressRange io, long ioPciBase, AddressRange mmio32, AddressRange mmio64) {
    public static final long IO_GRANULE = 4 * Sizes.KiB;
    public static final long MEMORY_GRANULE = Sizes.MiB;

    /**
     * Splits the machine's windows between {@code count} host bridges.
     *
     * @throws IllegalArgumentException when a share would fall below its granule (more than 16 bridges)
     */
    public static List<PcieWindows> allocate(PcieLayout layout, int count) {
        if (count < 0) throw new IllegalArgumentException("host bridge count " + count + " is negative");
        List<PcieWindows> out = new ArrayList<>(count);
        if (count == 0) return out;
        long ioShare = share("I/O", layout.pcieIo(), count, IO_GRANULE);
        long mmio32Share = share("32-bit MMIO", layout.pcieMmio32(), count, MEMORY_GRANULE);
        long mmio64Share = Long.highestOneBit(share("64-bit MMIO", layout.pcieMmio64(), count, MEMORY_GRANULE));
        // The 64-bit window starts at the end of the ECAM area, which the layout keeps 1 GiB aligned; the align-up is
        // a guard, and the containment check below proves the shares still fit.
        long mmio64Base = Sizes.alignUp(layout.pcieMmio64().base(), Math.min(mmio64Share, Sizes.GiB));
        for (int i = 0; i < count; i++) {
            AddressRange io = new AddressRange(layout.pcieIo().base() + i * ioShare, ioShare);
            AddressRange mmio32 = new AddressRange(layout.pcieMmio32().base() + i * mmio32Share, mmio32Share);
            AddressRange mmio64 = new AddressRange(mmio64Base + i * mmio64Share, mmio64Share);
            if (!layout.pcieMmio64().contains(mmio64)) {
                throw new IllegalStateException(
                        "64-bit window share %s does not fit in %s".formatted(mmio64, layout.pcieMmio64()));
            }
            out.add(new PcieWindows(io, io.base() - layout.pcieIo().base(), mmio32, mmio64));
        }
        return out;
    }

    /** The CPU address range a BAR at PCI I/O address {@code pciAddress} occupies, if it lies in this I/O window. */
    public Optional<AddressRange> ioToCpu(long pciAddress, long size) {
        long offset = pciAddress - ioPciBase;
        if (offset < 0 || size <= 0 || offset > io.size() - size) return Optional.empty();
        return Optional.of(new AddressRange(io.base() + offset, size));
    }

    /** Whether a memory BAR at [pciAddress, +size) lies inside one of the memory windows. */
    public boolean holdsMemory(long pciAddress, long size) {
        return mmio32.contains(pciAddress, size) || mmio64.contains(pciAddress, size);
    }

    private static long share(String what, AddressRange window, int count, long granule) {
        long share = window.size() / count / granule * granule;
        if (share == 0) {
            throw new IllegalArgumentException("%d host bridges leave less than %s each of the %s PCIe window %s"
                    .formatted(count, Sizes.format(granule), what, window));
        }
        return share;
    }
}
