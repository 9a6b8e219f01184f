package dev.jvmm.core.pci;

import dev.jvmm.core.bus.AddressRange;
import dev.jvmm.pcie.RootComplex;
import dev.jvmm.pcie.spec.PciSpec;
import java.util.Objects;

/**
 * One host bridge as the machine places it: a root complex, its ECAM window and the address windows it forwards.
 * Offset 0 of {@code ecam} is the root complex's first bus (as a device tree {@code bus-range} describes it); the
 * ECAM base of bus 0, which ACPI's MCFG names, is {@link #ecamBaseOfBus0()}.
 */
public record PcieHostBridge(RootComplex rootComplex, AddressRange ecam, PcieWindows windows) {
    public PcieHostBridge {
        Objects.requireNonNull(rootComplex, "rootComplex");
        Objects.requireNonNull(windows, "windows");
        if (ecam.size() != rootComplex.ecamSize()) {
            throw new IllegalArgumentException("ECAM window %s of root complex '%s' is not %d buses long"
                    .formatted(ecam, rootComplex.name(), rootComplex.lastBus() - rootComplex.firstBus() + 1));
        }
    }

    public String name() {
        return rootComplex.name();
    }

    public int segment() {
        return rootComplex.segment();
    }

    /** ECAM address of bus 0 of this segment (PCI Firmware 3.3 §4.1.2: MCFG's base address). */
    public long ecamBaseOfBus0() {
        return ecam.base() - rootComplex.firstBus() * PciSpec.ECAM_BYTES_PER_BUS;
    }

    @Override
    public String toString() {
        return "host bridge '%s' segment %d buses %02x-%02x ECAM %s io %s (pci 0x%x) mmio32 %s mmio64 %s"
                .formatted(
                        name(),
                        segment(),
                        rootComplex.firstBus(),
                        rootComplex.lastBus(),
                        ecam,
                        windows.io(),
                        windows.ioPciBase(),
                        windows.mmio32(),
                        windows.mmio64());
    }
}
