package dev.jvmm.core.irq;

import dev.jvmm.core.bus.MmioDevice;
import dev.jvmm.kvm.IrqRoute;
import dev.jvmm.pcie.msi.MsiSink;
import dev.jvmm.pcie.msi.RequesterId;
import java.util.Optional;

/**
 * A GICv2m MSI frame, emulated (KVM has none in-kernel): an MSI is a 32-bit write of an SPI's INTID to
 * MSI_SETSPI_NS, which raises that SPI as an edge (Arm Server Base System Architecture, Appendix E "GICv2m";
 * register offsets as Linux's irq-gic-v2m.c uses them). MSI_TYPER tells the guest which SPIs the frame owns.
 *
 * <p>Both the guest's own CPU writes (through the bus) and device MSIs from the PCIe model (through
 * {@link MsiSink}) land here. A value outside the frame's SPI range, or a message to another address, is counted
 * and dropped: a guest cannot make the frame raise an interrupt it does not own.
 *
 * <p>v2m messages carry no DeviceID, so every segment shares the frame; as an irqfd route the same message is
 * the SPI itself (KVM_IRQ_ROUTING_IRQCHIP, irqchip 0, pin = INTID - 32, which KVM raises as an edge).
 */
public final class Gicv2mFrame implements MmioDevice, MsiSink, MsiBackend {
    static final int MSI_TYPER = 0x008;
    static final int MSI_SETSPI_NS = 0x040;
    static final int MSI_IIDR = 0xFCC;

    /** Raises one edge on a GIC SPI, by INTID. */
    @FunctionalInterface
    public interface SpiPulse {
        void pulse(int intid);
    }

    private final long base;
    private final int firstIntid;
    private final int count;
    private final SpiPulse pulse;
    private final MsiStats stats = new MsiStats();

    /**
     * @param base       guest-physical address of the 4 KiB frame
     * @param firstIntid INTID of the first SPI the frame owns (>= 32)
     * @param count      number of SPIs (1..1023)
     */
    public Gicv2mFrame(long base, int firstIntid, int count, SpiPulse pulse) {
        if (firstIntid < 32 || count < 1 || firstIntid + count > 1020) {
            throw new IllegalArgumentException(
                    "GICv2m SPIs %d..%d are not SPIs".formatted(firstIntid, firstIntid + count - 1));
        }
        this.base = base;
        this.firstIntid = firstIntid;
        this.count = count;
        this.pulse = pulse;
    }

    /** The address devices' MSI vectors must carry. */
    public long doorbell() {
        return base + MSI_SETSPI_NS;
    }

    @Override
    public long read(long offset, int size) {
        if (size != 4) return 0;
        return switch ((int) offset) {
            // [25:16] first SPI (as INTID), [9:0] number of SPIs.
            case MSI_TYPER -> Integer.toUnsignedLong((firstIntid & 0x3FF) << 16 | (count & 0x3FF));
            default -> 0; // MSI_IIDR reads 0 too: no implementer code
        };
    }

    @Override
    public void write(long offset, int size, long value) {
        if (offset == MSI_SETSPI_NS && (size == 4 || size == 2)) setSpi((int) value);
        else stats.rejected();
    }

    @Override
    public void signal(long address, int data, RequesterId requesterId) {
        if (address == doorbell()) setSpi(data);
        else stats.rejected();
    }

    @Override
    public MsiSink sink(int segment) {
        return this;
    }

    @Override
    public Optional<IrqRoute> route(int gsi, int segment, RequesterId rid, long address, int data) {
        if (address != doorbell() || !owns(data)) return Optional.empty();
        return Optional.of(new IrqRoute.Irqchip(gsi, 0, data - 32));
    }

    @Override
    public MsiStats stats() {
        return stats;
    }

    private boolean owns(int intid) {
        return intid >= firstIntid && intid < firstIntid + count;
    }

    private void setSpi(int intid) {
        if (!owns(intid)) {
            stats.rejected();
            return;
        }
        stats.delivered();
        pulse.pulse(intid);
    }

    public long raised() {
        return stats.deliveredCount();
    }

    public long rejected() {
        return stats.rejectedCount();
    }
}
