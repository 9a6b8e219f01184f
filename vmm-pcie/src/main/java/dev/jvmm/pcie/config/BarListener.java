package dev.jvmm.pcie.config;

import java.util.OptionalLong;

/**
 * Learns where the guest has put a BAR, so the machine can move the MMIO (or port I/O) region that serves
 * it. A BAR decodes only while its space is enabled in the Command register (PCIe Base 6.0 §7.5.1.1.3), so
 * the address is empty while decoding is off.
 *
 * <p>Called with the function's configuration space locked, from the vCPU thread that made the change.
 */
@FunctionalInterface
public interface BarListener {
    /**
     * @param bar        BAR index 0..5 (the lower index of a 64-bit BAR)
     * @param definition the BAR's kind and size
     * @param oldAddress the previous decoded base, empty if it did not decode
     * @param newAddress the new decoded base, empty if it no longer decodes
     */
    void barChanged(int bar, BarDefinition definition, OptionalLong oldAddress, OptionalLong newAddress);

    BarListener NONE = (bar, definition, oldAddress, newAddress) -> {};
}
