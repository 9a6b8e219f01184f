package dev.jvmm.kvm;

import dev.jvmm.headers.linux.aarch64.kvm_h;

/**
 * arm64 register ids for KVM_GET_ONE_REG / KVM_SET_ONE_REG (api.rst §4.68, "ARM64 registers").
 *
 * <p>Core registers are addressed by their offset in {@code struct kvm_regs} in 32-bit words; the kernel's
 * {@code KVM_REG_ARM_CORE_REG(name)} is a function-like macro, which the generator (like jextract) cannot
 * emit, so the offsets come from the generated {@code user_pt_regs} layout instead.
 */
public final class Aarch64Regs {
    private Aarch64Regs() {}

    private static long core(long byteOffset) {
        return kvm_h.KVM_REG_ARM64() | kvm_h.KVM_REG_SIZE_U64() | kvm_h.KVM_REG_ARM_CORE() | (byteOffset / 4);
    }

    /**
     * Offset of {@code struct user_pt_regs regs} in {@code struct kvm_regs}: it is the first member, so 0 (C11
     * 6.7.2.1p15). kvm_regs is not generated (its 128-bit FP registers need 16-byte alignment).
     */
    private static final long PT_REGS = 0;

    /** General purpose register Xn, 0..30. */
    public static long x(int n) {
        if (n < 0 || n > 30) throw new IllegalArgumentException("no register x" + n);
        return core(PT_REGS + dev.jvmm.headers.linux.aarch64.user_pt_regs.regs$offset() + 8L * n);
    }

    public static final long PC = core(PT_REGS + dev.jvmm.headers.linux.aarch64.user_pt_regs.pc$offset());
    public static final long PSTATE = core(PT_REGS + dev.jvmm.headers.linux.aarch64.user_pt_regs.pstate$offset());

    /**
     * A system register by its encoding (the kernel's {@code ARM64_SYS_REG(op0, op1, crn, crm, op2)}, built from
     * the generated shift and mask constants).
     */
    public static long sysreg(int op0, int op1, int crn, int crm, int op2) {
        return kvm_h.KVM_REG_ARM64()
                | kvm_h.KVM_REG_SIZE_U64()
                | kvm_h.KVM_REG_ARM64_SYSREG()
                | (((long) op0 << kvm_h.KVM_REG_ARM64_SYSREG_OP0_SHIFT()) & kvm_h.KVM_REG_ARM64_SYSREG_OP0_MASK())
                | (((long) op1 << kvm_h.KVM_REG_ARM64_SYSREG_OP1_SHIFT()) & kvm_h.KVM_REG_ARM64_SYSREG_OP1_MASK())
                | (((long) crn << kvm_h.KVM_REG_ARM64_SYSREG_CRN_SHIFT()) & kvm_h.KVM_REG_ARM64_SYSREG_CRN_MASK())
                | (((long) crm << kvm_h.KVM_REG_ARM64_SYSREG_CRM_SHIFT()) & kvm_h.KVM_REG_ARM64_SYSREG_CRM_MASK())
                | (((long) op2 << kvm_h.KVM_REG_ARM64_SYSREG_OP2_SHIFT()) & kvm_h.KVM_REG_ARM64_SYSREG_OP2_MASK());
    }

    /** MPIDR_EL1 (op0 3, op1 0, CRn 0, CRm 0, op2 5): the affinity a device tree's cpu node must name. */
    public static final long MPIDR_EL1 = sysreg(3, 0, 0, 0, 5);

    /**
     * PSTATE for entering the kernel per Documentation/arch/arm64/booting.rst: EL1h (SPSel=1, M=0b0101) with
     * D, A, I, F masked.
     */
    public static final long PSTATE_EL1H_DAIF_MASKED = 0x3c5;
}
