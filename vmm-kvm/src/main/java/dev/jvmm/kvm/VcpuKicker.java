package dev.jvmm.kvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Pulls a vCPU thread out of a blocking KVM_RUN without losing a wake-up (the scheme QEMU uses).
 *
 * <p>One real-time signal, {@code SIGRTMIN + 6}, is the kick. Each vCPU thread blocks it with pthread_sigmask and
 * tells KVM, through KVM_SET_SIGNAL_MASK, to run the guest with an empty mask. So the signal can only be delivered
 * while the thread is inside KVM_RUN, where it makes KVM_RUN return EINTR. A kick that arrives while the thread
 * runs Java code stays pending, and the next KVM_RUN returns at once. Nothing is written into {@code kvm_run}
 * from another thread, so the mapping can stay confined to its vCPU thread.
 *
 * <p>The handler must exist (an ignored signal would not interrupt KVM_RUN) but must do nothing, and a Java upcall
 * cannot run in a signal handler. It is libc's {@code getppid}: async-signal-safe, no side effects, and it
 * ignores the arguments a handler receives. HotSpot does not use real-time signals.
 */
public final class VcpuKicker {
    /** The kick signal. */
    public static final int SIGNAL = Libc.sigrtmin() + 6;

    // glibc struct sigaction (sysdeps/unix/sysv/linux/bits/sigaction.h, identical on x86_64 and arm64):
    // sa_handler at 0, sa_mask (1024 bits) at 8, int sa_flags at 136, sa_restorer at 144; 152 bytes.
    private static final long SIGACTION_SIZE = 152;

    private static boolean installed;

    private VcpuKicker() {}

    /** Installs the do-nothing handler for {@link #SIGNAL}, once per process. sa_flags = 0: no SA_RESTART. */
    static synchronized void installHandler() throws ErrnoException {
        if (installed) return;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment act = arena.allocate(SIGACTION_SIZE, 8);
            act.set(ValueLayout.ADDRESS, 0, Libc.symbol("getppid"));
            Libc.sigaction(SIGNAL, act, "sigaction(SIGRTMIN+6)");
        }
        installed = true;
    }

    /** Blocks the kick signal on the calling thread (the vCPU thread, before its first KVM_RUN). */
    static void blockOnCurrentThread() throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment set = arena.allocate(Libc.GLIBC_SIGSET_BYTES, 8);
            setBit(set, SIGNAL);
            Libc.pthreadSigmask(Libc.SIG_BLOCK, set);
        }
    }

    /** Sends the kick to a thread captured with {@link Libc#pthreadSelf()}. */
    static void kick(long pthread) throws ErrnoException {
        Libc.pthreadKill(pthread, SIGNAL);
    }

    private static void setBit(MemorySegment sigset, int signal) {
        int bit = signal - 1;
        long word = (bit / 64) * 8L;
        long v = sigset.get(ValueLayout.JAVA_LONG, word);
        sigset.set(ValueLayout.JAVA_LONG, word, v | (1L << (bit % 64)));
    }
}
