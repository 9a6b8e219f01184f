package dev.jvmm.kvm;

import java.lang.foreign.MemorySegment;

/**
 * One KVM memory slot: guest-physical [guestPhysAddr, guestPhysAddr + host.byteSize()) backed by host memory
 * (api.rst §4.35, KVM_SET_USER_MEMORY_REGION). Both ends must be page aligned; the host segment must stay mapped
 * for as long as the slot exists.
 */
public record MemorySlot(int slot, int flags, long guestPhysAddr, MemorySegment host) {
    /** KVM_MEM_READONLY: writes exit to userspace as MMIO (needs KVM_CAP_READONLY_MEM). */
    public static final int READONLY = 1 << 1;

    private static final long PAGE = 4096;

    public MemorySlot {
        if (slot < 0 || slot > 0x7fff) throw new IllegalArgumentException("memory slot out of range: " + slot);
        if ((guestPhysAddr & (PAGE - 1)) != 0) {
            throw new IllegalArgumentException("guest address 0x%x is not page aligned".formatted(guestPhysAddr));
        }
        if ((host.address() & (PAGE - 1)) != 0 || (host.byteSize() & (PAGE - 1)) != 0 || host.byteSize() == 0) {
            throw new IllegalArgumentException("host memory for slot %d must be page aligned and sized, got 0x%x+0x%x"
                    .formatted(slot, host.address(), host.byteSize()));
        }
    }
}
