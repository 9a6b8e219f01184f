package dev.jvmm.core.arch.aarch64;

import static dev.jvmm.core.arch.aarch64.MemoryMap.GiB;
import static dev.jvmm.core.arch.aarch64.MemoryMap.MiB;
import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.core.arch.aarch64.Aarch64DeviceTree.MsiController;
import dev.jvmm.core.bus.AddressRange;
import dev.jvmm.core.fdt.Dtc;
import dev.jvmm.core.fdt.Dts;
import dev.jvmm.core.pci.PcieConfig;
import dev.jvmm.core.pci.PcieHost;
import dev.jvmm.core.pci.PcieHostBridge;
import dev.jvmm.core.pci.PcieHostTest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The host bridge nodes, decompiled with dtc (every check on) and read back. */
class PcieDeviceTreeTest {
    private static final MemoryMap MAP = MemoryMap.create(2, 256 * MiB, 40);

    private static Dts decompile(PcieHost host, MsiController msi) throws Exception {
        byte[] dtb = Aarch64DeviceTree.build(
                new Aarch64DeviceTree.Config(MAP, "console=ttyAMA0", null, msi, true, PcieDeviceTree.of(host, msi)));
        Dtc.Result r = Dtc.decompile(dtb);
        assertEquals("", r.stderr(), "dtc warnings:\n" + r.stderr() + "\n" + r.stdout());
        return Dts.parse(r.stdout());
    }

    /** One decoded {@code ranges} entry. */
    record Range(long space, long pci, long cpu, long size) {
        AddressRange cpuRange() {
            return new AddressRange(cpu, size);
        }
    }

    static List<Range> ranges(String value) {
        long[] c = Dts.cells(value);
        assertEquals(0, c.length % 7, "3 + 2 + 2 cells per entry");
        List<Range> out = new ArrayList<>();
        for (int i = 0; i < c.length; i += 7) {
            out.add(new Range(c[i], c[i + 1] << 32 | c[i + 2], c[i + 3] << 32 | c[i + 4], c[i + 5] << 32 | c[i + 6]));
        }
        return out;
    }

    private static final String RC0 = "/pcie@100000000", RC1 = "/pcie@110000000";

    @Test
    void noRootComplexesGiveNoNodes() {
        assertTrue(PcieDeviceTree.of(PcieHost.create(PcieConfig.NONE, MAP), MsiController.ITS)
                .isEmpty());
    }

    @Test
    void oneEcamGenericNodePerRootComplex() throws Exception {
        // 256 MiB of RAM from 1 GiB: the high area (ECAM) starts at 4 GiB; segment 1's ECAM 256 MiB later.
        assertEquals(4 * GiB, MAP.ecam(0).base());
        Dts dts = decompile(PcieHost.create(PcieHostTest.twoRootComplexes(), MAP), MsiController.ITS);
        for (String node : List.of(RC0, RC1)) {
            assertEquals("\"pci-host-ecam-generic\"", dts.get(node, "compatible"));
            assertEquals("\"pci\"", dts.get(node, "device_type"));
            assertEquals("<0x03>", dts.get(node, "#address-cells"));
            assertEquals("<0x02>", dts.get(node, "#size-cells"));
            assertEquals("", dts.get(node, "dma-coherent"));
        }
        assertArrayEquals(new long[] {0x1, 0, 0, 0x1000_0000L}, Dts.cells(dts.get(RC0, "reg")), "256 buses");
        assertArrayEquals(new long[] {0x1, 0x1000_0000L, 0, 0x0100_0000L}, Dts.cells(dts.get(RC1, "reg")), "16 buses");
        assertArrayEquals(new long[] {0, 0xFF}, Dts.cells(dts.get(RC0, "bus-range")));
        assertArrayEquals(new long[] {0, 0x0F}, Dts.cells(dts.get(RC1, "bus-range")));
        assertEquals("<0x00>", dts.get(RC0, "linux,pci-domain"));
        assertEquals("<0x01>", dts.get(RC1, "linux,pci-domain"));
    }

    @Test
    void rangesGiveEachBridgeItsOwnIo32And64BitWindows() throws Exception {
        Dts dts = decompile(PcieHost.create(PcieHostTest.twoRootComplexes(), MAP), MsiController.ITS);
        List<Range> all = new ArrayList<>();
        for (String node : List.of(RC0, RC1)) {
            List<Range> r = ranges(dts.get(node, "ranges"));
            // phys.hi space codes (IEEE 1275 PCI binding): I/O, 32-bit memory, 64-bit memory.
            assertEquals(
                    List.of(0x0100_0000L, 0x0200_0000L, 0x0300_0000L),
                    r.stream().map(Range::space).toList());
            Range io = r.get(0), m32 = r.get(1), m64 = r.get(2);
            assertTrue(MemoryMap.PCIE_PIO.contains(io.cpuRange()), io.toString());
            assertEquals(io.cpu() - MemoryMap.PCIE_PIO.base(), io.pci(), "PCI I/O address = offset in the I/O window");
            assertTrue(MemoryMap.PCIE_MMIO32.contains(m32.cpuRange()), m32.toString());
            assertEquals(m32.cpu(), m32.pci(), "memory is identity-mapped");
            assertTrue(m32.cpu() + m32.size() <= 1L << 32, "the 32-bit window lies below 4 GiB");
            assertTrue(MAP.pcieMmio64().contains(m64.cpuRange()), m64.toString());
            assertEquals(m64.cpu(), m64.pci());
            all.addAll(r);
        }
        for (int i = 0; i < all.size(); i++) {
            for (int j = i + 1; j < all.size(); j++) {
                assertFalse(all.get(i).cpuRange().overlaps(all.get(j).cpuRange()), all.get(i) + " / " + all.get(j));
            }
        }
    }

    @Test
    void withAnItsOnlySegmentZeroGetsAnMsiMap() throws Exception {
        Dts dts = decompile(PcieHost.create(PcieHostTest.twoRootComplexes(), MAP), MsiController.ITS);
        String its = dts.get("/intc@8000000/its@8080000", "phandle");
        long itsPhandle = Dts.cells(its)[0];
        // RID 0..0xffff -> devid 0..0xffff: devid = (0 << 16) | RID, what jvmm passes with KVM_MSI_VALID_DEVID.
        assertArrayEquals(new long[] {0, itsPhandle, 0, 0x1_0000}, Dts.cells(dts.get(RC0, "msi-map")));
        assertFalse(dts.node(RC0).containsKey("msi-parent"));
        // Segment 1's devids (1 << 16 | RID) do not fit KVM's 16-bit vITS: no MSI description rather than a wrong one.
        assertFalse(dts.node(RC1).containsKey("msi-map"), dts.node(RC1).toString());
        assertFalse(dts.node(RC1).containsKey("msi-parent"));
    }

    @Test
    void withGicv2mEverySegmentGetsMsiParent() throws Exception {
        Dts dts = decompile(PcieHost.create(PcieHostTest.twoRootComplexes(), MAP), MsiController.GICV2M);
        String v2m = dts.get("/intc@8000000/v2m@8020000", "phandle");
        assertEquals(v2m, dts.get(RC0, "msi-parent"));
        assertEquals(v2m, dts.get(RC1, "msi-parent"));
        assertFalse(dts.node(RC0).containsKey("msi-map"));
    }

    @Test
    void noMsiControllerNoMsiProperties() throws Exception {
        Dts dts = decompile(PcieHost.create(PcieHostTest.twoRootComplexes(), MAP), MsiController.NONE);
        for (String node : List.of(RC0, RC1)) {
            assertFalse(dts.node(node).containsKey("msi-map"));
            assertFalse(dts.node(node).containsKey("msi-parent"));
        }
    }

    @Test
    void theTreeMatchesWhatTheBusDecodes() throws Exception {
        PcieHost host = PcieHost.create(PcieHostTest.twoRootComplexes(), MAP);
        Dts dts = decompile(host, MsiController.ITS);
        for (PcieHostBridge b : host.bridges()) {
            String node = "/" + PcieDeviceTree.nodeName(b);
            long[] reg = Dts.cells(dts.get(node, "reg"));
            assertEquals(b.ecam(), new AddressRange(reg[0] << 32 | reg[1], reg[2] << 32 | reg[3]));
            List<Range> r = ranges(dts.get(node, "ranges"));
            assertEquals(
                    List.of(b.windows().io(), b.windows().mmio32(), b.windows().mmio64()),
                    r.stream().map(Range::cpuRange).toList());
        }
        assertEquals(
                2,
                Arrays.stream(dts.nodes().keySet().toArray(String[]::new))
                        .filter(p -> p.startsWith("/pcie@"))
                        .count());
    }
}
