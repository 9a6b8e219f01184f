package dev.jvmm.core.arch.aarch64;

import static dev.jvmm.core.arch.aarch64.MemoryMap.GiB;
import static dev.jvmm.core.arch.aarch64.MemoryMap.MiB;
import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.core.bus.AddressRange;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MemoryMapTest {
    @Test
    void fixedAddressesAreQemuVirtCompatible() {
        // hw/arm/virt.c base_memmap: the addresses Linux guests of the virt board are used to.
        assertEquals(new AddressRange(0x0800_0000L, 0x1_0000), MemoryMap.GIC_DIST);
        assertEquals(new AddressRange(0x0802_0000L, 0x1000), MemoryMap.GIC_V2M);
        assertEquals(new AddressRange(0x0808_0000L, 0x2_0000), MemoryMap.GIC_ITS);
        assertEquals(0x080A_0000L, MemoryMap.GIC_REDIST_BASE);
        assertEquals(new AddressRange(0x0900_0000L, 0x1000), MemoryMap.UART);
        assertEquals(new AddressRange(0x0901_0000L, 0x1000), MemoryMap.RTC);
        assertEquals(0x4000_0000L, MemoryMap.create(1, GiB, 40).ram().base());
    }

    @Test
    void redistributorsOf123VcpusFitBelowTheUartAnd124DoNot() {
        assertEquals(123, MemoryMap.MAX_VCPUS);
        MemoryMap max = MemoryMap.create(123, GiB, 40);
        assertTrue(Long.compareUnsigned(max.redistributors().end(), MemoryMap.UART.base()) <= 0);
        assertTrue(MemoryMap.GIC_REDIST_BASE + 124 * 128 * 1024L > MemoryMap.UART.base());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MemoryMap.create(124, GiB, 40));
        assertTrue(e.getMessage().contains("1..123"), e.getMessage());
    }

    @ParameterizedTest(name = "vcpus {0}, host max {1}")
    @CsvSource({"0, 512", "-1, 512", "3, 2", "9, 8"})
    void vcpuCountOutOfRangeIsRejected(int vcpus, int hostMax) {
        assertThrows(IllegalArgumentException.class, () -> MemoryMap.create(vcpus, GiB, 40, hostMax));
    }

    @Test
    void redistributorRegionIsExactlyOnePairOfFramesPerVcpu() {
        assertEquals(
                new AddressRange(0x080A_0000L, 4 * 0x2_0000L),
                MemoryMap.create(4, GiB, 40).redistributors());
    }

    @ParameterizedTest(name = "ram {0} MiB")
    @CsvSource({"63", "1", "0", "-2"})
    void ramBelowTheMinimumIsRejected(long mib) {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> MemoryMap.create(1, mib * MiB, 40));
        assertTrue(e.getMessage().contains("64 MiB"), e.getMessage());
    }

    @Test
    void ramMustBeWholeTwoMiBBlocks() {
        assertThrows(IllegalArgumentException.class, () -> MemoryMap.create(1, 65 * MiB, 40));
        assertDoesNotThrow(() -> MemoryMap.create(1, 66 * MiB, 40));
    }

    @Test
    void ramBeyondTheIpaLimitIsRejected() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> MemoryMap.create(1, 1024 * GiB, 40));
        assertTrue(e.getMessage().contains("IPA"), e.getMessage());
        // Fits as RAM, but leaves no room for ECAM + a 64-bit window below 1 TiB.
        IllegalArgumentException noRoom =
                assertThrows(IllegalArgumentException.class, () -> MemoryMap.create(1, 1020 * GiB, 40));
        assertTrue(noRoom.getMessage().contains("no room"), noRoom.getMessage());
        assertThrows(IllegalArgumentException.class, () -> MemoryMap.create(1, GiB, 31));
        assertThrows(IllegalArgumentException.class, () -> MemoryMap.create(1, GiB, 53));
        assertThrows(
                IllegalArgumentException.class,
                () -> MemoryMap.create(1, GiB, 32),
                "a 32-bit IPA has no room above 4 GiB");
    }

    @ParameterizedTest(name = "{0} vCPUs, {1} MiB, {2}-bit IPA")
    @CsvSource({
        "1, 64, 40",
        "2, 1024, 40",
        "123, 3072, 40",
        "8, 4096, 40",
        "4, 1024, 36",
        "4, 49152, 36",
        "16, 261120, 40",
        "64, 1048576, 48",
        "1, 2048, 52"
    })
    void regionsNeverOverlapAndStayBelowTheIpaLimit(int vcpus, long ramMiB, int ipaBits) {
        MemoryMap m = MemoryMap.create(vcpus, ramMiB * MiB, ipaBits);
        List<MemoryMap.Named> regions = m.regions();
        for (int i = 0; i < regions.size(); i++) {
            for (int j = i + 1; j < regions.size(); j++) {
                assertFalse(
                        regions.get(i).range().overlaps(regions.get(j).range()),
                        regions.get(i) + " overlaps " + regions.get(j) + "\n" + m.describe());
            }
            assertTrue(
                    Long.compareUnsigned(regions.get(i).range().end(), 1L << ipaBits) <= 0,
                    regions.get(i).toString());
        }
        assertTrue(
                m.ecamArea().base() >= 4 * GiB && m.ecamArea().base() >= m.ram().end(), m.describe());
        assertEquals(0, m.ecamArea().base() % MemoryMap.ECAM_SEGMENT_SIZE, "ECAM aligned to its size");
        assertEquals(16 * 256 * MiB, m.ecamArea().size());
        assertTrue(m.pcieMmio64().size() >= GiB && m.pcieMmio64().size() <= 512 * GiB, m.describe());
        assertTrue(Long.compareUnsigned(m.pcieMmio64().base(), m.ecamArea().end()) >= 0);
        assertTrue(m.redistributors().end() <= MemoryMap.UART.base());
        assertTrue(
                MemoryMap.PCIE_PIO.end() <= m.ram().base() && MemoryMap.PCIE_MMIO32.end() <= MemoryMap.PCIE_PIO.base());
    }

    @Test
    void ecamSegmentsTileTheEcamArea() {
        MemoryMap m = MemoryMap.create(1, GiB, 40);
        assertEquals(m.ecamArea().base(), m.ecam(0).base());
        assertEquals(m.ecamArea().end(), m.ecam(15).end());
        assertEquals(m.ecam(0).end(), m.ecam(1).base());
        assertThrows(IllegalArgumentException.class, () -> m.ecam(16));
        assertThrows(IllegalArgumentException.class, () -> m.ecam(-1));
    }

    @ParameterizedTest(name = "vcpu {0} -> MPIDR 0x{1}")
    @CsvSource({"0, 0", "1, 1", "15, f", "16, 100", "17, 101", "122, 70a", "4095, ff0f", "4096, 10000"})
    void mpidrFollowsKvmResetMpidr(int index, String hex) {
        // arch/arm64/kvm/sys_regs.c reset_mpidr: Aff0 = id & 0xf, Aff1 = (id >> 4) & 0xff, Aff2 = (id >> 12) & 0xff.
        assertEquals(Long.parseLong(hex, 16), MemoryMap.mpidr(index));
    }

    @Test
    void describeListsEveryRegion() {
        String d = MemoryMap.create(2, GiB, 40).describe();
        for (String name : List.of(
                "gic-dist",
                "gic-its",
                "gic-redist",
                "uart-pl011",
                "rtc-pl031",
                "pcie-mmio32",
                "ram",
                "pcie-ecam",
                "pcie-mmio64")) {
            assertTrue(d.contains(name), d);
        }
    }
}
