package dev.jvmm.kvm;

import dev.jvmm.headers.linux.aarch64.kvm_h;

/**
 * The in-kernel arm64 interrupt controllers: a vGICv3 (distributor + one redistributor frame pair per vCPU) and
 * optionally a GICv3 ITS (Documentation/virt/kvm/devices/arm-vgic-v3.rst, arm-vgic-its.rst).
 *
 * <p>Order matters: create the vGIC and set its addresses and IRQ count, create every vCPU, then
 * {@link #initialize()} (KVM_DEV_ARM_VGIC_CTRL_INIT needs all vCPUs to exist); then the ITS, its address and its
 * own CTRL_INIT.
 */
public final class ArmVgic implements AutoCloseable {
    private final DeviceFd gic;
    private DeviceFd its;

    private ArmVgic(DeviceFd gic) { this.gic = gic; }

    /**
     * Creates a vGICv3 with its distributor at {@code distBase} (64 KiB) and the redistributor region at
     * {@code redistBase} (128 KiB per vCPU), and {@code nrIrqs} interrupts in all (a multiple of 32, at least 64;
     * the first 32 are the private SGIs and PPIs).
     */
    public static ArmVgic createV3(VmFd vm, long distBase, long redistBase, int nrIrqs) throws ErrnoException {
        if (nrIrqs < 64 || nrIrqs > 1024 || nrIrqs % 32 != 0) {
            throw new IllegalArgumentException("vGIC interrupt count must be a multiple of 32 in [64, 1024]: " + nrIrqs);
        }
        DeviceFd gic = vm.createDevice(dev.jvmm.headers.linux.common.kvm_h.KVM_DEV_TYPE_ARM_VGIC_V3());
        try {
            gic.setAttrU64(kvm_h.KVM_DEV_ARM_VGIC_GRP_ADDR(), kvm_h.KVM_VGIC_V3_ADDR_TYPE_DIST(), distBase);
            gic.setAttrU64(kvm_h.KVM_DEV_ARM_VGIC_GRP_ADDR(), kvm_h.KVM_VGIC_V3_ADDR_TYPE_REDIST(), redistBase);
            gic.setAttrU32(kvm_h.KVM_DEV_ARM_VGIC_GRP_NR_IRQS(), 0, nrIrqs);
            return new ArmVgic(gic);
        } catch (ErrnoException | RuntimeException e) {
            gic.close();
            throw e;
        }
    }

    /** KVM_DEV_ARM_VGIC_CTRL_INIT on the vGIC; call after every vCPU was created and initialized. */
    public void initialize() throws ErrnoException {
        gic.setAttr(kvm_h.KVM_DEV_ARM_VGIC_GRP_CTRL(), kvm_h.KVM_DEV_ARM_VGIC_CTRL_INIT());
    }

    /**
     * Adds a GICv3 ITS whose 64 KiB control frame + 64 KiB translation frame start at {@code base}; MSIs for it
     * are writes to GITS_TRANSLATER at {@code base + 0x10040} carrying a device id.
     */
    public void addIts(VmFd vm, long base) throws ErrnoException {
        if (its != null) throw new IllegalStateException("this vGIC already has an ITS");
        DeviceFd d = vm.createDevice(dev.jvmm.headers.linux.common.kvm_h.KVM_DEV_TYPE_ARM_VGIC_ITS());
        try {
            d.setAttrU64(kvm_h.KVM_DEV_ARM_VGIC_GRP_ADDR(), kvm_h.KVM_VGIC_ITS_ADDR_TYPE(), base);
            d.setAttr(kvm_h.KVM_DEV_ARM_VGIC_GRP_CTRL(), kvm_h.KVM_DEV_ARM_VGIC_CTRL_INIT());
            its = d;
        } catch (ErrnoException | RuntimeException e) {
            d.close();
            throw e;
        }
    }

    public boolean hasIts() { return its != null; }

    /** ITS reset (KVM_DEV_ARM_ITS_CTRL_RESET): on VM reset the guest must find an ITS with empty tables. */
    public void resetIts() throws ErrnoException {
        if (its != null) its.setAttr(kvm_h.KVM_DEV_ARM_VGIC_GRP_CTRL(), kvm_h.KVM_DEV_ARM_ITS_CTRL_RESET());
    }

    @Override
    public void close() throws ErrnoException {
        try {
            if (its != null) its.close();
        } finally {
            gic.close();
        }
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
