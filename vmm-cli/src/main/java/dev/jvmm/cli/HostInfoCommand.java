package dev.jvmm.cli;

import dev.jvmm.core.host.HostKvmInfo;
import dev.jvmm.core.host.KvmUnavailableException;
import dev.jvmm.core.irq.GicMsiMode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code jvmm host-info}: what this host's KVM can do and what jvmm would choose here. */
@Command(
        name = "host-info",
        mixinStandardHelpOptions = true,
        description = {
            "Reports the host's KVM: API version, capabilities on the system and VM fds, which interrupt",
            "controllers a VM can get (KVM_CREATE_DEVICE_TEST), whether MSIs carry device ids once an ITS",
            "exists, and what --gic-msi=auto would choose."
        })
final class HostInfoCommand implements Callable<Integer> {
    @Option(
            names = "--kvm-device",
            paramLabel = "PATH",
            defaultValue = "/dev/kvm",
            description = "KVM device to open (default: ${DEFAULT-VALUE}).")
    Path kvmDevice;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        HostKvmInfo info;
        if (java.nio.file.Files.isDirectory(kvmDevice)) {
            throw new UserError(
                    "--kvm-device " + kvmDevice + ": is a directory, not the KVM device", ExitStatus.USAGE.code());
        }
        try {
            info = HostKvmInfo.probe(kvmDevice);
        } catch (KvmUnavailableException e) {
            throw new UserError(e.getMessage(), ExitStatus.FAILURE.code(), e);
        }
        PrintWriter out = spec.commandLine().getOut();
        out.printf("jvmm %s on %s, Java %s%n", Version.jvmmVersion(), info.arch(), Runtime.version());
        out.printf(
                "KVM: %s, API version %d, kvm_run mapping %d bytes%n",
                kvmDevice, info.apiVersion(), info.vcpuMmapSize());
        out.println("capabilities (KVM_CHECK_EXTENSION)          /dev/kvm   VM fd");
        for (Map.Entry<String, String[]> e : info.capabilityTable().entrySet()) {
            out.printf("  %-40s %8s %7s%n", e.getKey(), e.getValue()[0], e.getValue()[1]);
        }
        out.println("devices (KVM_CREATE_DEVICE_TEST)");
        for (var e : info.deviceTypes().entrySet()) {
            out.printf("  %-40s %s%n", e.getKey(), e.getValue() ? "yes" : "no");
        }
        out.printf(
                "KVM_CAP_MSI_DEVID on a VM with a GICv3 ITS: %s%n",
                info.msiDevidWithIts().map(String::valueOf).orElse("not probed (no ITS on this host)"));
        out.printf("ITS available: %s%n", info.gic().its() && info.gic().vgicV3() ? "yes" : "no");
        out.printf("--gic-msi=auto would choose: %s%n", info.describeChoice(GicMsiMode.AUTO));
        for (String note : info.notes()) out.println("note: " + note);
        out.flush();
        return ExitStatus.OK.code();
    }
}
