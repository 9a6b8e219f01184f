package dev.jvmm.kvm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Why KVM_RUN returned (api.rst §5, "The kvm_run structure"). Records that carry a {@code data} segment are views
 * into the vCPU's {@code kvm_run} mapping: valid only on the vCPU thread and only until its next
 * {@link VcpuRunner#run()}. For reads (IoIn, MmioRead) the handler writes the result into {@code data} before
 * the next run, which is how KVM completes the guest's access.
 */
public sealed interface VcpuExit {
    /** Guest port read (x86): fill {@code data} with {@code size * count} bytes. */
    record IoIn(int port, int size, int count, MemorySegment data) implements VcpuExit {}

    /** Guest port write (x86): {@code data} holds {@code size * count} bytes. */
    record IoOut(int port, int size, int count, MemorySegment data) implements VcpuExit {}

    /** Guest load from an address no memory slot backs: fill {@code data} ({@code length} bytes, little-endian). */
    record MmioRead(long address, int length, MemorySegment data) implements VcpuExit {
        /** Completes the read with a little-endian value truncated to {@code length} bytes. */
        public void complete(long value) {
            for (int i = 0; i < length; i++) data.set(ValueLayout.JAVA_BYTE, i, (byte) (value >>> (8 * i)));
        }
    }

    /** Guest store to an address no memory slot backs. */
    record MmioWrite(long address, int length, MemorySegment data) implements VcpuExit {
        /** The stored value, little-endian, zero-extended to 64 bits. */
        public long value() {
            long v = 0;
            for (int i = 0; i < length; i++) v |= Byte.toUnsignedLong(data.get(ValueLayout.JAVA_BYTE, i)) << (8 * i);
            return v;
        }
    }

    /** x86 HLT with no in-kernel LAPIC to wait in. */
    record Hlt() implements VcpuExit {}

    /** x86 triple fault / shutdown. */
    record Shutdown() implements VcpuExit {}

    /**
     * KVM_EXIT_SYSTEM_EVENT: the guest asked for power-off, reset or crash (on arm64 through PSCI SYSTEM_OFF,
     * SYSTEM_RESET). {@code type} is KVM_SYSTEM_EVENT_*; {@code data} holds the kernel's {@code ndata} words.
     */
    record SystemEvent(int type, long[] data) implements VcpuExit {
        /** What the guest asked for. */
        public enum Kind {
            SHUTDOWN,
            RESET,
            CRASH,
            OTHER
        }

        public Kind kind() {
            if (type == dev.jvmm.headers.linux.common.kvm_h.KVM_SYSTEM_EVENT_SHUTDOWN()) return Kind.SHUTDOWN;
            if (type == dev.jvmm.headers.linux.common.kvm_h.KVM_SYSTEM_EVENT_RESET()) return Kind.RESET;
            if (type == dev.jvmm.headers.linux.common.kvm_h.KVM_SYSTEM_EVENT_CRASH()) return Kind.CRASH;
            return Kind.OTHER;
        }
    }

    /** KVM_EXIT_FAIL_ENTRY: the hardware refused to enter the guest. */
    record FailEntry(long hardwareReason, int cpu) implements VcpuExit {}

    /** KVM_EXIT_INTERNAL_ERROR with its sub-error and diagnostic words. */
    record InternalError(int suberror, long[] data) implements VcpuExit {}

    /**
     * KVM_EXIT_ARM_NISV: a guest access to a device address without a valid syndrome (e.g. a load-pair), which
     * KVM cannot decode; reported only after KVM_CAP_ARM_NISV_TO_USER was enabled.
     */
    record ArmNisv(long esrIss, long faultIpa) implements VcpuExit {}

    /** KVM_RUN returned early because of a kick (EINTR) or a pending signal. */
    record Interrupted() implements VcpuExit {}

    /** Any other exit reason, kept so the caller can report it by number. */
    record Unknown(int reason) implements VcpuExit {}
}
