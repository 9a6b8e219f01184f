/**
 * The only code that makes syscalls (FFM downcalls in {@code Libc}, mappings in {@code Mmap}): the module the
 * native-access grant names, with the bindings it uses.
 *
 * <p>Exported to vmm-core only, so errno-level types ({@code ErrnoException}, fds) cannot be used above core.
 */
@SuppressWarnings("module") // the qualified export names a module that is compiled after this one
module dev.jvmm.kvm {
    requires dev.jvmm.headers;

    exports dev.jvmm.kvm to dev.jvmm.core;
}
