package dev.jvmm.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.headers.linux.common.kvm_h;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What of {@link Aarch64Vgic} can be checked without arm64 KVM: the argument checks (made before the VM is touched,
 * hence the {@code null} VMs), the refusals an x86 KVM gives, and the bookkeeping of several ITSes on stand-in
 * devices (fds of /dev/null). The real vGICv2/v3 and ITS paths run
 * in the emulated arm64 host.
 */
class Aarch64VgicTest {
    @Test
    void interruptCountsAreMultiplesOf32From64To1024() {
        for (int bad : new int[] {0, 32, 63, 97, 1056, -64}) {
            assertThrows(IllegalArgumentException.class, () -> Aarch64Vgic.createV3(null, 0, 0x1_0000, bad));
            assertThrows(IllegalArgumentException.class, () -> Aarch64Vgic.createV2(null, 0, 0x1000, bad));
        }
    }

    @Test
    void basesMustBeAligned() {
        var e = assertThrows(IllegalArgumentException.class, () -> Aarch64Vgic.createV3(null, 0x8000, 0x2_0000, 256));
        assertEquals("vGICv3 distributor base 0x8000 must be 64 KiB aligned", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Aarch64Vgic.createV3(null, 0, 0x2_1000, 256));
        assertThrows(IllegalArgumentException.class, () -> Aarch64Vgic.createV2(null, 0x800, 0x2000, 256));
        assertThrows(IllegalArgumentException.class, () -> Aarch64Vgic.createV2(null, 0x1000, 0x2800, 256));
        assertThrows(IllegalArgumentException.class, () -> Aarch64Vgic.createV3(null, -0x1_0000, 0x2_0000, 256));
    }

    @Test
    void v2DistributorAndCpuInterfaceMustNotOverlap() {
        // distributor 4 KiB, CPU interface 8 KiB (KVM_VGIC_V2_DIST_SIZE, KVM_VGIC_V2_CPU_SIZE)
        assertThrows(IllegalArgumentException.class, () -> Aarch64Vgic.createV2(null, 0x1000, 0x1000, 256));
        assertThrows(IllegalArgumentException.class, () -> Aarch64Vgic.createV2(null, 0x2000, 0x1000, 256));
    }

    @Test
    void x86KvmRefusesBothVgicsWithEnodev() throws Exception {
        try (Kvm kvm = RealKvm.openX86OrSkip();
                VmFd vm = kvm.createVm()) {
            var v3 = assertThrows(ErrnoException.class, () -> Aarch64Vgic.createV3(vm, 0x800_0000, 0x80A_0000, 256));
            assertEquals(Errno.ENODEV, v3.errno());
            var v2 = assertThrows(ErrnoException.class, () -> Aarch64Vgic.createV2(vm, 0x800_0000, 0x801_0000, 256));
            assertEquals(Errno.ENODEV, v2.errno());
            assertTrue(
                    v2.getMessage().startsWith("KVM_CREATE_DEVICE type " + kvm_h.KVM_DEV_TYPE_ARM_VGIC_V2()),
                    v2.getMessage());
            assertFalse(vm.canCreateDevice(kvm_h.KVM_DEV_TYPE_ARM_VGIC_V2()));
            assertFalse(vm.canCreateDevice(kvm_h.KVM_DEV_TYPE_ARM_VGIC_ITS()));
        }
    }

    @Test
    void aV2VgicHasNoIts() throws Exception {
        try (Aarch64Vgic gic = new Aarch64Vgic(standIn(kvm_h.KVM_DEV_TYPE_ARM_VGIC_V2()))) {
            assertFalse(gic.isV3());
            var e = assertThrows(IllegalStateException.class, () -> gic.addIts(null, 0x800_0000));
            assertEquals("a vGICv2 cannot have an ITS (GICv3 only)", e.getMessage());
            assertEquals(0, gic.itsCount());
            assertFalse(gic.hasIts());
        }
    }

    @Test
    void severalItsesAreKeptAndClosedTogether() throws Exception {
        DeviceFd gicDev = standIn(kvm_h.KVM_DEV_TYPE_ARM_VGIC_V3());
        DeviceFd its0 = standIn(kvm_h.KVM_DEV_TYPE_ARM_VGIC_ITS());
        DeviceFd its1 = standIn(kvm_h.KVM_DEV_TYPE_ARM_VGIC_ITS());
        Aarch64Vgic gic = new Aarch64Vgic(gicDev);
        assertTrue(gic.isV3());
        gic.adoptIts(its0, 0x808_0000);
        gic.adoptIts(its1, 0x80A_0000); // right after the first one's two frames
        assertEquals(2, gic.itsCount());
        assertTrue(gic.hasIts());
        assertEquals(List.of(0x808_0000L, 0x80A_0000L), gic.itsBases());

        // Checked before the VM is touched: alignment, and no overlap with an ITS already there.
        assertThrows(IllegalArgumentException.class, () -> gic.addIts(null, 0x80C_8000));
        var overlap = assertThrows(IllegalArgumentException.class, () -> gic.addIts(null, 0x809_0000));
        assertEquals("ITS at 0x8090000 overlaps the ITS at 0x8080000 (each takes 128 KiB)", overlap.getMessage());
        assertThrows(IllegalArgumentException.class, () -> gic.addIts(null, 0x80B_0000));

        gic.close();
        assertTrue(its0.isClosed() && its1.isClosed() && gicDev.isClosed(), "close closes every ITS and the vGIC");
    }

    @Test
    void itsDoorbellIsInTheSecondFrame() {
        assertEquals(0x2_0000, Aarch64Vgic.ITS_SIZE);
        assertEquals(0x1_0040, Aarch64Vgic.ITS_TRANSLATER_OFFSET);
    }

    /** A device fd that is not KVM's: /dev/null, typed as {@code type}. */
    private static DeviceFd standIn(int type) throws ErrnoException {
        return new DeviceFd(Libc.open("/dev/null", Libc.O_RDWR | Libc.O_CLOEXEC), type);
    }
}
