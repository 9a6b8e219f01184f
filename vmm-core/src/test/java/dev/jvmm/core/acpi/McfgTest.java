package dev.jvmm.core.acpi;

import static dev.jvmm.core.arch.aarch64.MemoryMap.MiB;
import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.core.arch.aarch64.MemoryMap;
import dev.jvmm.core.pci.PcieConfig;
import dev.jvmm.core.pci.PcieHost;
import java.util.List;
import org.junit.jupiter.api.Test;

/** MCFG checked by ACPICA's disassembler, not by reading our own bytes back. */
class McfgTest {
    private static final MemoryMap MAP = MemoryMap.create(1, 256 * MiB, 40);

    private static PcieHost host() {
        return PcieHost.create(
                new PcieConfig(
                        List.of(
                                new PcieConfig.RootComplexSpec("rc0", 0, 256),
                                new PcieConfig.RootComplexSpec("rc1", 3, 16)),
                        List.of(),
                        List.of(),
                        List.of()),
                MAP);
    }

    @Test
    void iaslReadsOneAllocationPerRootComplex() throws Exception {
        Iasl.Disassembly d = Iasl.disassemble(host().mcfg().toBytes(AcpiOem.JVMM));
        assertTrue(d.value("Signature").startsWith("\"MCFG\""), d.text());
        assertEquals("01", d.value("Revision"));
        assertEquals("%08X".formatted(36 + 8 + 2 * 16), d.value("Table Length"));
        assertFalse(d.text().contains("Incorrect checksum"), d.text());
        assertEquals("\"JVMM  \"", d.value("Oem ID"));
        assertEquals("\"JVMMVIRT\"", d.value("Oem Table ID"));
        assertEquals("\"JVMM\"", d.value("Asl Compiler ID"));
        // Base address of bus 0 of each segment: the ECAM the memory map reserves for that segment.
        assertEquals(
                List.of(
                        "%016X".formatted(MAP.ecam(0).base()),
                        "%016X".formatted(MAP.ecam(3).base())),
                d.values("Base Address"));
        assertEquals(List.of("0000", "0003"), d.values("Segment Group Number"));
        assertEquals(List.of("00", "00"), d.values("Start Bus Number"));
        assertEquals(List.of("FF", "0F"), d.values("End Bus Number"));
        // PCI Firmware 3.3 Table 4-3: allocations start at offset 44, 16 bytes each.
        assertEquals(
                List.of(0x2C, 0x3C),
                d.fields().stream()
                        .filter(f -> f.name().equals("Base Address"))
                        .map(Iasl.Field::offset)
                        .toList());
    }

    @Test
    void aCorruptedTableIsCaughtByTheOracle() throws Exception {
        // Shows the checksum assertion above can fail: flip one byte after the checksum was computed.
        byte[] t = host().mcfg().toBytes(AcpiOem.JVMM);
        assertEquals(0, AcpiTable.sum(t));
        t[44] ^= 0x10;
        assertTrue(Iasl.disassemble(t).text().contains("Incorrect checksum"));
    }

    @Test
    void anEmptyMcfgIsJustHeaderAndReserved() throws Exception {
        Iasl.Disassembly d = Iasl.disassemble(new Mcfg(List.of()).toBytes(AcpiOem.JVMM));
        assertEquals("0000002C", d.value("Table Length"));
        assertTrue(d.values("Base Address").isEmpty());
    }

    @Test
    void allocationsAreValidated() {
        assertThrows(
                IllegalArgumentException.class,
                () -> new Mcfg.Allocation(0x4010_0800L, 0, 0, 255),
                "not 1 MiB aligned");
        assertThrows(IllegalArgumentException.class, () -> new Mcfg.Allocation(0, 0x1_0000, 0, 255));
        assertThrows(IllegalArgumentException.class, () -> new Mcfg.Allocation(0, 0, 16, 15));
        assertThrows(IllegalArgumentException.class, () -> new AcpiOem("TOOLONG", "X", 0, "J", 0));
    }
}
