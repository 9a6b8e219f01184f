package dev.jvmm.core.arch.aarch64;

import dev.jvmm.core.bus.AddressRange;
import dev.jvmm.core.pci.PcieLayout;
import dev.jvmm.pcie.util.Sizes;
import java.util.ArrayList;
import java.util.List;

/**
 * The guest-physical layout of the aarch64 machine, modelled on QEMU's {@code virt} board (hw/arm/virt.c
 * {@code base_memmap}), which the arm64 Linux kernel knows well:
 *
 * <pre>
 *   0x0800_0000  64 KiB   GICv3 distributor                      (GICD)
 *   0x0801_0000  64 KiB   GICv2 CPU interface (8 KiB used), on a GICv2 machine
 *   0x0802_0000   4 KiB   GICv2m MSI frame                       (used when the MSI controller is v2m)
 *   0x0808_0000 128 KiB   GICv3 ITS                              (GITS, with its translater page)
 *   0x080A_0000 128 KiB/vCPU  GICv3 redistributors (RD + SGI frame per vCPU; room for 123 below 0x0900_0000)
 *   0x0900_0000   4 KiB   PL011 UART, SPI 1
 *   0x0901_0000   4 KiB   PL031 RTC, SPI 2
 *   0x0902_0000   2 B     pvpanic (qemu,pvpanic-mmio): the guest kernel reports a panic
 *   0x0A00_0000   2 MiB   ITSes of PCIe segments 1..15 (one vITS per segment, 128 KiB each, DeviceIdMapping)
 *   0x1000_0000  ~752 MiB PCIe 32-bit MMIO window                  (0x1000_0000 - 0x3EFE_FFFF)
 *   0x3EFF_0000  64 KiB   PCIe I/O port window (reserved; arm64 Linux can map it, modern devices do not need it)
 *   0x4000_0000  RAM      from 1 GiB, ramSize bytes
 *   high base    4 GiB    ECAM: 16 segments x 256 MiB (256 buses x 32 devices x 8 functions x 4 KiB, PCIe Base 6.0 §7.2.2)
 *   then         &lt;=512 GiB PCIe 64-bit MMIO window, up to the IPA limit
 * </pre>
 *
 * The high area starts at max(4 GiB, RAM end rounded up to 1 GiB): QEMU instead starts at 256 GiB for
 * historical reasons, which would not fit a 36-bit IPA (Apple M1-class hosts); placing it right above RAM does.
 * The whole map must lie below 2^ipaBits; the VM must be created with that IPA size (KVM_VM_TYPE_ARM_IPA_SIZE)
 * when it is larger than KVM's default of 40 bits.
 *
 * <p>Interrupts (SPI numbers, INTID = 32 + SPI): UART 1, RTC 2, PCIe INTx 3-6 (as QEMU), GICv2m frame
 * 48-111 (64 SPIs, as QEMU's v2m at SPI 48). The vGIC is sized for {@link #GIC_NR_IRQS} INTIDs.
 */
public final class MemoryMap implements PcieLayout {
    public static final long KiB = Sizes.KiB, MiB = Sizes.MiB, GiB = Sizes.GiB;

    public static final AddressRange GIC_DIST = new AddressRange(0x0800_0000L, 64 * KiB);
    /** QEMU's GICv2 CPU interface: used by a GICv2 machine, left free by a GICv3 one. */
    public static final AddressRange GIC_CPU = new AddressRange(0x0801_0000L, 64 * KiB);
    /** What KVM's vGICv2 decodes (KVM_VGIC_V2_DIST_SIZE, KVM_VGIC_V2_CPU_SIZE in arm64's uapi kvm.h). */
    public static final long GIC_V2_DIST_SIZE = 4 * KiB, GIC_V2_CPU_SIZE = 8 * KiB;
    /** A GICv2 addresses at most 8 CPU interfaces (GICv2 architecture, IHI 0048B §1.1: ITARGETSR has 8 bits). */
    public static final int GIC_V2_MAX_VCPUS = 8;

    public static final AddressRange GIC_V2M = new AddressRange(0x0802_0000L, 4 * KiB);
    public static final AddressRange GIC_ITS = new AddressRange(0x0808_0000L, 128 * KiB);
    /** GICv3 §12.10: one redistributor = RD_base + SGI_base frames of 64 KiB each (no VLPI frames: not GICv4). */
    public static final long GIC_REDIST_SIZE_PER_CPU = 128 * KiB;

    public static final long GIC_REDIST_BASE = 0x080A_0000L;
    /** All the room the redistributors may take, up to the UART (QEMU's VIRT_GIC_REDIST). */
    public static final AddressRange GIC_REDIST_AREA = AddressRange.ofEnd(GIC_REDIST_BASE, 0x0900_0000L);
    /** vCPUs whose redistributors fit in {@link #GIC_REDIST_AREA}: 123. */
    public static final int MAX_VCPUS = (int) (GIC_REDIST_AREA.size() / GIC_REDIST_SIZE_PER_CPU);

    public static final AddressRange UART = new AddressRange(0x0900_0000L, 4 * KiB);
    public static final AddressRange RTC = new AddressRange(0x0901_0000L, 4 * KiB);
    /** The pvpanic register: one byte used, two in the device tree's reg as QEMU's pvpanic-mmio has. */
    public static final AddressRange PVPANIC = new AddressRange(0x0902_0000L, 2);
    /** The ITSes of PCIe segments 1..15, 128 KiB each (segment 0's is {@link #GIC_ITS}); 16 slots reserved. */
    public static final AddressRange SEGMENT_ITS_AREA = new AddressRange(0x0A00_0000L, 16 * 128 * KiB);

    public static final AddressRange PCIE_MMIO32 = new AddressRange(0x1000_0000L, 0x2EFF_0000L);
    public static final AddressRange PCIE_PIO = new AddressRange(0x3EFF_0000L, 64 * KiB);

    public static final long RAM_BASE = 0x4000_0000L;
    public static final long MIN_RAM = 64 * MiB;
    /** RAM comes in 2 MiB blocks: the kernel's block mappings and huge pages both like that. */
    public static final long RAM_ALIGN = 2 * MiB;

    /** PCIe Base 6.0 §7.2.2: ECAM of one segment = 256 buses x 1 MiB. */
    public static final long ECAM_SEGMENT_SIZE = 256 * MiB;

    public static final int MAX_PCIE_SEGMENTS = PcieLayout.MAX_SEGMENTS;
    public static final long MAX_PCIE_MMIO64 = 512 * GiB;
    public static final long MIN_PCIE_MMIO64 = 1 * GiB;

    public static final int MIN_IPA_BITS = 32, MAX_IPA_BITS = 52;

    // SPI numbers (INTID - 32).
    public static final int SPI_UART = 1;
    public static final int SPI_RTC = 2;
    public static final int SPI_PCIE_INTX = 3; // INTA..INTD = 3..6
    public static final int SPI_V2M_BASE = 48;
    public static final int V2M_SPI_COUNT = 64;
    /** INTIDs the vGIC must provide (KVM_DEV_ARM_VGIC_GRP_NR_IRQS): SGIs + PPIs + SPIs up to the v2m block. */
    public static final int GIC_NR_IRQS = 256;

    private final int vcpus;
    private final long ramSize;
    private final int ipaBits;
    private final AddressRange ecamArea;
    private final AddressRange pcieMmio64;

    private MemoryMap(int vcpus, long ramSize, int ipaBits, AddressRange ecamArea, AddressRange pcieMmio64) {
        this.vcpus = vcpus;
        this.ramSize = ramSize;
        this.ipaBits = ipaBits;
        this.ecamArea = ecamArea;
        this.pcieMmio64 = pcieMmio64;
    }

    /**
     * Lays out a machine.
     *
     * @param vcpus     1..min(maxVcpus, {@value #MAX_VCPUS})
     * @param ramSize   bytes, at least 64 MiB, a multiple of 2 MiB
     * @param ipaBits   guest physical address bits the VM will have (KVM_CAP_ARM_VM_IPA_SIZE bounds it; KVM's
     *                  default is 40)
     * @param maxVcpus  the host's limit (KVM_CAP_MAX_VCPUS)
     * @throws IllegalArgumentException naming the value and the limit it broke
     */
    public static MemoryMap create(int vcpus, long ramSize, int ipaBits, int maxVcpus) {
        int limit = Math.min(maxVcpus, MAX_VCPUS);
        if (vcpus < 1 || vcpus > limit) {
            throw new IllegalArgumentException("vCPU count %d is out of range 1..%d (%s)"
                    .formatted(
                            vcpus,
                            limit,
                            limit == MAX_VCPUS
                                    ? "the GICv3 redistributor area below the UART holds " + MAX_VCPUS
                                    : "the host's KVM allows " + maxVcpus));
        }
        if (ipaBits < MIN_IPA_BITS || ipaBits > MAX_IPA_BITS) {
            throw new IllegalArgumentException(
                    "IPA size %d bits is out of range %d..%d".formatted(ipaBits, MIN_IPA_BITS, MAX_IPA_BITS));
        }
        if (ramSize < MIN_RAM) {
            throw new IllegalArgumentException(
                    "RAM size %s is below the minimum of %s".formatted(Sizes.format(ramSize), Sizes.format(MIN_RAM)));
        }
        if (ramSize % RAM_ALIGN != 0) {
            throw new IllegalArgumentException("RAM size %d bytes is not a multiple of 2 MiB".formatted(ramSize));
        }
        long ipaLimit = 1L << ipaBits;
        long ramEnd = RAM_BASE + ramSize; // no overflow: ramSize <= ipaLimit is checked next, and ipaLimit <= 2^52
        if (ramSize > ipaLimit || ramEnd > ipaLimit) {
            throw new IllegalArgumentException("RAM of %s from 0x%x ends at 0x%x, beyond the %d-bit IPA limit 0x%x"
                    .formatted(Sizes.format(ramSize), RAM_BASE, ramEnd, ipaBits, ipaLimit));
        }
        long highBase = Math.max(4 * GiB, Sizes.alignUp(ramEnd, GiB));
        long ecamEnd = highBase + MAX_PCIE_SEGMENTS * ECAM_SEGMENT_SIZE;
        long mmio64End = Math.min(ipaLimit, ecamEnd + MAX_PCIE_MMIO64);
        if (mmio64End - ecamEnd < MIN_PCIE_MMIO64) {
            throw new IllegalArgumentException(
                    ("RAM of %s leaves no room below the %d-bit IPA limit 0x%x for the PCIe ECAM "
                                    + "(0x%x, %s) and a 64-bit MMIO window of at least %s: use less RAM or a larger IPA")
                            .formatted(
                                    Sizes.format(ramSize),
                                    ipaBits,
                                    ipaLimit,
                                    highBase,
                                    Sizes.format(ecamEnd - highBase),
                                    Sizes.format(MIN_PCIE_MMIO64)));
        }
        return new MemoryMap(
                vcpus, ramSize, ipaBits, AddressRange.ofEnd(highBase, ecamEnd), AddressRange.ofEnd(ecamEnd, mmio64End));
    }

    /** {@link #create(int, long, int, int)} with no host vCPU limit below {@value #MAX_VCPUS}. */
    public static MemoryMap create(int vcpus, long ramSize, int ipaBits) {
        return create(vcpus, ramSize, ipaBits, MAX_VCPUS);
    }

    public int vcpus() {
        return vcpus;
    }

    public int ipaBits() {
        return ipaBits;
    }

    public AddressRange ram() {
        return new AddressRange(RAM_BASE, ramSize);
    }

    /** The redistributor region KVM is given (KVM_VGIC_V3_ADDR_TYPE_REDIST): exactly one frame pair per vCPU. */
    public AddressRange redistributors() {
        return new AddressRange(GIC_REDIST_BASE, vcpus * GIC_REDIST_SIZE_PER_CPU);
    }

    /** Room for the ECAM of {@value #MAX_PCIE_SEGMENTS} segments, above RAM and above 4 GiB. */
    @Override
    public AddressRange ecamArea() {
        return ecamArea;
    }

    /** ECAM of one PCIe segment (256 buses). */
    @Override
    public AddressRange ecam(int segment) {
        if (segment < 0 || segment >= MAX_PCIE_SEGMENTS) {
            throw new IllegalArgumentException(
                    "PCIe segment %d is out of range 0..%d".formatted(segment, MAX_PCIE_SEGMENTS - 1));
        }
        return new AddressRange(ecamArea.base() + segment * ECAM_SEGMENT_SIZE, ECAM_SEGMENT_SIZE);
    }

    /** {@link #PCIE_PIO}: arm64 has no port instructions, so PCI I/O space is memory mapped. */
    @Override
    public AddressRange pcieIo() {
        return PCIE_PIO;
    }

    /** {@link #PCIE_MMIO32}. */
    @Override
    public AddressRange pcieMmio32() {
        return PCIE_MMIO32;
    }

    /** The 64-bit PCIe MMIO window: from the end of the ECAM area, up to 512 GiB, below the IPA limit. */
    @Override
    public AddressRange pcieMmio64() {
        return pcieMmio64;
    }

    /** GIC INTID of an SPI (GICv3 §2.2.1: SPIs are INTIDs 32-1019). */
    public static int spiIntid(int spi) {
        return 32 + spi;
    }

    /** MPIDR_EL1 affinity KVM gives vCPU {@code index} (arch/arm64/kvm/sys_regs.c reset_mpidr: 16 per Aff0). */
    public static long mpidr(int index) {
        return (index & 0xfL) | ((long) (index >>> 4) & 0xff) << 8 | ((long) (index >>> 12) & 0xff) << 16;
    }

    /** Every named region, in address order, for logs and for checking that nothing overlaps. */
    public List<Named> regions() {
        List<Named> all = new ArrayList<>(List.of(
                new Named("gic-dist", GIC_DIST),
                new Named("gic-cpu (GICv2)", GIC_CPU),
                new Named("gic-v2m", GIC_V2M),
                new Named("gic-its", GIC_ITS),
                new Named("gic-redist", redistributors()),
                new Named("uart-pl011", UART),
                new Named("rtc-pl031", RTC),
                new Named("pvpanic", PVPANIC),
                new Named("gic-its (segments 1-15)", SEGMENT_ITS_AREA),
                new Named("pcie-mmio32", PCIE_MMIO32),
                new Named("pcie-pio", PCIE_PIO),
                new Named("ram", ram()),
                new Named("pcie-ecam", ecamArea),
                new Named("pcie-mmio64", pcieMmio64)));
        all.sort((a, b) -> Long.compareUnsigned(a.range().base(), b.range().base()));
        return all;
    }

    /** A region with its name. */
    public record Named(String name, AddressRange range) {}

    /** The map as a table, one region per line. */
    public String describe() {
        StringBuilder sb = new StringBuilder(
                "aarch64 memory map: %d vCPUs, %s RAM, %d-bit IPA%n".formatted(vcpus, Sizes.format(ramSize), ipaBits));
        for (Named n : regions()) {
            sb.append("  0x%012x-0x%012x %10s  %s%n"
                    .formatted(
                            n.range().base(),
                            n.range().last(),
                            Sizes.format(n.range().size()),
                            n.name()));
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return "MemoryMap[vcpus=%d, ram=%s, ipaBits=%d]".formatted(vcpus, ram(), ipaBits);
    }
}
