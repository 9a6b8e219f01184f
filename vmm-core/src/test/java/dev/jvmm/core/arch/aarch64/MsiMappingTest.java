package dev.jvmm.core.arch.aarch64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.jvmm.core.arch.aarch64.Aarch64DeviceTree.MsiController;
import dev.jvmm.core.arch.aarch64.Aarch64DeviceTree.Phandles;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MsiMappingTest {
    /** ITS phandles 7 (segment 0) and 9 (segment 3). */
    private static final Phandles ITS = new Phandles(1, 7, 2, Map.of(0, 7, 3, 9));

    private static final Phandles V2M = new Phandles(1, 5, 2, Map.of());

    @Test
    void eachSegmentMapsEveryRidOneToOneOntoItsOwnIts() {
        // The guest computes devid = msi-base + RID (pci-msi binding); jvmm passes the RID (DeviceIdMapping).
        assertEquals(new MsiMapping.IdMap(7, 0), MsiMapping.forSegment(0, MsiController.ITS, ITS));
        assertEquals(new MsiMapping.IdMap(9, 0), MsiMapping.forSegment(3, MsiController.ITS, ITS));
        assertEquals(0x10000, MsiMapping.IdMap.RID_COUNT);
    }

    @Test
    void aSegmentWithoutAnItsGetsNoMsiDescription() {
        assertInstanceOf(MsiMapping.None.class, MsiMapping.forSegment(1, MsiController.ITS, ITS));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 15})
    void v2mIsTheMsiParentOfEverySegment(int segment) {
        assertEquals(new MsiMapping.Parent(5), MsiMapping.forSegment(segment, MsiController.GICV2M, V2M));
    }

    @Test
    void noControllerNoDescription() {
        assertInstanceOf(
                MsiMapping.None.class, MsiMapping.forSegment(0, MsiController.NONE, new Phandles(1, 0, 2, Map.of())));
    }
}
