package dev.jvmm.pcie.msi;

/**
 * Where message signalled interrupts leave the PCIe model. An MSI is a DWORD memory write of {@code data} to
 * {@code address}, tagged with the requester id of the function that sent it (PCIe Base 6.0 §6.1.4.4); on
 * aarch64 the requester id becomes the ITS DeviceID (the machine's DeviceIdMapping).
 *
 * <p>One sink serves one root complex, so the sink knows the PCI segment. Implementations are called from
 * device threads and vCPU threads at once and must not call back into the PCIe model.
 */
@FunctionalInterface
public interface MsiSink {
    void signal(long address, int data, RequesterId requesterId);

    /** A sink that drops every message: the state of a root complex before the machine connects it. */
    MsiSink DISCONNECTED = (address, data, requesterId) -> {};
}
