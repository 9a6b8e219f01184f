package dev.jvmm.kvm;

import java.nio.file.Path;

/**
 * The KVM system fd ({@code /dev/kvm}): API version, capability questions, VM creation
 * (Documentation/virt/kvm/api.rst §4.1-4.5).
 */
public final class Kvm extends Fd {
    /** The only API version there has ever been (api.rst §4.1: "the only stable version is 12"). */
    public static final int API_VERSION = 12;

    public static final Path DEFAULT_PATH = Path.of("/dev/kvm");

    private Kvm(int fd) {
        super(fd, "/dev/kvm");
    }

    public static Kvm open() throws ErrnoException {
        return open(DEFAULT_PATH);
    }

    /**
     * Initializes the classes every VM needs (the libc downcall handles, the ioctl numbers, the kick signal) so
     * that a later {@link #open} does not pay for them. Linking downcall handles generates code, which costs
     * seconds on an emulated CPU; a caller can run this on a spare thread while it does other start-up work (the
     * JVM's class-initialization lock makes any thread that gets there first wait for the result).
     */
    public static void preload() {
        try {
            for (Class<?> c : new Class<?>[] {
                Libc.class,
                Abi.class,
                VcpuKicker.class,
                VcpuRunner.class,
                Aarch64Vgic.class,
                Aarch64Regs.class,
                Aarch64VcpuFeature.class,
                Cap.class,
                KvmHostProbe.class
            }) {
                Class.forName(c.getName(), true, c.getClassLoader());
            }
        } catch (ClassNotFoundException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * Opens the KVM device and checks its API version. Fails with ENOENT when there is no KVM on this host and
     * EACCES when the user may not use it; both are one-line {@link ErrnoException}s naming the path.
     */
    public static Kvm open(Path path) throws ErrnoException {
        Kvm kvm = new Kvm(Libc.open(path.toString(), Libc.O_RDWR | Libc.O_CLOEXEC));
        int version = kvm.apiVersion();
        if (version != API_VERSION) {
            kvm.close();
            throw new ErrnoException(
                    "KVM_GET_API_VERSION returned " + version + ", jvmm needs " + API_VERSION, Errno.EINVAL);
        }
        return kvm;
    }

    public int apiVersion() throws ErrnoException {
        return Libc.ioctl(fd(), Abi.KVM_GET_API_VERSION, 0L, "KVM_GET_API_VERSION");
    }

    /** KVM_CHECK_EXTENSION on the system fd: 0 when absent, otherwise a cap-specific positive value. */
    public int checkExtension(Cap cap) throws ErrnoException {
        return checkExtension(cap.number(), cap.kvmName());
    }

    int checkExtension(int number, String name) throws ErrnoException {
        return Libc.ioctl(fd(), Abi.KVM_CHECK_EXTENSION, number, "KVM_CHECK_EXTENSION " + name);
    }

    /** Size of the {@code kvm_run} mapping of every vCPU fd (api.rst §4.3). */
    public long vcpuMmapSize() throws ErrnoException {
        return Libc.ioctl(fd(), Abi.KVM_GET_VCPU_MMAP_SIZE, 0L, "KVM_GET_VCPU_MMAP_SIZE");
    }

    /** KVM_CREATE_VM with the default machine type (on arm64: the default 40-bit IPA space). */
    public VmFd createVm() throws ErrnoException {
        return createVm(0);
    }

    /**
     * KVM_CREATE_VM. On arm64 the type carries the IPA size (KVM_VM_TYPE_ARM_IPA_SIZE, api.rst §4.2); 0 is the
     * default.
     */
    public VmFd createVm(long type) throws ErrnoException {
        int vmfd = Libc.ioctl(fd(), Abi.KVM_CREATE_VM, type, "KVM_CREATE_VM");
        return new VmFd(vmfd, vcpuMmapSize());
    }
}
