package dev.jvmm.kvm;

import dev.jvmm.headers.linux.common.kvm_device_attr;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * An in-kernel device made with KVM_CREATE_DEVICE (a vGIC, an ITS), configured through attributes
 * (Documentation/virt/kvm/devices/, api.rst §4.81 KVM_SET_DEVICE_ATTR).
 *
 * <p>The attribute's value travels through {@code kvm_device_attr.addr}, a pointer the kernel reads;
 * these methods own that buffer, so callers never hand the kernel a raw address. (Nothing reads attributes back
 * yet: KVM_GET_DEVICE_ATTR / KVM_HAS_DEVICE_ATTR wrappers come with their first caller, e.g. ITS table save.)
 */
public final class DeviceFd extends Fd {
    private final int type;

    DeviceFd(int fd, int type) {
        super(fd, "KVM device type " + type);
        this.type = type;
    }

    /** The KVM_DEV_TYPE_* this device was created as. */
    public int type() {
        return type;
    }

    /** Sets an attribute whose value is a 64-bit integer (e.g. a vGIC base address). */
    public void setAttrU64(int group, long attr, long value) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(ValueLayout.JAVA_LONG);
            v.set(ValueLayout.JAVA_LONG, 0, value);
            setAttr(group, attr, v, arena);
        }
    }

    /** Sets an attribute whose value is a 32-bit integer (e.g. KVM_DEV_ARM_VGIC_GRP_NR_IRQS). */
    public void setAttrU32(int group, long attr, int value) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(ValueLayout.JAVA_INT);
            v.set(ValueLayout.JAVA_INT, 0, value);
            setAttr(group, attr, v, arena);
        }
    }

    /** Sets an attribute that carries no value (e.g. KVM_DEV_ARM_VGIC_CTRL_INIT). */
    public void setAttr(int group, long attr) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            setAttr(group, attr, MemorySegment.NULL, arena);
        }
    }

    private void setAttr(int group, long attr, MemorySegment value, Arena arena) throws ErrnoException {
        MemorySegment a = deviceAttr(group, attr, value, arena);
        Libc.ioctl(fd(), Abi.KVM_SET_DEVICE_ATTR, a, "KVM_SET_DEVICE_ATTR group %d attr 0x%x".formatted(group, attr));
    }

    /** A kvm_device_attr naming {@code group}/{@code attr}, its value at {@code value} (NULL: none). */
    private static MemorySegment deviceAttr(int group, long attr, MemorySegment value, Arena arena) {
        MemorySegment a = kvm_device_attr.allocate(arena);
        kvm_device_attr.group(a, group);
        kvm_device_attr.attr(a, attr);
        kvm_device_attr.addr(a, value.address());
        return a;
    }
}
