package dev.jvmm.kvm;

import dev.jvmm.headers.linux.aarch64.kvm_h;
import java.util.ArrayList;
import java.util.List;

/**
 * The in-kernel arm64 interrupt controllers: a vGICv3 (distributor + one redistributor frame pair per vCPU) with
 * zero or more GICv3 ITSes (Documentation/virt/kvm/devices/arm-vgic-v3.rst, arm-vgic-its.rst), or, on hosts whose
 * GIC has no v3 CPU interface for guests, a vGICv2 (distributor + CPU interface, devices/arm-vgic.rst), which can
 * have no ITS.
 *
 * <p>Order matters: create the vGIC and set its addresses and IRQ count, create every vCPU, then
 * {@link #initialize()} (KVM_DEV_ARM_VGIC_CTRL_INIT needs all vCPUs to exist); then each ITS, its address and its
 * own CTRL_INIT.
 *
 * <p>Several ITSes: one per PCIe segment, each with its own doorbell frame. KVM finds the ITS an MSI is for by the
 * doorbell address of the message (KVM_SIGNAL_MSI, or an MSI GSI route; vgic_msi_to_its() looks up the ITS
 * whose GITS_TRANSLATER the address hits), so the address alone selects the ITS and the device id is per ITS.
 */
public final class Aarch64Vgic implements AutoCloseable {
    /** arm-vgic-v3.rst: distributor and redistributors are 64 KiB aligned; the ITS needs 64 KiB too (arm-vgic-its.rst). */
    private static final long V3_ALIGN = 0x1_0000;
    /** arm-vgic.rst: the GICv2 distributor and CPU interface are 4 KiB aligned. */
    private static final long V2_ALIGN = 0x1000;
    /** An ITS occupies two 64 KiB frames: control (GITS_CTLR ...) and translation (GITS_TRANSLATER). */
    public static final long ITS_SIZE = 0x2_0000;
    /** Offset of GITS_TRANSLATER, the doorbell, from an ITS base: in the second frame, at 0x40. */
    public static final long ITS_TRANSLATER_OFFSET = 0x1_0040;

    private final DeviceFd gic;
    private final boolean v3;
    private final List<Its> itses = new ArrayList<>();

    private record Its(DeviceFd device, long base) {}

    /** Takes ownership of a vGIC device; v2 or v3 follows from its KVM_DEV_TYPE. */
    Aarch64Vgic(DeviceFd gic) {
        this.gic = gic;
        this.v3 = gic.type() == dev.jvmm.headers.linux.common.kvm_h.KVM_DEV_TYPE_ARM_VGIC_V3();
    }

    /**
     * Creates a vGICv3 with its distributor at {@code distBase} (64 KiB) and the redistributor region at
     * {@code redistBase} (128 KiB per vCPU), and {@code nrIrqs} interrupts in all (a multiple of 32, at least 64;
     * the first 32 are the private SGIs and PPIs). Both bases must be 64 KiB aligned (arm-vgic-v3.rst).
     */
    public static Aarch64Vgic createV3(VmFd vm, long distBase, long redistBase, int nrIrqs) throws ErrnoException {
        checkNrIrqs(nrIrqs);
        checkAligned("vGICv3 distributor", distBase, V3_ALIGN);
        checkAligned("vGICv3 redistributor region", redistBase, V3_ALIGN);
        DeviceFd gic = vm.createDevice(dev.jvmm.headers.linux.common.kvm_h.KVM_DEV_TYPE_ARM_VGIC_V3());
        try {
            gic.setAttrU64(kvm_h.KVM_DEV_ARM_VGIC_GRP_ADDR(), kvm_h.KVM_VGIC_V3_ADDR_TYPE_DIST(), distBase);
            gic.setAttrU64(kvm_h.KVM_DEV_ARM_VGIC_GRP_ADDR(), kvm_h.KVM_VGIC_V3_ADDR_TYPE_REDIST(), redistBase);
            gic.setAttrU32(kvm_h.KVM_DEV_ARM_VGIC_GRP_NR_IRQS(), 0, nrIrqs);
            return new Aarch64Vgic(gic);
        } catch (ErrnoException | RuntimeException e) {
            gic.close();
            throw e;
        }
    }

    /**
     * Creates a vGICv2 (KVM_DEV_TYPE_ARM_VGIC_V2, for hosts that cannot give guests a GICv3) with its distributor
     * at {@code distBase} (4 KiB) and its CPU interface at {@code cpuBase} (8 KiB), both 4 KiB aligned and not
     * overlapping, and {@code nrIrqs} interrupts in all (as for {@link #createV3}). Then create the vCPUs (at most
     * 8: GICv2 has 8 CPU interfaces) and {@link #initialize()} (devices/arm-vgic.rst, KVM_DEV_ARM_VGIC_GRP_ADDR,
     * KVM_DEV_ARM_VGIC_GRP_NR_IRQS, KVM_DEV_ARM_VGIC_GRP_CTRL).
     */
    public static Aarch64Vgic createV2(VmFd vm, long distBase, long cpuBase, int nrIrqs) throws ErrnoException {
        checkNrIrqs(nrIrqs);
        checkAligned("vGICv2 distributor", distBase, V2_ALIGN);
        checkAligned("vGICv2 CPU interface", cpuBase, V2_ALIGN);
        long distSize = kvm_h.KVM_VGIC_V2_DIST_SIZE();
        long cpuSize = kvm_h.KVM_VGIC_V2_CPU_SIZE();
        if (overlaps(distBase, distSize, cpuBase, cpuSize)) {
            throw new IllegalArgumentException(
                    "vGICv2 distributor [0x%x, +0x%x) and CPU interface [0x%x, +0x%x) overlap"
                            .formatted(distBase, distSize, cpuBase, cpuSize));
        }
        DeviceFd gic = vm.createDevice(dev.jvmm.headers.linux.common.kvm_h.KVM_DEV_TYPE_ARM_VGIC_V2());
        try {
            gic.setAttrU64(kvm_h.KVM_DEV_ARM_VGIC_GRP_ADDR(), kvm_h.KVM_VGIC_V2_ADDR_TYPE_DIST(), distBase);
            gic.setAttrU64(kvm_h.KVM_DEV_ARM_VGIC_GRP_ADDR(), kvm_h.KVM_VGIC_V2_ADDR_TYPE_CPU(), cpuBase);
            gic.setAttrU32(kvm_h.KVM_DEV_ARM_VGIC_GRP_NR_IRQS(), 0, nrIrqs);
            return new Aarch64Vgic(gic);
        } catch (ErrnoException | RuntimeException e) {
            gic.close();
            throw e;
        }
    }

    /** arm-vgic.rst / arm-vgic-v3.rst, KVM_DEV_ARM_VGIC_GRP_NR_IRQS: 64 to 1024 in steps of 32. */
    private static void checkNrIrqs(int nrIrqs) {
        if (nrIrqs < 64 || nrIrqs > 1024 || nrIrqs % 32 != 0) {
            throw new IllegalArgumentException(
                    "vGIC interrupt count must be a multiple of 32 in [64, 1024]: " + nrIrqs);
        }
    }

    private static void checkAligned(String what, long base, long alignment) {
        if (base < 0 || (base & (alignment - 1)) != 0) {
            throw new IllegalArgumentException(
                    "%s base 0x%x must be %d KiB aligned".formatted(what, base, alignment >> 10));
        }
    }

    private static boolean overlaps(long a, long aSize, long b, long bSize) {
        return a < b + bSize && b < a + aSize;
    }

    /** True for a vGICv3, false for a vGICv2. */
    public boolean isV3() {
        return v3;
    }

    /** KVM_DEV_ARM_VGIC_CTRL_INIT on the vGIC; call after every vCPU was created and initialized. */
    public void initialize() throws ErrnoException {
        gic.setAttr(kvm_h.KVM_DEV_ARM_VGIC_GRP_CTRL(), kvm_h.KVM_DEV_ARM_VGIC_CTRL_INIT());
    }

    /**
     * Adds a GICv3 ITS whose 64 KiB control frame + 64 KiB translation frame start at {@code base} (64 KiB
     * aligned); MSIs for it are writes to GITS_TRANSLATER at {@code base + 0x10040} carrying a device id. May be
     * called once per ITS wanted (one per PCIe segment); the frames of two ITSes must not overlap. A vGICv2 has
     * no ITS ({@link IllegalStateException}).
     */
    public void addIts(VmFd vm, long base) throws ErrnoException {
        if (!v3) throw new IllegalStateException("a vGICv2 cannot have an ITS (GICv3 only)");
        checkAligned("ITS", base, V3_ALIGN);
        for (Its other : itses) {
            if (overlaps(base, ITS_SIZE, other.base(), ITS_SIZE)) {
                throw new IllegalArgumentException(
                        "ITS at 0x%x overlaps the ITS at 0x%x (each takes 128 KiB)".formatted(base, other.base()));
            }
        }
        DeviceFd d = vm.createDevice(dev.jvmm.headers.linux.common.kvm_h.KVM_DEV_TYPE_ARM_VGIC_ITS());
        try {
            d.setAttrU64(kvm_h.KVM_DEV_ARM_VGIC_GRP_ADDR(), kvm_h.KVM_VGIC_ITS_ADDR_TYPE(), base);
            d.setAttr(kvm_h.KVM_DEV_ARM_VGIC_GRP_CTRL(), kvm_h.KVM_DEV_ARM_VGIC_CTRL_INIT());
            itses.add(new Its(d, base));
        } catch (ErrnoException | RuntimeException e) {
            d.close();
            throw e;
        }
    }

    /**
     * Takes ownership of an ITS device that is already configured at {@code base}. Package-private so that tests
     * can check the list's bookkeeping (overlap refusal, close of every ITS) without arm64 KVM.
     */
    void adoptIts(DeviceFd d, long base) {
        if (!v3) throw new IllegalStateException("a vGICv2 cannot have an ITS (GICv3 only)");
        itses.add(new Its(d, base));
    }

    public boolean hasIts() {
        return !itses.isEmpty();
    }

    /** How many ITSes {@link #addIts} added. */
    public int itsCount() {
        return itses.size();
    }

    /** The base addresses of the ITSes, in the order they were added. */
    public List<Long> itsBases() {
        return itses.stream().map(Its::base).toList();
    }

    /** Closes every ITS, then the vGIC, all of them even when a close fails (the first failure is thrown). */
    @Override
    public void close() throws ErrnoException {
        ErrnoException failure = null;
        List<DeviceFd> all = new ArrayList<>();
        for (Its its : itses) all.add(its.device());
        all.add(gic);
        for (DeviceFd d : all) {
            try {
                d.close();
            } catch (ErrnoException e) {
                if (failure == null) failure = e;
                else failure.addSuppressed(e);
            }
        }
        if (failure != null) throw failure;
    }

    /**
     * The {@code irq} word of KVM_IRQ_LINE for a shared peripheral interrupt (api.rst §4.25, arm64): type SPI, and
     * the GIC INTID (32 + the SPI number used in the device tree).
     */
    public static int spiLine(int intid) {
        if (intid < 32 || intid > 1019) throw new IllegalArgumentException("SPI INTIDs are 32..1019: " + intid);
        return (kvm_h.KVM_ARM_IRQ_TYPE_SPI() << kvm_h.KVM_ARM_IRQ_TYPE_SHIFT())
                | ((intid & kvm_h.KVM_ARM_IRQ_NUM_MASK()) << kvm_h.KVM_ARM_IRQ_NUM_SHIFT());
    }
}
