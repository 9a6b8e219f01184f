package dev.jvmm.kvm;

import dev.jvmm.headers.linux.common.kvm_h;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Asks the host's KVM what it can do: capabilities on the system and VM fds, which interrupt-controller devices
 * a VM may create (KVM_CREATE_DEVICE_TEST), and whether MSIs carry device ids once an ITS exists. Everything is
 * created in a throw-away VM and closed again.
 */
public final class KvmHostProbe {
    /** Device type names in the order they are reported, with their KVM_DEV_TYPE_* numbers. */
    public static final Map<String, Integer> DEVICE_TYPES = deviceTypes();

    private KvmHostProbe() {}

    private static Map<String, Integer> deviceTypes() {
        Map<String, Integer> m = new LinkedHashMap<>();
        m.put("KVM_DEV_TYPE_ARM_VGIC_V2", kvm_h.KVM_DEV_TYPE_ARM_VGIC_V2());
        m.put("KVM_DEV_TYPE_ARM_VGIC_V3", kvm_h.KVM_DEV_TYPE_ARM_VGIC_V3());
        m.put("KVM_DEV_TYPE_ARM_VGIC_ITS", kvm_h.KVM_DEV_TYPE_ARM_VGIC_ITS());
        m.put("KVM_DEV_TYPE_VFIO", kvm_h.KVM_DEV_TYPE_VFIO());
        return java.util.Collections.unmodifiableMap(m);
    }

    public static KvmHostReport probe(Kvm kvm) throws ErrnoException {
        List<String> notes = new ArrayList<>();
        Map<Cap, Optional<Integer>> sys = new EnumMap<>(Cap.class);
        for (Cap c : Cap.values()) sys.put(c, ask(() -> kvm.checkExtension(c)));
        Map<Cap, Optional<Integer>> vmCaps = new EnumMap<>(Cap.class);
        Map<String, Boolean> devices = new LinkedHashMap<>();
        Optional<Integer> devid = Optional.empty();
        try (VmFd vm = kvm.createVm()) {
            for (Cap c : Cap.values()) vmCaps.put(c, ask(() -> vm.checkExtension(c)));
            for (var e : DEVICE_TYPES.entrySet()) {
                devices.put(
                        e.getKey(),
                        ask(() -> vm.canCreateDevice(e.getValue()) ? 1 : 0).orElse(0) == 1);
            }
            if (HostArch.current() == HostArch.AARCH64
                    && devices.get("KVM_DEV_TYPE_ARM_VGIC_V3")
                    && devices.get("KVM_DEV_TYPE_ARM_VGIC_ITS")) {
                devid = msiDevidWithIts(vm, notes);
            }
        }
        return new KvmHostReport(
                HostArch.current(),
                kvm.apiVersion(),
                kvm.vcpuMmapSize(),
                sys,
                vmCaps,
                devices,
                devid,
                List.copyOf(notes));
    }

    /**
     * Creates a vGICv3 and an ITS in the probe VM and asks KVM_CAP_MSI_DEVID again: it reads 1 only once an ITS
     * exists (vgic-its.c sets msis_require_devid when the ITS is created).
     */
    @SuppressWarnings("try") // the devices only need to exist while the VM is asked
    private static Optional<Integer> msiDevidWithIts(VmFd vm, List<String> notes) {
        try (DeviceFd gic = vm.createDevice(kvm_h.KVM_DEV_TYPE_ARM_VGIC_V3());
                DeviceFd its = vm.createDevice(kvm_h.KVM_DEV_TYPE_ARM_VGIC_ITS())) {
            return Optional.of(vm.checkExtension(Cap.MSI_DEVID));
        } catch (ErrnoException e) {
            notes.add("creating vGICv3 + ITS in the probe VM: " + e.getMessage());
            return Optional.empty();
        }
    }

    private interface Question {
        int ask() throws ErrnoException;
    }

    private static Optional<Integer> ask(Question q) {
        try {
            return Optional.of(q.ask());
        } catch (ErrnoException e) {
            // Some questions are expected to fail on some fds (MSI_DEVID on /dev/kvm answers EINVAL).
            return Optional.empty();
        }
    }
}
