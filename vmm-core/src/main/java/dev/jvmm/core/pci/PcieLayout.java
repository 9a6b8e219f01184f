package dev.jvmm.core.pci;

import dev.jvmm.core.bus.AddressRange;

/**
 * Where a machine's memory map puts PCIe: the ECAM area with one window per segment, and the I/O, 32-bit and
 * 64-bit windows that {@link PcieWindows} shares out between the host bridges. The arch's memory map implements it
 * (the aarch64 one is {@code MemoryMap}), so this package needs no arch code and the map stays the one source of
 * addresses.
 */
public interface PcieLayout {
    /**
     * PCI segments a jvmm machine offers: 0..15. Each gets a 256 MiB ECAM window (PCIe Base 6.0 §7.2.2: 256 buses x
     * 1 MiB) in {@link #ecamArea()}; the aarch64 map also gives each its own ITS.
     */
    int MAX_SEGMENTS = 16;

    /** The ECAM of all {@value #MAX_SEGMENTS} segments. */
    AddressRange ecamArea();

    /** ECAM of one PCIe segment (256 buses), inside {@link #ecamArea()}. */
    AddressRange ecam(int segment);

    /** CPU addresses of the PCI I/O window (memory mapped: not every arch has port instructions). */
    AddressRange pcieIo();

    /** The 32-bit PCI memory window, CPU = PCI address. */
    AddressRange pcieMmio32();

    /** The 64-bit PCI memory window, CPU = PCI address. */
    AddressRange pcieMmio64();
}
