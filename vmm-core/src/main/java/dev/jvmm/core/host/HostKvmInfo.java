package dev.jvmm.core.host;

import dev.jvmm.core.irq.GicMsiMode;
import dev.jvmm.core.irq.MsiControllerChoice;
import dev.jvmm.kvm.Cap;
import dev.jvmm.kvm.ErrnoException;
import dev.jvmm.kvm.HostArch;
import dev.jvmm.kvm.Kvm;
import dev.jvmm.kvm.KvmHostProbe;
import dev.jvmm.kvm.KvmHostReport;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The host's KVM facts in domain terms, for {@code jvmm host-info} and for machine construction: errno-level
 * failures stop here and become {@link KvmUnavailableException}, and the answers leave as plain values (vmm-kvm's
 * types are not visible above core).
 */
public final class HostKvmInfo {
    private final KvmHostReport report;

    private HostKvmInfo(KvmHostReport report) {
        this.report = report;
    }

    public static HostKvmInfo probe(Path kvmDevice) throws KvmUnavailableException {
        try (Kvm kvm = Kvm.open(kvmDevice)) {
            return new HostKvmInfo(KvmHostProbe.probe(kvm));
        } catch (ErrnoException e) {
            throw new KvmUnavailableException(hint(e), e);
        }
    }

    static String hint(ErrnoException e) {
        String m = e.getMessage();
        return switch (e.errno()) {
            case dev.jvmm.kvm.Errno.ENOENT ->
                m + " (no KVM on this host: is the kvm module loaded, or is this a VM "
                        + "without nested virtualization?)";
            case dev.jvmm.kvm.Errno.EACCES, dev.jvmm.kvm.Errno.EPERM ->
                m + " (add the user to the 'kvm' group or run " + "with access to /dev/kvm)";
            default -> m;
        };
    }

    /** The host's architecture as uname(2) names it ("aarch64", "x86_64"). */
    public String arch() {
        return report.arch().uname();
    }

    /** KVM_GET_API_VERSION. */
    public int apiVersion() {
        return report.apiVersion();
    }

    /** KVM_GET_VCPU_MMAP_SIZE: bytes of each vCPU's kvm_run mapping. */
    public long vcpuMmapSize() {
        return report.vcpuMmapSize();
    }

    /** KVM_CREATE_DEVICE_TEST per device type name (KVM_DEV_TYPE_ARM_VGIC_V3, ...). */
    public Map<String, Boolean> deviceTypes() {
        return report.deviceTypes();
    }

    /** KVM_CAP_MSI_DEVID asked of a VM with a GICv3 ITS; empty when no ITS could be made. */
    public Optional<Integer> msiDevidWithIts() {
        return report.msiDevidWithIts();
    }

    /** What went wrong while probing, one line each. */
    public List<String> notes() {
        return report.notes();
    }

    public MsiControllerChoice.HostGic gic() {
        return new MsiControllerChoice.HostGic(
                report.arch() == HostArch.AARCH64,
                report.canCreate("KVM_DEV_TYPE_ARM_VGIC_V3"),
                report.canCreate("KVM_DEV_TYPE_ARM_VGIC_V2"),
                report.canCreate("KVM_DEV_TYPE_ARM_VGIC_ITS"));
    }

    /** What {@code --gic-msi=mode} resolves to here, or why it cannot work. */
    public String describeChoice(GicMsiMode mode) {
        try {
            MsiControllerChoice c = MsiControllerChoice.choose(mode, gic());
            return c.msi().cliName() + " (" + c.reason() + ")";
        } catch (MsiControllerChoice.Unavailable u) {
            return "unavailable: " + u.getMessage();
        }
    }

    /** Capability answers as name -> "system/vm" text, "-" where a question failed. */
    public Map<String, String[]> capabilityTable() {
        Map<String, String[]> t = new LinkedHashMap<>();
        for (Cap c : Cap.values()) {
            t.put(c.kvmName(), new String[] {
                text(report.systemCaps().get(c)), text(report.vmCaps().get(c))
            });
        }
        return t;
    }

    private static String text(Optional<Integer> v) {
        return v == null || v.isEmpty() ? "-" : v.get().toString();
    }
}
