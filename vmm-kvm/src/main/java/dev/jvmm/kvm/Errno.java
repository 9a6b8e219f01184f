package dev.jvmm.kvm;

/**
 * errno values jvmm reacts to. Linux uses the asm-generic numbering (include/uapi/asm-generic/errno-base.h,
 * errno.h) on both x86_64 and arm64, so one table serves every host jvmm runs on.
 */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int ENXIO = 6;
    public static final int E2BIG = 7;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int ENODEV = 19;
    public static final int EINVAL = 22;
    public static final int EMFILE = 24;
    public static final int ENOTTY = 25;
    public static final int ENOSPC = 28;
    public static final int ERANGE = 34;
    public static final int ENOSYS = 38;
    public static final int EOPNOTSUPP = 95;

    private Errno() {}

    /** "Permission denied (EACCES, errno 13)"; unknown numbers still name the number. */
    public static String describe(int errno) {
        String[] nm = switch (errno) {
            case EPERM -> new String[] {"EPERM", "Operation not permitted"};
            case ENOENT -> new String[] {"ENOENT", "No such file or directory"};
            case EINTR -> new String[] {"EINTR", "Interrupted system call"};
            case EIO -> new String[] {"EIO", "Input/output error"};
            case ENXIO -> new String[] {"ENXIO", "No such device or address"};
            case E2BIG -> new String[] {"E2BIG", "Argument list too long"};
            case EBADF -> new String[] {"EBADF", "Bad file descriptor"};
            case EAGAIN -> new String[] {"EAGAIN", "Resource temporarily unavailable"};
            case ENOMEM -> new String[] {"ENOMEM", "Cannot allocate memory"};
            case EACCES -> new String[] {"EACCES", "Permission denied"};
            case EFAULT -> new String[] {"EFAULT", "Bad address"};
            case EBUSY -> new String[] {"EBUSY", "Device or resource busy"};
            case EEXIST -> new String[] {"EEXIST", "File exists"};
            case ENODEV -> new String[] {"ENODEV", "No such device"};
            case EINVAL -> new String[] {"EINVAL", "Invalid argument"};
            case EMFILE -> new String[] {"EMFILE", "Too many open files"};
            case ENOTTY -> new String[] {"ENOTTY", "Inappropriate ioctl for device"};
            case ENOSPC -> new String[] {"ENOSPC", "No space left on device"};
            case ERANGE -> new String[] {"ERANGE", "Numerical result out of range"};
            case ENOSYS -> new String[] {"ENOSYS", "Function not implemented"};
            case EOPNOTSUPP -> new String[] {"EOPNOTSUPP", "Operation not supported"};
            default -> null;
        };
        return nm == null ? "errno " + errno : nm[1] + " (" + nm[0] + ", errno " + errno + ")";
    }
}
