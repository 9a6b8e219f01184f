package dev.jvmm.core.irq;

import dev.jvmm.core.arch.aarch64.MemoryMap;
import dev.jvmm.pcie.msi.RequesterId;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

/**
 * How a PCIe requester becomes a GICv3 ITS DeviceID, for every segment: <b>one vITS per PCIe segment</b>, each with
 * its own doorbell, and DeviceID = the 16-bit requester id within it.
 *
 * <p>Why: KVM's vITS takes 16-bit DeviceIDs only ({@code VITS_TYPER_DEVBITS 16}, arch/arm64/kvm/vgic/vgic-its.c),
 * so {@code segment << 16 | RID} reaches segment 0 alone. KVM picks the ITS of a message by its doorbell address
 * (KVM_SIGNAL_MSI and MSI routes look the ITS up by {@code address}, vgic_msi_to_its), so an ITS per segment gives
 * every segment the whole RID space with no folding and no limit on buses.
 *
 * <p>This one object is what the device tree's {@code msi-map} of each host bridge
 * ({@code <0 &its-of-the-segment 0 0x10000>}: RID r is DeviceID r), {@link ItsMsiDelivery} (KVM_SIGNAL_MSI) and the
 * irqfd routes of {@link MsixIrqfds} are built from, and later the ACPI IORT (one ITS group and one ID mapping per
 * root complex); they cannot disagree.
 *
 * <p>Segment 0's ITS sits where QEMU's virt board puts its only one (0x0808_0000); segment s &gt; 0 uses slot s - 1
 * of {@link MemoryMap#SEGMENT_ITS_AREA}.
 */
public final class DeviceIdMapping {
    /** GITS_TRANSLATER's offset from the ITS base: in the second 64 KiB frame (IHI 0069 §12.19). */
    public static final long GITS_TRANSLATER = 0x1_0040;
    /** Each ITS owns the whole requester id space of its segment (PCIe Base 6.0 §2.2.6.2: bus, device, function). */
    public static final int RID_COUNT = 0x1_0000;
    /** One ITS frame pair: 64 KiB control + 64 KiB translation (IHI 0069 §12.1). */
    public static final long ITS_SIZE = 128 * MemoryMap.KiB;

    /** The ITS that serves one segment. */
    public record Its(int segment, long base) {
        /** The address the guest programs into MSI/MSI-X vectors of this segment's functions. */
        public long doorbell() {
            return base + GITS_TRANSLATER;
        }

        /** Its device tree node name, {@code its@<base>}. */
        public String nodeName() {
            return "its@" + Long.toHexString(base);
        }
    }

    private final List<Its> its;
    private final Its[] bySegment = new Its[MemoryMap.MAX_PCIE_SEGMENTS];

    private DeviceIdMapping(List<Its> its) {
        this.its = List.copyOf(its);
        for (Its i : its) bySegment[i.segment()] = i;
    }

    /**
     * An ITS for segment 0 (always: the guest's ITS driver probes it even with no PCIe) and for every segment in
     * {@code segments}.
     *
     * @throws IllegalArgumentException for a segment outside 0..{@value MemoryMap#MAX_PCIE_SEGMENTS}-1
     */
    public static DeviceIdMapping forSegments(Collection<Integer> segments) {
        TreeSet<Integer> all = new TreeSet<>(segments);
        all.add(0);
        List<Its> its = new ArrayList<>();
        for (int s : all) its.add(new Its(s, itsBase(s)));
        return new DeviceIdMapping(its);
    }

    /** Where segment {@code segment}'s ITS is placed in the memory map. */
    public static long itsBase(int segment) {
        if (segment < 0 || segment >= MemoryMap.MAX_PCIE_SEGMENTS) {
            throw new IllegalArgumentException(
                    "PCIe segment %d is out of range 0..%d".formatted(segment, MemoryMap.MAX_PCIE_SEGMENTS - 1));
        }
        return segment == 0 ? MemoryMap.GIC_ITS.base() : MemoryMap.SEGMENT_ITS_AREA.base() + (segment - 1) * ITS_SIZE;
    }

    /** Every ITS, by segment. */
    public List<Its> its() {
        return its;
    }

    /** The ITS of {@code segment}, if the machine has one for it. */
    public Optional<Its> its(int segment) {
        return segment < 0 || segment >= bySegment.length ? Optional.empty() : Optional.ofNullable(bySegment[segment]);
    }

    /** The DeviceID of a requester within its segment's ITS: the requester id itself (msi-map base 0). */
    public static int deviceId(RequesterId rid) {
        return rid.value();
    }

    @Override
    public String toString() {
        return "DeviceIdMapping" + its;
    }
}
