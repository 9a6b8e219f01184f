package dev.jvmm.core.vcpu;

/** How a guest's run ended. The CLI maps each to a documented exit status. */
public sealed interface GuestExit {
    /** The guest powered off (PSCI SYSTEM_OFF). */
    record PowerOff() implements GuestExit {}

    /** The guest asked for a reset (PSCI SYSTEM_RESET), e.g. {@code reboot}, or a panic with {@code panic=N}. */
    record Reset() implements GuestExit {}

    /** The guest reported a crash (KVM_SYSTEM_EVENT_CRASH, or a panic notification device). */
    record Panic(String detail) implements GuestExit {}

    /** jvmm stopped the guest because something failed; the message is one line for the user. */
    record Failed(String message) implements GuestExit {}

    /** Stopped from outside (signal, management request). */
    record Stopped(String why) implements GuestExit {}
}
