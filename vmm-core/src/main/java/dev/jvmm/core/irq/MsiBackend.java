package dev.jvmm.core.irq;

import dev.jvmm.kvm.IrqRoute;
import dev.jvmm.pcie.msi.MsiSink;
import dev.jvmm.pcie.msi.RequesterId;
import java.util.Optional;

/**
 * Where the machine's MSIs go: the in-kernel GICv3 ITS ({@link ItsMsiDelivery}) or jvmm's emulated GICv2m frame
 * ({@link Gicv2mFrame}). Two paths lead there and must agree:
 * <ul>
 *   <li>{@link #sink}: a message sent now (KVM_SIGNAL_MSI for the ITS, KVM_IRQ_LINE for v2m), used by the PCIe
 *       model for MSI, for MSI-X pending bits released by an unmask, and as the slow path;</li>
 *   <li>{@link #route}: the same message as a KVM GSI route, for an irqfd that raises it without leaving the
 *       kernel (the fast path of {@link MsixIrqfds}).</li>
 * </ul>
 */
public interface MsiBackend {
    /** The sink for the root complex of PCI segment {@code segment}. */
    MsiSink sink(int segment);

    /**
     * The GSI route that delivers what {@link #sink}{@code (segment).signal(address, data, rid)} would, on GSI
     * {@code gsi}; empty when the message is one the controller drops (wrong doorbell, a SPI the frame does not own).
     */
    Optional<IrqRoute> route(int gsi, int segment, RequesterId rid, long address, int data);

    /** What happened to the messages sent through {@link #sink} so far. */
    MsiStats stats();
}
