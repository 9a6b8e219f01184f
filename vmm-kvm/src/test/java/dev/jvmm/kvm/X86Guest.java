package dev.jvmm.kvm;

import dev.jvmm.headers.linux.x86_64.kvm_regs;
import dev.jvmm.headers.linux.x86_64.kvm_segment;
import dev.jvmm.headers.linux.x86_64.kvm_sregs;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;

/**
 * A tiny real-mode x86 guest for exercising the KVM layer on an x86_64 host: 16 KiB of RAM at guest address 0
 * with the payload at 0x1000, CS base 0, everything else as after reset. Addresses 0x4000 and up are not backed
 * by memory, so stores there exit as MMIO. Public for the benchmarks in {@code dev.jvmm.kvm.bench}.
 */
public final class X86Guest implements AutoCloseable {
    static final long RAM_SIZE = 0x4000;
    static final long CODE = 0x1000;
    /** {@code mov dword [ds:0xF0], 0x1FF}: with DS at the LAPIC page, software-enables the LAPIC (SVR). */
    private static final byte[] ENABLE_LAPIC = {
        0x66, (byte) 0xC7, 0x06, (byte) 0xF0, 0x00, (byte) 0xFF, 0x01, 0x00, 0x00
    };

    final Arena arena = Arena.ofShared();
    public final VmFd vm;
    public final VcpuFd vcpu;
    final MemorySegment ram;

    /** A payload that enables the LAPIC (run it with {@link #setDsBase} at 0xFEE00000), then runs {@code then}. */
    public static byte[] enablingTheLapic(byte... then) {
        byte[] code = Arrays.copyOf(ENABLE_LAPIC, ENABLE_LAPIC.length + then.length);
        System.arraycopy(then, 0, code, ENABLE_LAPIC.length, then.length);
        return code;
    }

    public X86Guest(Kvm kvm, boolean irqchip, byte... code) throws ErrnoException {
        vm = kvm.createVm();
        // VMX needs three pages for its real-mode TSS; place them far above our RAM (what QEMU does).
        vm.setTssAddr(0xfffb_d000L);
        if (irqchip) vm.createIrqchip();
        ram = Mmap.anonymous(RAM_SIZE, arena);
        ram.asSlice(CODE, code.length).copyFrom(MemorySegment.ofArray(code));
        vm.setUserMemoryRegion(new MemorySlot(0, 0, 0, ram));
        vcpu = vm.createVcpu(0);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sregs = kvm_sregs.allocate(a);
            vcpu.getSregs(sregs);
            MemorySegment cs = kvm_sregs.cs(sregs);
            kvm_segment.base(cs, 0);
            kvm_segment.selector(cs, (short) 0);
            vcpu.setSregs(sregs);
            MemorySegment regs = kvm_regs.allocate(a);
            kvm_regs.rip(regs, CODE);
            kvm_regs.rflags(regs, 0x2); // bit 1 is reserved-one
            kvm_regs.rsp(regs, 0x3000); // a stack inside RAM, for interrupt frames
            vcpu.setRegs(regs);
        }
    }

    /** Points DS at {@code base}, so 16-bit offsets reach e.g. the LAPIC page at 0xFEE00000 (KVM sets bases freely). */
    public void setDsBase(long base) throws ErrnoException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sregs = kvm_sregs.allocate(a);
            vcpu.getSregs(sregs);
            kvm_segment.base(kvm_sregs.ds(sregs), base);
            vcpu.setSregs(sregs);
        }
    }

    /** Writes bytes into guest RAM at a guest-physical address. */
    void poke(long gpa, byte... bytes) {
        ram.asSlice(gpa, bytes.length).copyFrom(MemorySegment.ofArray(bytes));
    }

    /** The vCPU running on a thread of its own: {@code entered} opens just before KVM_RUN, {@code exit} gets its exit. */
    record Running(Thread thread, CountDownLatch entered, CompletableFuture<VcpuExit> exit) {}

    /** Starts a platform thread "vcpu0" that opens the vCPU's runner and runs it once. */
    Running runOnThread() {
        CountDownLatch entered = new CountDownLatch(1);
        CompletableFuture<VcpuExit> exit = new CompletableFuture<>();
        Thread t = Thread.ofPlatform().name("vcpu0").start(() -> {
            try (VcpuRunner r = vcpu.runner()) {
                entered.countDown();
                exit.complete(r.run());
            } catch (Throwable e) {
                exit.completeExceptionally(e);
            }
        });
        return new Running(t, entered, exit);
    }

    @Override
    public void close() throws ErrnoException {
        vcpu.close();
        vm.close();
        arena.close();
    }
}
