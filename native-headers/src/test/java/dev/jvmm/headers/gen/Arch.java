package dev.jvmm.headers.gen;

/**
 * The architectures the generator emits a package for. Each one needs a C compiler that targets it and that
 * architecture's UAPI headers (Debian: the native gcc + linux-libc-dev, or the cross packages named here).
 */
public enum Arch {
    // aarch64 first: it is jvmm's primary target, and the common package follows its declaration order.
    AARCH64("aarch64", "aarch64-linux-gnu", "gcc-aarch64-linux-gnu linux-libc-dev-arm64-cross"),
    X86_64("x86_64", "x86_64-linux-gnu", "gcc-x86-64-linux-gnu linux-libc-dev-amd64-cross");

    /** Base package of all generated code; arch packages and {@code common} live below it. */
    public static final String BASE_PACKAGE = "dev.jvmm.headers.linux";

    public static final String COMMON_PACKAGE = BASE_PACKAGE + ".common";

    private final String id;
    private final String triple;
    private final String crossPackages;

    Arch(String id, String triple, String crossPackages) {
        this.id = id;
        this.triple = triple;
        this.crossPackages = crossPackages;
    }

    /** Name used in package names, manifest file names and {@code uname -m}. */
    public String id() {
        return id;
    }

    /** GNU target triple, the prefix of the cross compiler's name. */
    public String triple() {
        return triple;
    }

    /** Debian packages that provide a cross compiler and UAPI headers for this arch on another host. */
    public String crossPackages() {
        return crossPackages;
    }

    public String javaPackage() {
        return BASE_PACKAGE + "." + id;
    }

    public static Arch ofId(String id) {
        for (Arch a : values()) {
            if (a.id.equals(id)) {
                return a;
            }
        }
        throw new IllegalArgumentException("unknown arch " + id);
    }
}
