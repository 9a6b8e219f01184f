package dev.jvmm.kvm;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;

/** Gate for tests that need the host's real /dev/kvm; skips with the reason visible in the test report. */
final class RealKvm {
    private RealKvm() {}

    static Kvm openOrSkip() {
        assumeTrue(Files.exists(Kvm.DEFAULT_PATH), "SKIPPED: /dev/kvm is absent on this host");
        try {
            return Kvm.open();
        } catch (ErrnoException e) {
            assumeTrue(false, "SKIPPED: cannot use /dev/kvm: " + e.getMessage());
            throw new AssertionError(e);
        }
    }

    static Kvm openX86OrSkip() {
        assumeTrue(
                HostArch.current() == HostArch.X86_64, "SKIPPED: needs an x86_64 host, this is " + HostArch.current());
        return openOrSkip();
    }
}
