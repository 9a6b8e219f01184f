package dev.jvmm.kvm;

import dev.jvmm.headers.linux.aarch64.kvm_h;

/** Feature bits of KVM_ARM_VCPU_INIT (api.rst §4.82). */
public enum Aarch64VcpuFeature {
    /** The vCPU starts powered off; the guest starts it with PSCI CPU_ON. */
    POWER_OFF(kvm_h.KVM_ARM_VCPU_POWER_OFF()),
    /** PSCI 0.2 (and later) instead of the legacy 0.1 interface. */
    PSCI_0_2(kvm_h.KVM_ARM_VCPU_PSCI_0_2()),
    PMU_V3(kvm_h.KVM_ARM_VCPU_PMU_V3());

    private final int bit;

    Aarch64VcpuFeature(int bit) {
        this.bit = bit;
    }

    public int bit() {
        return bit;
    }
}
