package dev.jvmm.core.vcpu;

import dev.jvmm.core.bus.RateLimitedLogger;
import java.lang.System.Logger.Level;

/**
 * What a vCPU does with a guest access KVM could not decode (KVM_EXIT_ARM_NISV: an {@code ldp}/{@code stp}, a
 * load or store with writeback, SIMD or atomic access to an address with no memory behind it). Real hardware gives
 * an access the bus cannot complete a synchronous external abort, and so does QEMU; jvmm injects one
 * (KVM_CAP_ARM_INJECT_EXT_DABT) and the guest goes on: Linux kills a user process with SIGBUS and reports a kernel
 * access as an "Internal error". Only when KVM cannot inject does the VM stop, with a message naming the address.
 * Shared by every vCPU of a machine; the count is for {@code --stats}, the log is rate-limited so a guest cannot
 * flood it.
 */
public final class ExternalAborts {
    private final boolean canInject;
    private final RateLimitedLogger log = new RateLimitedLogger(System.getLogger(ExternalAborts.class.getName()));

    /** @param canInject whether the host's KVM has KVM_CAP_ARM_INJECT_EXT_DABT */
    public ExternalAborts(boolean canInject) {
        this.canInject = canInject;
    }

    public boolean canInject() {
        return canInject;
    }

    /** Counts and (rate-limited) logs one abort injected for an undecodable access. */
    void injected(int vcpu, long faultIpa, long esrIss) {
        log.log(
                Level.WARNING,
                "vCPU %d: the guest accessed 0x%x with an instruction KVM cannot decode (ESR ISS 0x%x);"
                        + " it gets a synchronous external abort",
                vcpu,
                faultIpa,
                esrIss);
    }

    /** External aborts injected so far, over all vCPUs. */
    public long count() {
        return log.count();
    }
}
