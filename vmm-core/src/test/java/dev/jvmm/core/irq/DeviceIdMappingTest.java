package dev.jvmm.core.irq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.arch.aarch64.MemoryMap;
import dev.jvmm.core.bus.AddressRange;
import dev.jvmm.pcie.msi.RequesterId;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class DeviceIdMappingTest {
    @Test
    void segmentZeroAlwaysHasAnItsWhereQemuPutsIt() {
        DeviceIdMapping m = DeviceIdMapping.forSegments(List.of());
        assertEquals(List.of(new DeviceIdMapping.Its(0, 0x0808_0000L)), m.its());
        assertEquals(0x0809_0040L, m.its(0).orElseThrow().doorbell(), "GITS_TRANSLATER, IHI 0069 §12.19");
    }

    @Test
    void everySegmentGetsItsOwnItsInsideTheReservedAreaWithoutOverlap() {
        DeviceIdMapping m = DeviceIdMapping.forSegments(
                IntStream.range(0, MemoryMap.MAX_PCIE_SEGMENTS).boxed().toList());
        assertEquals(MemoryMap.MAX_PCIE_SEGMENTS, m.its().size());
        List<AddressRange> frames = new ArrayList<>();
        for (DeviceIdMapping.Its its : m.its()) {
            AddressRange frame = new AddressRange(its.base(), DeviceIdMapping.ITS_SIZE);
            if (its.segment() == 0) assertEquals(MemoryMap.GIC_ITS, frame);
            else assertTrue(MemoryMap.SEGMENT_ITS_AREA.contains(frame), its + " outside " + MemoryMap.SEGMENT_ITS_AREA);
            for (AddressRange other : frames) assertFalse(other.overlaps(frame), its + " overlaps " + other);
            frames.add(frame);
        }
    }

    @Test
    void theDeviceIdIsTheRequesterIdForEveryPositionOnEverySegment() {
        // Every bus/device/function a topology can produce: DeviceID = RID, unique within its segment's ITS and
        // always inside KVM's 16-bit vITS DeviceID space.
        for (int bus = 0; bus < 256; bus++) {
            for (int dev = 0; dev < 32; dev++) {
                for (int fn = 0; fn < 8; fn++) {
                    int devid = DeviceIdMapping.deviceId(new RequesterId(bus, dev, fn));
                    assertEquals(bus << 8 | dev << 3 | fn, devid);
                    assertTrue(devid < DeviceIdMapping.RID_COUNT);
                }
            }
        }
    }

    @Test
    void segmentsOutsideTheMemoryMapAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> DeviceIdMapping.forSegments(List.of(16)));
        assertThrows(IllegalArgumentException.class, () -> DeviceIdMapping.forSegments(List.of(-1)));
        assertTrue(DeviceIdMapping.forSegments(List.of(2)).its(1).isEmpty());
        assertTrue(DeviceIdMapping.forSegments(List.of(2)).its(99).isEmpty());
    }
}
