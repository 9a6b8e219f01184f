/**
 * The generated KVM bindings (the one hand-written file under src/main). Only vmm-kvm, the module that makes the
 * syscalls, may use them.
 *
 * <p>Native access must be granted to this module too, not only to vmm-kvm: the generated {@code kvm_h$shared}
 * builds {@code C_POINTER} with {@code AddressLayout.withTargetLayout} and every struct class has
 * {@code reinterpret} helpers, both restricted methods (JEP 454), which run as this module's code.
 */
@SuppressWarnings("module") // the qualified exports name a module that is compiled after this one
module dev.jvmm.headers {
    exports dev.jvmm.headers.linux.common to dev.jvmm.kvm;
    exports dev.jvmm.headers.linux.aarch64 to dev.jvmm.kvm;
    exports dev.jvmm.headers.linux.x86_64 to dev.jvmm.kvm;
}
