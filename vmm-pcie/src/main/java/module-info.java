/** The PCIe model, pure Java: it requires nothing of ours and no native access. */
@SuppressWarnings("module") // the qualified export names a module that is compiled after this one
module dev.jvmm.pcie {
    exports dev.jvmm.pcie;
    exports dev.jvmm.pcie.config;
    exports dev.jvmm.pcie.msi;
    exports dev.jvmm.pcie.spec;
    // Byte-size arithmetic shared with vmm-core (see Sizes), not part of the model's API.
    exports dev.jvmm.pcie.util to dev.jvmm.core;
}
