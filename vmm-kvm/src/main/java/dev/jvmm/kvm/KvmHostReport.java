package dev.jvmm.kvm;

import java.util.Map;
import java.util.Optional;

/**
 * What the host's KVM offers, as found by {@link KvmHostProbe}. Each capability answer is the raw
 * KVM_CHECK_EXTENSION value (0 = absent) or empty when the question itself failed.
 *
 * @param systemCaps   answers on the /dev/kvm fd
 * @param vmCaps       answers on a fresh VM's fd (the ones that decide what a VM can do)
 * @param deviceTypes  KVM_CREATE_DEVICE_TEST per device type name (KVM_DEV_TYPE_ARM_VGIC_V3, ...)
 * @param msiDevidWithIts KVM_CAP_MSI_DEVID asked of a VM after it got a vGICv3 and an ITS (aarch64 only)
 * @param notes        anything that went wrong while probing, one line each
 */
public record KvmHostReport(
        HostArch arch,
        int apiVersion,
        long vcpuMmapSize,
        Map<Cap, Optional<Integer>> systemCaps,
        Map<Cap, Optional<Integer>> vmCaps,
        Map<String, Boolean> deviceTypes,
        Optional<Integer> msiDevidWithIts,
        java.util.List<String> notes) {

    public boolean canCreate(String deviceType) {
        return deviceTypes.getOrDefault(deviceType, false);
    }
}
