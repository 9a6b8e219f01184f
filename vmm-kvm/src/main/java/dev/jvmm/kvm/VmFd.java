package dev.jvmm.kvm;

import dev.jvmm.headers.linux.common.kvm_create_device;
import dev.jvmm.headers.linux.common.kvm_enable_cap;
import dev.jvmm.headers.linux.common.kvm_ioeventfd;
import dev.jvmm.headers.linux.common.kvm_irq_level;
import dev.jvmm.headers.linux.common.kvm_irq_routing;
import dev.jvmm.headers.linux.common.kvm_irq_routing_entry;
import dev.jvmm.headers.linux.common.kvm_irq_routing_irqchip;
import dev.jvmm.headers.linux.common.kvm_irq_routing_msi;
import dev.jvmm.headers.linux.common.kvm_irqfd;
import dev.jvmm.headers.linux.common.kvm_msi;
import dev.jvmm.headers.linux.common.kvm_userspace_memory_region;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.OptionalInt;
import java.util.OptionalLong;

/** A VM fd: memory, vCPUs, devices, interrupts (Documentation/virt/kvm/api.rst, "vm ioctl"s). */
public final class VmFd extends Fd {
    /*
     * Per-thread argument structs for the two interrupt ioctls a device model issues per interrupt (KVM_SIGNAL_MSI
     * per message, KVM_IRQ_LINE per level change), instead of an Arena per call. Each thread uses its own, for one
     * call at a time; the struct is cleared before it is filled, so nothing of the previous call reaches the kernel.
     */
    private static final ThreadLocal<MemorySegment> MSI_ARG =
            ThreadLocal.withInitial(() -> kvm_msi.allocate(Arena.ofAuto()));
    private static final ThreadLocal<MemorySegment> IRQ_LEVEL_ARG =
            ThreadLocal.withInitial(() -> kvm_irq_level.allocate(Arena.ofAuto()));

    private final long vcpuMmapSize;

    VmFd(int fd, long vcpuMmapSize) {
        super(fd, "VM");
        this.vcpuMmapSize = vcpuMmapSize;
    }

    /**
     * KVM_CHECK_EXTENSION asked of this VM. Prefer this over the system fd: some answers depend on the VM's
     * configuration (KVM_CAP_MSI_DEVID reads 1 only once the VM has an ITS).
     */
    public int checkExtension(Cap cap) throws ErrnoException {
        return Libc.ioctl(fd(), Abi.KVM_CHECK_EXTENSION, cap.number(), "KVM_CHECK_EXTENSION(vm) " + cap.kvmName());
    }

    public void setUserMemoryRegion(MemorySlot slot) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment r = kvm_userspace_memory_region.allocate(arena);
            kvm_userspace_memory_region.slot(r, slot.slot());
            kvm_userspace_memory_region.flags(r, slot.flags());
            kvm_userspace_memory_region.guest_phys_addr(r, slot.guestPhysAddr());
            kvm_userspace_memory_region.memory_size(r, slot.host().byteSize());
            kvm_userspace_memory_region.userspace_addr(r, slot.host().address());
            Libc.ioctl(fd(), Abi.KVM_SET_USER_MEMORY_REGION, r, "KVM_SET_USER_MEMORY_REGION slot " + slot.slot());
        }
    }

    public VcpuFd createVcpu(int id) throws ErrnoException {
        int vcpu = Libc.ioctl(fd(), Abi.KVM_CREATE_VCPU, id, "KVM_CREATE_VCPU " + id);
        return new VcpuFd(vcpu, id, vcpuMmapSize);
    }

    /**
     * KVM_CREATE_DEVICE with KVM_CREATE_DEVICE_TEST: can this VM have a device of that type? Nothing is created.
     * ENODEV means no; other errors are real failures.
     */
    public boolean canCreateDevice(int type) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cd = kvm_create_device.allocate(arena);
            kvm_create_device.type(cd, type);
            kvm_create_device.flags(cd, Abi.KVM_CREATE_DEVICE_TEST);
            try {
                Libc.ioctl(fd(), Abi.KVM_CREATE_DEVICE, cd, "KVM_CREATE_DEVICE(TEST) type " + type);
                return true;
            } catch (ErrnoException e) {
                if (e.is(Errno.ENODEV)) return false;
                throw e;
            }
        }
    }

    /** KVM_CREATE_DEVICE (api.rst §4.80); the device's own attributes are set through the returned fd. */
    public DeviceFd createDevice(int type) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cd = kvm_create_device.allocate(arena);
            kvm_create_device.type(cd, type);
            Libc.ioctl(fd(), Abi.KVM_CREATE_DEVICE, cd, "KVM_CREATE_DEVICE type " + type);
            return new DeviceFd(kvm_create_device.fd(cd), type);
        }
    }

    /**
     * KVM_IRQ_LINE: drive a wired interrupt (api.rst §4.25). On arm64 {@code irq} encodes type, vCPU and number
     * ({@link Aarch64Vgic#spiLine}); on x86 it is the GSI.
     */
    public void irqLine(int irq, boolean level) throws ErrnoException {
        MemorySegment l = IRQ_LEVEL_ARG.get(); // both members are set: nothing to clear
        kvm_irq_level.irq(l, irq);
        kvm_irq_level.level(l, level ? 1 : 0);
        Libc.ioctl(fd(), Abi.KVM_IRQ_LINE, l, "KVM_IRQ_LINE");
    }

    /**
     * KVM_SIGNAL_MSI (api.rst §4.71): inject one MSI. With a device id, KVM_MSI_VALID_DEVID is set so a GICv3 ITS
     * can translate it. Returns the kernel's answer: {@code > 0} delivered, {@code 0} blocked by the guest
     * (e.g. an ITS the guest has not enabled answers EBUSY instead, which is thrown).
     */
    public int signalMsi(long address, int data, OptionalInt devid) throws ErrnoException {
        MemorySegment m = MSI_ARG.get();
        m.fill((byte) 0); // flags, devid and pad of the previous message must not linger
        kvm_msi.address_lo(m, (int) address);
        kvm_msi.address_hi(m, (int) (address >>> 32));
        kvm_msi.data(m, data);
        if (devid.isPresent()) {
            kvm_msi.flags(m, Abi.KVM_MSI_VALID_DEVID);
            kvm_msi.devid(m, devid.getAsInt());
        }
        return Libc.ioctl(fd(), Abi.KVM_SIGNAL_MSI, m, "KVM_SIGNAL_MSI");
    }

    /** KVM_SET_GSI_ROUTING: replace the whole routing table (api.rst §4.52). */
    public void setGsiRouting(List<IrqRoute> routes) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            long entrySize = kvm_irq_routing_entry.sizeof();
            MemorySegment table = arena.allocate(kvm_irq_routing.sizeof() + routes.size() * entrySize, 8);
            kvm_irq_routing.nr(table, routes.size());
            MemorySegment entries = table.asSlice(kvm_irq_routing.sizeof());
            for (int i = 0; i < routes.size(); i++) {
                MemorySegment e = kvm_irq_routing_entry.asSlice(entries, i);
                MemorySegment u = kvm_irq_routing_entry.u(e);
                switch (routes.get(i)) {
                    case IrqRoute.Irqchip r -> {
                        kvm_irq_routing_entry.gsi(e, r.gsi());
                        kvm_irq_routing_entry.type(e, Abi.KVM_IRQ_ROUTING_IRQCHIP);
                        MemorySegment chip = kvm_irq_routing_entry.u.irqchip(u);
                        kvm_irq_routing_irqchip.irqchip(chip, r.irqchip());
                        kvm_irq_routing_irqchip.pin(chip, r.pin());
                    }
                    case IrqRoute.Msi r -> {
                        kvm_irq_routing_entry.gsi(e, r.gsi());
                        kvm_irq_routing_entry.type(e, Abi.KVM_IRQ_ROUTING_MSI);
                        MemorySegment msi = kvm_irq_routing_entry.u.msi(u);
                        kvm_irq_routing_msi.address_lo(msi, (int) r.address());
                        kvm_irq_routing_msi.address_hi(msi, (int) (r.address() >>> 32));
                        kvm_irq_routing_msi.data(msi, r.data());
                        if (r.devid().isPresent()) {
                            kvm_irq_routing_entry.flags(e, Abi.KVM_MSI_VALID_DEVID);
                            kvm_irq_routing_msi.devid(msi, r.devid().getAsInt());
                        }
                    }
                }
            }
            Libc.ioctl(fd(), Abi.KVM_SET_GSI_ROUTING, table, "KVM_SET_GSI_ROUTING (" + routes.size() + " routes)");
        }
    }

    /**
     * KVM_IRQFD (api.rst §4.75): a write to {@code event} raises {@code gsi} inside the kernel, with no exit to
     * userspace. Set the GSI's route first (KVM_SET_GSI_ROUTING), then assign the irqfd.
     */
    public void registerIrqfd(EventFd event, int gsi) throws ErrnoException {
        irqfd(event, gsi, 0, "KVM_IRQFD assign gsi " + gsi);
    }

    public void unregisterIrqfd(EventFd event, int gsi) throws ErrnoException {
        irqfd(event, gsi, Abi.KVM_IRQFD_FLAG_DEASSIGN, "KVM_IRQFD deassign gsi " + gsi);
    }

    private void irqfd(EventFd event, int gsi, int flags, String op) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment f = kvm_irqfd.allocate(arena);
            kvm_irqfd.fd(f, event.rawFd());
            kvm_irqfd.gsi(f, gsi);
            kvm_irqfd.flags(f, flags);
            Libc.ioctl(fd(), Abi.KVM_IRQFD, f, op);
        }
    }

    /**
     * KVM_IOEVENTFD (api.rst §4.59): a guest write of {@code length} bytes (0 = any length, for MMIO) to
     * {@code address} signals {@code event} inside the kernel instead of exiting to userspace; with a datamatch
     * only writes of that value do.
     */
    public void registerIoeventfd(IoEvent where, EventFd event) throws ErrnoException {
        ioeventfd(where, event, 0, "KVM_IOEVENTFD assign " + where);
    }

    public void unregisterIoeventfd(IoEvent where, EventFd event) throws ErrnoException {
        ioeventfd(where, event, Abi.KVM_IOEVENTFD_FLAG_DEASSIGN, "KVM_IOEVENTFD deassign " + where);
    }

    private void ioeventfd(IoEvent where, EventFd event, int extraFlags, String op) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment io = kvm_ioeventfd.allocate(arena);
            int flags = extraFlags | (where.pio() ? Abi.KVM_IOEVENTFD_FLAG_PIO : 0);
            if (where.datamatch().isPresent()) {
                flags |= Abi.KVM_IOEVENTFD_FLAG_DATAMATCH;
                kvm_ioeventfd.datamatch(io, where.datamatch().getAsLong());
            }
            kvm_ioeventfd.addr(io, where.address());
            kvm_ioeventfd.len(io, where.length());
            kvm_ioeventfd.fd(io, event.rawFd());
            kvm_ioeventfd.flags(io, flags);
            Libc.ioctl(fd(), Abi.KVM_IOEVENTFD, io, op);
        }
    }

    /** Where an ioeventfd listens. */
    public record IoEvent(boolean pio, long address, int length, OptionalLong datamatch) {
        public IoEvent {
            if (length != 0 && length != 1 && length != 2 && length != 4 && length != 8) {
                throw new IllegalArgumentException("ioeventfd length must be 0, 1, 2, 4 or 8: " + length);
            }
        }

        public static IoEvent mmio(long address, int length) {
            return new IoEvent(false, address, length, OptionalLong.empty());
        }

        public static IoEvent pio(int port, int length) {
            return new IoEvent(true, port, length, OptionalLong.empty());
        }

        @Override
        public String toString() {
            return (pio ? "pio 0x%x" : "mmio 0x%x").formatted(address) + "/" + length
                    + (datamatch.isPresent() ? " == 0x" + Long.toHexString(datamatch.getAsLong()) : "");
        }
    }

    /** KVM_ENABLE_CAP on the VM (api.rst §4.37), e.g. KVM_CAP_ARM_NISV_TO_USER. */
    public void enableCap(Cap cap, long... args) throws ErrnoException {
        if (args.length > 4) throw new IllegalArgumentException("KVM_ENABLE_CAP takes at most 4 args");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment c = kvm_enable_cap.allocate(arena);
            kvm_enable_cap.cap(c, cap.number());
            for (int i = 0; i < args.length; i++) kvm_enable_cap.args(c, i, args[i]);
            Libc.ioctl(fd(), Abi.KVM_ENABLE_CAP, c, "KVM_ENABLE_CAP " + cap.kvmName());
        }
    }

    // ---- aarch64 ----

    /**
     * KVM_ARM_PREFERRED_TARGET (api.rst §4.83): the vCPU target this host wants for KVM_ARM_VCPU_INIT.
     */
    public int armPreferredTarget() throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment init = dev.jvmm.headers.linux.aarch64.kvm_vcpu_init.allocate(arena);
            Libc.ioctl(fd(), Abi.KVM_ARM_PREFERRED_TARGET, init, "KVM_ARM_PREFERRED_TARGET");
            return dev.jvmm.headers.linux.aarch64.kvm_vcpu_init.target(init);
        }
    }

    // ---- x86_64 (tests on x86 hosts) ----

    /** KVM_CREATE_IRQCHIP (x86: PIC + IOAPIC + per-vCPU LAPIC; needed for irqfd and MSI there). */
    public void createIrqchip() throws ErrnoException {
        Libc.ioctl(fd(), Abi.KVM_CREATE_IRQCHIP, 0L, "KVM_CREATE_IRQCHIP");
    }

    /** KVM_SET_TSS_ADDR (x86 with VMX needs three pages for real-mode emulation). */
    public void setTssAddr(long address) throws ErrnoException {
        Libc.ioctl(fd(), Abi.KVM_SET_TSS_ADDR, address, "KVM_SET_TSS_ADDR");
    }
}
