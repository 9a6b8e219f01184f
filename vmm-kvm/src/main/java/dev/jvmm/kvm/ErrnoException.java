package dev.jvmm.kvm;

import java.io.IOException;

/**
 * A system call failed. Carries the operation (an ioctl name such as {@code KVM_CREATE_VM}, or a libc call such
 * as {@code open /dev/kvm}) and the errno the kernel returned. The message is one line meant for a user:
 * {@code KVM_CREATE_VM: Permission denied (EACCES, errno 13)}.
 *
 * <p>Checked, because every caller at the syscall edge must decide what a failure means; code above vmm-kvm
 * turns it into a domain error.
 */
public final class ErrnoException extends IOException {
    private static final long serialVersionUID = 1L;
    private final String operation;
    private final int errno;

    public ErrnoException(String operation, int errno) {
        super(operation + ": " + Errno.describe(errno));
        this.operation = operation;
        this.errno = errno;
    }

    public String operation() {
        return operation;
    }

    public int errno() {
        return errno;
    }

    /** True when errno is the given one, e.g. {@code e.is(Errno.EBUSY)}. */
    public boolean is(int expected) {
        return errno == expected;
    }
}
