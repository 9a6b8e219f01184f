package dev.jvmm.core.pci;

import static dev.jvmm.core.arch.aarch64.MemoryMap.GiB;
import static dev.jvmm.core.arch.aarch64.MemoryMap.KiB;
import static dev.jvmm.core.arch.aarch64.MemoryMap.MiB;
import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.core.arch.aarch64.MemoryMap;
import dev.jvmm.core.bus.AddressRange;
import dev.jvmm.pcie.util.Sizes;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PcieWindowsTest {
    private static final MemoryMap MAP = MemoryMap.create(2, 256 * MiB, 40);

    /** Every window of every bridge, for the overlap check. */
    private static List<AddressRange> all(List<PcieWindows> ws) {
        List<AddressRange> out = new ArrayList<>();
        for (PcieWindows w : ws) out.addAll(List.of(w.io(), w.mmio32(), w.mmio64()));
        return out;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 5, 7, 16})
    void sharesNeverOverlapAndStayInsideTheMachineWindows(int count) {
        List<PcieWindows> ws = PcieWindows.allocate(MAP, count);
        assertEquals(count, ws.size());
        List<AddressRange> ranges = all(ws);
        for (int i = 0; i < ranges.size(); i++) {
            for (int j = i + 1; j < ranges.size(); j++) {
                assertFalse(ranges.get(i).overlaps(ranges.get(j)), ranges.get(i) + " overlaps " + ranges.get(j));
            }
        }
        for (PcieWindows w : ws) {
            assertTrue(MemoryMap.PCIE_PIO.contains(w.io()), w.io().toString());
            assertTrue(MemoryMap.PCIE_MMIO32.contains(w.mmio32()), w.mmio32().toString());
            assertTrue(MAP.pcieMmio64().contains(w.mmio64()), w.mmio64().toString());
            // Bridge window granules (PCIe Base 6.0 §7.5.1.3.6, .8): a bridge window can start at a share's base.
            assertEquals(0, w.io().base() % (4 * KiB));
            assertEquals(0, w.io().size() % (4 * KiB));
            assertEquals(0, w.mmio32().base() % MiB);
            assertEquals(0, w.mmio32().size() % MiB);
            assertTrue(Sizes.isPowerOfTwo(w.mmio64().size()), "64-bit share is a power of two");
            assertEquals(0, w.mmio64().base() % Math.min(w.mmio64().size(), GiB), "64-bit share alignment");
            // PCI I/O addresses are distinct too: the offset of the share in the machine's I/O window.
            assertEquals(w.io().base() - MemoryMap.PCIE_PIO.base(), w.ioPciBase());
        }
        // Nothing is wasted beyond rounding: the 32-bit shares cover all but less than one granule per bridge.
        long used = ws.stream().mapToLong(w -> w.mmio32().size()).sum();
        assertTrue(MemoryMap.PCIE_MMIO32.size() - used < count * MiB);
    }

    @Test
    void oneBridgeGetsTheWholeWindows() {
        PcieWindows w = PcieWindows.allocate(MAP, 1).getFirst();
        assertEquals(MemoryMap.PCIE_PIO, w.io());
        assertEquals(0, w.ioPciBase());
        assertEquals(MemoryMap.PCIE_MMIO32.base(), w.mmio32().base());
        assertEquals(MemoryMap.PCIE_MMIO32.size() / MiB * MiB, w.mmio32().size());
        // 512 GiB of 64-bit window, as MemoryMap reserves at most.
        assertEquals(512 * GiB, w.mmio64().size());
        assertEquals(MAP.pcieMmio64().base(), w.mmio64().base());
    }

    @Test
    void noBridgesNoWindows() {
        assertTrue(PcieWindows.allocate(MAP, 0).isEmpty());
    }

    @Test
    void seventeenBridgesDoNotFitTheIoWindow() {
        // 64 KiB / 17 is less than one 4 KiB bridge I/O granule.
        var e = assertThrows(IllegalArgumentException.class, () -> PcieWindows.allocate(MAP, 17));
        assertTrue(e.getMessage().contains("17 host bridges"), e.getMessage());
        assertTrue(e.getMessage().contains("I/O"), e.getMessage());
    }

    @Test
    void ioBarsTranslateToTheMemoryMappedIoSpace() {
        List<PcieWindows> ws = PcieWindows.allocate(MAP, 2);
        PcieWindows second = ws.get(1);
        long pci = second.ioPciBase() + 0x100;
        assertEquals(Optional.of(new AddressRange(second.io().base() + 0x100, 0x40)), second.ioToCpu(pci, 0x40));
        // Outside the bridge's own share (the first bridge's I/O addresses), or running off its end: no translation.
        assertEquals(Optional.empty(), second.ioToCpu(ws.get(0).ioPciBase(), 0x40));
        assertEquals(
                Optional.empty(),
                second.ioToCpu(second.ioPciBase() + second.io().size() - 0x20, 0x40));
    }

    @Test
    void memoryMustLieWhollyInOneWindow() {
        PcieWindows w = PcieWindows.allocate(MAP, 2).getFirst();
        assertTrue(w.holdsMemory(w.mmio32().base(), 4096));
        assertTrue(w.holdsMemory(w.mmio64().end() - 4096, 4096));
        assertFalse(w.holdsMemory(w.mmio32().end() - 2048, 4096), "runs off the end");
        assertFalse(w.holdsMemory(0x0900_0000L, 4096), "the UART is no PCI window");
        assertFalse(
                w.holdsMemory(PcieWindows.allocate(MAP, 2).get(1).mmio32().base(), 4096), "the other bridge's window");
    }
}
