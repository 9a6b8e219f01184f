package dev.jvmm.pcie.config;

/**
 * One structure in the PCI-compatible capability list (PCIe Base 6.0 §7.5.1.1.11): a one-byte ID, a one-byte
 * pointer to the next structure, then registers. {@link CapabilityChain} places capabilities and writes the
 * ID and next pointer; a capability fills in the rest and keeps the configuration space it was installed in,
 * because capabilities such as MSI change registers at run time.
 */
public sealed interface Capability
        permits PciExpressCapability,
                PowerManagementCapability,
                MsiCapability,
                MsixCapability,
                VendorSpecificCapability {

    /** Capability ID (see {@code PciSpec.CAP_ID_*}). */
    int id();

    /** Bytes from the ID byte to the end of the structure. */
    int length();

    /**
     * Declares the registers after the two header bytes, at {@code offset} in {@code config}. Called once.
     *
     * @throws IllegalStateException if already installed
     */
    void install(ConfigSpace config, int offset);
}
