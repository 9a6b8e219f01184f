package dev.jvmm.kvm;

import dev.jvmm.headers.linux.common.kvm_h;
import dev.jvmm.headers.linux.common.kvm_run;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Runs one vCPU on the thread that created it, decoding each exit from the vCPU's {@code kvm_run} mapping. The
 * mapping lives in a confined arena: any other thread touching it fails fast with WrongThreadException, which is
 * the rule that makes exit records safe to hand out as views.
 */
public final class VcpuRunner implements AutoCloseable {
    private static final int EXIT_IO = kvm_h.KVM_EXIT_IO();
    private static final int EXIT_HLT = kvm_h.KVM_EXIT_HLT();
    private static final int EXIT_MMIO = kvm_h.KVM_EXIT_MMIO();
    private static final int EXIT_SHUTDOWN = kvm_h.KVM_EXIT_SHUTDOWN();
    private static final int EXIT_FAIL_ENTRY = kvm_h.KVM_EXIT_FAIL_ENTRY();
    private static final int EXIT_INTR = kvm_h.KVM_EXIT_INTR();
    private static final int EXIT_INTERNAL_ERROR = kvm_h.KVM_EXIT_INTERNAL_ERROR();
    private static final int EXIT_SYSTEM_EVENT = kvm_h.KVM_EXIT_SYSTEM_EVENT();
    private static final int EXIT_ARM_NISV = kvm_h.KVM_EXIT_ARM_NISV();
    private static final int EXIT_IO_IN = kvm_h.KVM_EXIT_IO_IN();

    private final VcpuFd vcpu;
    private final Arena arena;
    private final MemorySegment run;

    VcpuRunner(VcpuFd vcpu, Arena arena, MemorySegment run) {
        this.vcpu = vcpu;
        this.arena = arena;
        this.run = run;
    }

    public VcpuFd vcpu() {
        return vcpu;
    }

    /**
     * One KVM_RUN. Returns the exit; for IoIn and MmioRead, write the result into the exit's data before calling
     * again. Errors other than EINTR/EAGAIN are thrown (they mean the vCPU cannot go on).
     */
    public VcpuExit run() throws ErrnoException {
        if (vcpu.runOnce() < 0) return new VcpuExit.Interrupted();
        int reason = kvm_run.exit_reason(run);
        if (reason == EXIT_MMIO) {
            MemorySegment mmio = kvm_run.mmio(run);
            long addr = kvm_run.mmio.phys_addr(mmio);
            int len = kvm_run.mmio.len(mmio);
            if (len < 1 || len > 8) return new VcpuExit.InternalError(-1, new long[] {addr, len});
            MemorySegment data = kvm_run.mmio.data(mmio).asSlice(0, len);
            return kvm_run.mmio.is_write(mmio) != 0
                    ? new VcpuExit.MmioWrite(addr, len, data)
                    : new VcpuExit.MmioRead(addr, len, data);
        }
        if (reason == EXIT_IO) {
            MemorySegment io = kvm_run.io(run);
            int size = Byte.toUnsignedInt(kvm_run.io.size(io));
            int port = Short.toUnsignedInt(kvm_run.io.port(io));
            int count = kvm_run.io.count(io);
            long offset = kvm_run.io.data_offset(io);
            long bytes = (long) size * Integer.toUnsignedLong(count);
            if (offset < 0 || bytes > run.byteSize() || offset > run.byteSize() - bytes) {
                return new VcpuExit.InternalError(-1, new long[] {port, offset, bytes});
            }
            MemorySegment data = run.asSlice(offset, bytes);
            return kvm_run.io.direction(io) == EXIT_IO_IN
                    ? new VcpuExit.IoIn(port, size, count, data)
                    : new VcpuExit.IoOut(port, size, count, data);
        }
        if (reason == EXIT_SYSTEM_EVENT) {
            MemorySegment se = kvm_run.system_event(run);
            int n = Math.min(Math.max(kvm_run.system_event.ndata(se), 0), (int)
                    kvm_run.system_event.data$dimensions()[0]);
            long[] data = new long[n];
            for (int i = 0; i < n; i++) data[i] = kvm_run.system_event.data(se, i);
            return new VcpuExit.SystemEvent(kvm_run.system_event.type(se), data);
        }
        if (reason == EXIT_HLT) return new VcpuExit.Hlt();
        if (reason == EXIT_SHUTDOWN) return new VcpuExit.Shutdown();
        if (reason == EXIT_INTR) return new VcpuExit.Interrupted();
        if (reason == EXIT_FAIL_ENTRY) {
            MemorySegment f = kvm_run.fail_entry(run);
            return new VcpuExit.FailEntry(
                    kvm_run.fail_entry.hardware_entry_failure_reason(f), kvm_run.fail_entry.cpu(f));
        }
        if (reason == EXIT_INTERNAL_ERROR) {
            MemorySegment ie = kvm_run.internal(run);
            int n = Math.min(Math.max(kvm_run.internal.ndata(ie), 0), (int)
                    kvm_run.internal.data$dimensions()[0]);
            long[] data = new long[n];
            for (int i = 0; i < n; i++) data[i] = kvm_run.internal.data(ie, i);
            return new VcpuExit.InternalError(kvm_run.internal.suberror(ie), data);
        }
        if (reason == EXIT_ARM_NISV) {
            MemorySegment n = kvm_run.arm_nisv(run);
            return new VcpuExit.ArmNisv(kvm_run.arm_nisv.esr_iss(n), kvm_run.arm_nisv.fault_ipa(n));
        }
        return new VcpuExit.Unknown(reason);
    }

    /** Unmaps {@code kvm_run}. Call on the vCPU thread before it exits. */
    @Override
    public void close() {
        vcpu.runnerClosed();
        arena.close();
    }
}
