package dev.jvmm.kvm;

import dev.jvmm.headers.linux.common.kvm_h;

/**
 * The ioctl request numbers and flags vmm-kvm passes to the kernel, read once from the generated headers.
 *
 * <p>Arch-neutral ones come from {@code dev.jvmm.headers.linux.common}: the generator puts a declaration there
 * only when the C compiler gives it the same value on every arch. Arch-only ioctls (KVM_ARM_*, x86 register
 * access) come from the arch package; issued on the wrong host they fail with an errno like any other ioctl.
 *
 * <p>jextract types {@code _IO} numbers as {@code int} and sized ones as {@code long}; {@code ioctl(2)} takes an
 * {@code unsigned long}, so ints are widened without sign extension.
 */
final class Abi {
    private Abi() {}

    private static long req(int v) {
        return Integer.toUnsignedLong(v);
    }

    private static long req(long v) {
        return v;
    }

    // system ioctls (on /dev/kvm)
    static final long KVM_GET_API_VERSION = req(kvm_h.KVM_GET_API_VERSION());
    static final long KVM_CREATE_VM = req(kvm_h.KVM_CREATE_VM());
    static final long KVM_CHECK_EXTENSION = req(kvm_h.KVM_CHECK_EXTENSION());
    static final long KVM_GET_VCPU_MMAP_SIZE = req(kvm_h.KVM_GET_VCPU_MMAP_SIZE());

    // VM ioctls
    static final long KVM_CREATE_VCPU = req(kvm_h.KVM_CREATE_VCPU());
    static final long KVM_SET_USER_MEMORY_REGION = req(kvm_h.KVM_SET_USER_MEMORY_REGION());
    static final long KVM_IRQ_LINE = req(kvm_h.KVM_IRQ_LINE());
    static final long KVM_SIGNAL_MSI = req(kvm_h.KVM_SIGNAL_MSI());
    static final long KVM_IRQFD = req(kvm_h.KVM_IRQFD());
    static final long KVM_IOEVENTFD = req(kvm_h.KVM_IOEVENTFD());
    static final long KVM_SET_GSI_ROUTING = req(kvm_h.KVM_SET_GSI_ROUTING());
    static final long KVM_CREATE_DEVICE = req(kvm_h.KVM_CREATE_DEVICE());
    static final long KVM_ENABLE_CAP = req(kvm_h.KVM_ENABLE_CAP());

    // device ioctls
    static final long KVM_SET_DEVICE_ATTR = req(kvm_h.KVM_SET_DEVICE_ATTR());
    static final long KVM_GET_DEVICE_ATTR = req(kvm_h.KVM_GET_DEVICE_ATTR());
    static final long KVM_HAS_DEVICE_ATTR = req(kvm_h.KVM_HAS_DEVICE_ATTR());

    // vCPU ioctls
    static final long KVM_RUN = req(kvm_h.KVM_RUN());
    static final long KVM_SET_SIGNAL_MASK = req(kvm_h.KVM_SET_SIGNAL_MASK());
    static final long KVM_GET_ONE_REG = req(kvm_h.KVM_GET_ONE_REG());
    static final long KVM_SET_ONE_REG = req(kvm_h.KVM_SET_ONE_REG());

    // aarch64 only
    static final long KVM_ARM_VCPU_INIT = req(dev.jvmm.headers.linux.aarch64.kvm_h.KVM_ARM_VCPU_INIT());
    static final long KVM_SET_VCPU_EVENTS_ARM64 = req(dev.jvmm.headers.linux.aarch64.kvm_h.KVM_SET_VCPU_EVENTS());
    static final long KVM_ARM_PREFERRED_TARGET = req(dev.jvmm.headers.linux.aarch64.kvm_h.KVM_ARM_PREFERRED_TARGET());

    // x86_64 only
    static final long KVM_CREATE_IRQCHIP = req(dev.jvmm.headers.linux.x86_64.kvm_h.KVM_CREATE_IRQCHIP());
    static final long KVM_SET_TSS_ADDR = req(dev.jvmm.headers.linux.x86_64.kvm_h.KVM_SET_TSS_ADDR());
    static final long KVM_GET_REGS = req(dev.jvmm.headers.linux.x86_64.kvm_h.KVM_GET_REGS());
    static final long KVM_SET_REGS = req(dev.jvmm.headers.linux.x86_64.kvm_h.KVM_SET_REGS());
    static final long KVM_GET_SREGS = req(dev.jvmm.headers.linux.x86_64.kvm_h.KVM_GET_SREGS());
    static final long KVM_SET_SREGS = req(dev.jvmm.headers.linux.x86_64.kvm_h.KVM_SET_SREGS());

    // flags and types
    static final int KVM_CREATE_DEVICE_TEST = kvm_h.KVM_CREATE_DEVICE_TEST();
    static final int KVM_MSI_VALID_DEVID = kvm_h.KVM_MSI_VALID_DEVID();
    static final int KVM_IRQ_ROUTING_IRQCHIP = kvm_h.KVM_IRQ_ROUTING_IRQCHIP();
    static final int KVM_IRQ_ROUTING_MSI = kvm_h.KVM_IRQ_ROUTING_MSI();
    static final int KVM_IRQFD_FLAG_DEASSIGN = kvm_h.KVM_IRQFD_FLAG_DEASSIGN();
    static final int KVM_IOEVENTFD_FLAG_DATAMATCH = kvm_h.KVM_IOEVENTFD_FLAG_DATAMATCH();
    static final int KVM_IOEVENTFD_FLAG_PIO = kvm_h.KVM_IOEVENTFD_FLAG_PIO();
    static final int KVM_IOEVENTFD_FLAG_DEASSIGN = kvm_h.KVM_IOEVENTFD_FLAG_DEASSIGN();
}
