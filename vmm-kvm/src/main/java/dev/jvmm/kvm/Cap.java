package dev.jvmm.kvm;

import dev.jvmm.headers.linux.common.kvm_h;

/**
 * KVM capabilities jvmm asks about (Documentation/virt/kvm/api.rst §8, "Other capabilities"). Some are questions
 * for the system fd, some for the VM fd: {@link #MSI_DEVID} is answered only by a VM, and only after it has an
 * ITS; jvmm asks the VM fd whenever a VM exists (api.rst §4.4: "the VM ioctl KVM_CHECK_EXTENSION ... reports the
 * capabilities of that VM").
 */
public enum Cap {
    IRQCHIP(kvm_h.KVM_CAP_IRQCHIP()),
    USER_MEMORY(kvm_h.KVM_CAP_USER_MEMORY()),
    NR_VCPUS(kvm_h.KVM_CAP_NR_VCPUS()),
    MAX_VCPUS(kvm_h.KVM_CAP_MAX_VCPUS()),
    NR_MEMSLOTS(kvm_h.KVM_CAP_NR_MEMSLOTS()),
    IOEVENTFD(kvm_h.KVM_CAP_IOEVENTFD()),
    IRQFD(kvm_h.KVM_CAP_IRQFD()),
    IRQ_ROUTING(kvm_h.KVM_CAP_IRQ_ROUTING()),
    SIGNAL_MSI(kvm_h.KVM_CAP_SIGNAL_MSI()),
    MSI_DEVID(kvm_h.KVM_CAP_MSI_DEVID()),
    DEVICE_CTRL(kvm_h.KVM_CAP_DEVICE_CTRL()),
    ONE_REG(kvm_h.KVM_CAP_ONE_REG()),
    READONLY_MEM(kvm_h.KVM_CAP_READONLY_MEM()),
    IMMEDIATE_EXIT(kvm_h.KVM_CAP_IMMEDIATE_EXIT()),
    ARM_PSCI_0_2(kvm_h.KVM_CAP_ARM_PSCI_0_2()),
    ARM_NISV_TO_USER(kvm_h.KVM_CAP_ARM_NISV_TO_USER()),
    ARM_INJECT_EXT_DABT(kvm_h.KVM_CAP_ARM_INJECT_EXT_DABT()),
    ARM_VM_IPA_SIZE(kvm_h.KVM_CAP_ARM_VM_IPA_SIZE()),
    ARM_PMU_V3(kvm_h.KVM_CAP_ARM_PMU_V3()),
    ARM_SVE(kvm_h.KVM_CAP_ARM_SVE()),
    ARM_PTRAUTH_ADDRESS(kvm_h.KVM_CAP_ARM_PTRAUTH_ADDRESS()),
    ARM_PTRAUTH_GENERIC(kvm_h.KVM_CAP_ARM_PTRAUTH_GENERIC()),
    ARM_MTE(kvm_h.KVM_CAP_ARM_MTE()),
    SYSTEM_EVENT_DATA(kvm_h.KVM_CAP_SYSTEM_EVENT_DATA());

    private final int number;

    Cap(int number) {
        this.number = number;
    }

    /** The KVM_CAP_* number. */
    public int number() {
        return number;
    }

    /** "KVM_CAP_MSI_DEVID". */
    public String kvmName() {
        return "KVM_CAP_" + name();
    }
}
