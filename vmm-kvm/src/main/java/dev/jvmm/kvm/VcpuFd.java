package dev.jvmm.kvm;

import dev.jvmm.headers.linux.common.kvm_one_reg;
import dev.jvmm.headers.linux.common.kvm_signal_mask;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A vCPU fd (api.rst "vcpu ioctl"s). Running it needs a {@link VcpuRunner}, made on the thread that will run it;
 * register access and kicks work from any thread.
 */
public final class VcpuFd extends Fd {
    private final int id;
    private final long mmapSize;
    private final Object kickLock = new Object();
    private long runnerThread; // pthread_t of the thread holding the runner; 0 when none (guarded by kickLock)

    VcpuFd(int fd, int id, long mmapSize) {
        super(fd, "vCPU " + id);
        this.id = id;
        this.mmapSize = mmapSize;
    }

    public int id() {
        return id;
    }

    /**
     * Prepares the calling thread to run this vCPU: maps {@code kvm_run} into a confined arena of this thread,
     * blocks the kick signal here and runs the guest with it unblocked (see {@link VcpuKicker}). Call once, on a
     * platform thread: a virtual thread would pin its carrier for the whole KVM_RUN.
     */
    public VcpuRunner runner() throws ErrnoException {
        if (Thread.currentThread().isVirtual()) {
            throw new IllegalStateException("vCPU " + id + " must run on a platform thread");
        }
        VcpuKicker.installHandler();
        VcpuKicker.blockOnCurrentThread();
        setSignalMaskEmpty();
        Arena arena = Arena.ofConfined();
        try {
            MemorySegment run = Mmap.shared(fd(), mmapSize, arena, "mmap kvm_run of vCPU " + id);
            synchronized (kickLock) {
                if (runnerThread != 0) throw new IllegalStateException("vCPU " + id + " already has a runner");
                runnerThread = Libc.pthreadSelf();
            }
            return new VcpuRunner(this, arena, run);
        } catch (ErrnoException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    void runnerClosed() {
        synchronized (kickLock) {
            runnerThread = 0;
        }
    }

    /**
     * Makes a KVM_RUN in progress on this vCPU return ({@link VcpuExit.Interrupted}), or the next one return at
     * once if the thread is not in the guest now. Does nothing when no thread holds a runner. The lock keeps the
     * thread id valid: a runner's thread signals under it before it may exit.
     */
    public void kick() throws ErrnoException {
        synchronized (kickLock) {
            if (runnerThread != 0) VcpuKicker.kick(runnerThread);
        }
    }

    /** KVM_SET_SIGNAL_MASK with an empty set: inside KVM_RUN every signal the thread blocks is deliverable. */
    private void setSignalMaskEmpty() throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(kvm_signal_mask.sizeof() + Libc.KERNEL_SIGSET_BYTES, 8);
            kvm_signal_mask.len(m, Libc.KERNEL_SIGSET_BYTES);
            Libc.ioctl(fd(), Abi.KVM_SET_SIGNAL_MASK, m, "KVM_SET_SIGNAL_MASK");
        }
    }

    int runOnce() throws ErrnoException {
        return Libc.ioctlInterruptible(fd(), Abi.KVM_RUN, 0L, "KVM_RUN");
    }

    // ---- ONE_REG (arm64 core, system and timer registers; api.rst §4.68) ----

    public long getOneReg(long regId) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(ValueLayout.JAVA_LONG);
            MemorySegment r = kvm_one_reg.allocate(arena);
            kvm_one_reg.id(r, regId);
            kvm_one_reg.addr(r, v.address());
            Libc.ioctl(fd(), Abi.KVM_GET_ONE_REG, r, "KVM_GET_ONE_REG 0x%x".formatted(regId));
            return v.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    /** Sets a 64-bit register. The register's size is encoded in its id (KVM_REG_SIZE_U64). */
    public void setOneReg(long regId, long value) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(ValueLayout.JAVA_LONG);
            v.set(ValueLayout.JAVA_LONG, 0, value);
            MemorySegment r = kvm_one_reg.allocate(arena);
            kvm_one_reg.id(r, regId);
            kvm_one_reg.addr(r, v.address());
            Libc.ioctl(fd(), Abi.KVM_SET_ONE_REG, r, "KVM_SET_ONE_REG 0x%x".formatted(regId));
        }
    }

    // ---- aarch64 ----

    /**
     * KVM_ARM_VCPU_INIT (api.rst §4.82) with the given target and feature bits (KVM_ARM_VCPU_PSCI_0_2,
     * KVM_ARM_VCPU_POWER_OFF for secondaries, ...).
     */
    public void armVcpuInit(int target, Aarch64VcpuFeature... features) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment init = dev.jvmm.headers.linux.aarch64.kvm_vcpu_init.allocate(arena);
            dev.jvmm.headers.linux.aarch64.kvm_vcpu_init.target(init, target);
            long words = dev.jvmm.headers.linux.aarch64.kvm_vcpu_init.features$dimensions()[0];
            for (Aarch64VcpuFeature f : features) {
                int bit = f.bit();
                if (bit < 0 || bit >= words * 32) throw new IllegalArgumentException("no vCPU feature bit " + bit);
                int w = dev.jvmm.headers.linux.aarch64.kvm_vcpu_init.features(init, bit / 32);
                dev.jvmm.headers.linux.aarch64.kvm_vcpu_init.features(init, bit / 32, w | (1 << (bit % 32)));
            }
            Libc.ioctl(fd(), Abi.KVM_ARM_VCPU_INIT, init, "KVM_ARM_VCPU_INIT vCPU " + id);
        }
    }

    /**
     * Makes the vCPU take a synchronous external data abort at its next entry (KVM_SET_VCPU_EVENTS with
     * {@code ext_dabt_pending}; api.rst §4.32, needs KVM_CAP_ARM_INJECT_EXT_DABT). This is what a bus answers when
     * an access cannot complete: for an MMIO access KVM could not decode (KVM_EXIT_ARM_NISV), the guest gets the
     * abort hardware would raise (Arm ARM D1.12 / ESR_ELx.EC 0x25, DFSC 0b010000) instead of the VM stopping.
     */
    public void injectExternalDataAbort() throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment events = dev.jvmm.headers.linux.aarch64.kvm_vcpu_events.allocate(arena);
            events.fill((byte) 0);
            MemorySegment exception = dev.jvmm.headers.linux.aarch64.kvm_vcpu_events.exception(events);
            dev.jvmm.headers.linux.aarch64.kvm_vcpu_events.exception.ext_dabt_pending(exception, (byte) 1);
            Libc.ioctl(fd(), Abi.KVM_SET_VCPU_EVENTS_ARM64, events, "KVM_SET_VCPU_EVENTS vCPU " + id);
        }
    }

    // ---- x86_64: registers as x86_64.kvm_regs / kvm_sregs segments ----

    public void getRegs(MemorySegment regs) throws ErrnoException {
        Libc.ioctl(fd(), Abi.KVM_GET_REGS, regs, "KVM_GET_REGS");
    }

    public void setRegs(MemorySegment regs) throws ErrnoException {
        Libc.ioctl(fd(), Abi.KVM_SET_REGS, regs, "KVM_SET_REGS");
    }

    public void getSregs(MemorySegment sregs) throws ErrnoException {
        Libc.ioctl(fd(), Abi.KVM_GET_SREGS, sregs, "KVM_GET_SREGS");
    }

    public void setSregs(MemorySegment sregs) throws ErrnoException {
        Libc.ioctl(fd(), Abi.KVM_SET_SREGS, sregs, "KVM_SET_SREGS");
    }
}
