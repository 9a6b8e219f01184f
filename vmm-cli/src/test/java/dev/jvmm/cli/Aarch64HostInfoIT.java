package dev.jvmm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * jvmm on a real aarch64 KVM (inside the emulated arm64 host): the host report sees the vGICv3 and the ITS,
 * KVM_CAP_MSI_DEVID turns 1 once an ITS exists, and --gic-msi=auto picks the ITS.
 */
class Aarch64HostInfoIT {
    @Test
    void hostInfoSeesTheItsOnAnAarch64KvmHost() throws Exception {
        EmulatedAarch64Host.skipIfAsked();
        var r = EmulatedAarch64Host.run("/jvmm/bin/jvmm host-info", List.of(), 600);
        assertEquals(0, r.status(), "jvmm host-info failed in the emulated host");
        String out = r.output();
        assertTrue(out.contains("jvmm 0.") && out.contains(" on aarch64,"), out);
        assertTrue(out.contains("API version 12"), out);
        assertLine(out, "\\s+KVM_DEV_TYPE_ARM_VGIC_V3\\s+yes");
        assertLine(out, "\\s+KVM_DEV_TYPE_ARM_VGIC_ITS\\s+yes");
        // MSI_DEVID is a VM question: EINVAL ("-") on /dev/kvm, 0 on a VM without an ITS ...
        assertLine(out, "\\s+KVM_CAP_MSI_DEVID\\s+-\\s+0");
        // ... and 1 once the VM has an ITS.
        assertTrue(out.contains("KVM_CAP_MSI_DEVID on a VM with a GICv3 ITS: 1"), out);
        assertLine(out, "\\s+KVM_CAP_ARM_PSCI_0_2\\s+1\\s+1");
        assertTrue(out.contains("ITS available: yes"), out);
        assertTrue(out.contains("--gic-msi=auto would choose: its ("), out);
    }

    private static void assertLine(String out, String regex) {
        Pattern p = Pattern.compile(regex);
        assertTrue(out.lines().anyMatch(l -> p.matcher(l).matches()), "no line matching /" + regex + "/ in:\n" + out);
    }
}
