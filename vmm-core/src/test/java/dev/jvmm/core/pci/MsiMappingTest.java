package dev.jvmm.core.pci;

import dev.jvmm.core.arch.aarch64.Aarch64DeviceTree.MsiController;
import dev.jvmm.pcie.msi.DeviceIdScheme;
import dev.jvmm.pcie.msi.RequesterId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.*;

class MsiMappingTest {
    private static final int PHANDLE = 7;

    @Test
    void segmentZeroMapsEveryRidToTheDevidJvmmInjects() {
        MsiMapping m = MsiMapping.forSegment(0, MsiController.ITS, PHANDLE, DeviceIdScheme.KVM_VITS);
        MsiMapping.IdMap map = assertInstanceOf(MsiMapping.IdMap.class, m);
        assertEquals(PHANDLE, map.phandle());
        // The guest computes devid = deviceIdBase + RID (pci-msi binding); jvmm passes DeviceIdScheme's devid.
        for (int rid : new int[] {0, 0x0100, 0x0508, 0xFFFF}) {
            assertEquals(DeviceIdScheme.KVM_VITS.deviceId(0, RequesterId.of(rid)).getAsInt(), map.deviceIdBase() + rid);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 15})
    void otherSegmentsGetNoItsMappingWithKvmsSixteenBitVits(int segment) {
        MsiMapping m = MsiMapping.forSegment(segment, MsiController.ITS, PHANDLE, DeviceIdScheme.KVM_VITS);
        MsiMapping.None none = assertInstanceOf(MsiMapping.None.class, m);
        assertTrue(none.why().contains("16 bits"), none.why());
    }

    @Test
    void aWiderItsWouldMapOtherSegmentsAtTheirOwnDevidBase() {
        DeviceIdScheme wide = new DeviceIdScheme(24);
        MsiMapping.IdMap map = assertInstanceOf(MsiMapping.IdMap.class, MsiMapping.forSegment(3, MsiController.ITS, PHANDLE, wide));
        assertEquals(wide.deviceId(3, RequesterId.of(0x0208)).getAsInt(), map.deviceIdBase() + 0x0208);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 15})
    void gicv2mNeedsNoDevidSoEverySegmentGetsMsiParent(int segment) {
        assertEquals(new MsiMapping.Parent(PHANDLE), MsiMapping.forSegment(segment, MsiController.GICV2M, PHANDLE, DeviceIdScheme.KVM_VITS));
    }

    @Test
    void noControllerNoMsi() {
        assertInstanceOf(MsiMapping.None.class, MsiMapping.forSegment(0, MsiController.NONE, 0, DeviceIdScheme.KVM_VITS));
    }
}
