/**
 * The machine. It exports what the CLI drives (the machine, its configuration, host checks, PCIe and MSI choices,
 * guest outcomes); buses, devices, boot, firmware tables and guest memory stay inside.
 */
module dev.jvmm.core {
    requires dev.jvmm.kvm;
    // PCIe model types are part of this module's API (PcieHost.topology(), MsixIrqfds.function()).
    requires transitive dev.jvmm.pcie;

    exports dev.jvmm.core.host;
    exports dev.jvmm.core.irq;
    exports dev.jvmm.core.machine;
    exports dev.jvmm.core.pci;
    exports dev.jvmm.core.vcpu;
}
