package dev.jvmm.kvm;

/** The host's CPU architecture, which picks the arch-specific half of the KVM API. */
public enum HostArch {
    X86_64,
    AARCH64,
    OTHER;

    private static final HostArch CURRENT = switch (System.getProperty("os.arch")) {
        case "amd64", "x86_64" -> X86_64;
        case "aarch64", "arm64" -> AARCH64;
        default -> OTHER;
    };

    public static HostArch current() {
        return CURRENT;
    }

    public String uname() {
        return switch (this) {
            case X86_64 -> "x86_64";
            case AARCH64 -> "aarch64";
            case OTHER -> System.getProperty("os.arch");
        };
    }
}
