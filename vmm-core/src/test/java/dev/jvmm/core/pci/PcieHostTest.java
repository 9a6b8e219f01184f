package dev.jvmm.core.pci;

import static dev.jvmm.core.arch.aarch64.MemoryMap.MiB;
import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.core.acpi.Mcfg;
import dev.jvmm.core.arch.aarch64.MemoryMap;
import dev.jvmm.core.bus.Bus;
import dev.jvmm.pcie.spec.PciSpec;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** The machine's PCIe, end to end on a bare MMIO bus: placement, ECAM through the bus, backgrounds, MCFG. */
public class PcieHostTest {
    private static final MemoryMap MAP = MemoryMap.create(2, 256 * MiB, 40);

    private final PcieHost host = PcieHost.create(twoRootComplexes(), MAP);
    private final Bus bus = new Bus("mmio");

    /** The hierarchy of the end-to-end test: two root complexes, four root ports, a switch, two endpoints. */
    public static PcieConfig twoRootComplexes() {
        return new PcieConfig(
                List.of(new PcieConfig.RootComplexSpec("rc0", 0, 256), new PcieConfig.RootComplexSpec("rc1", 1, 16)),
                List.of(
                        new PcieConfig.RootPortSpec("rc0", "rp0", false),
                                new PcieConfig.RootPortSpec("rc0", "rp1", false),
                        new PcieConfig.RootPortSpec("rc1", "rp2", true),
                                new PcieConfig.RootPortSpec("rc1", "rp3", false)),
                List.of(new PcieConfig.SwitchSpec("rp1", "sw0", 3, false)),
                List.of(
                        new PcieConfig.EndpointSpec("sw0.dp1", "ep0", 2),
                        new PcieConfig.EndpointSpec("rp3", "ep1", 1, 0x1234, 0x5678, 0x058000, true)));
    }

    @Test
    void eachRootComplexGetsTheEcamOfItsSegment() {
        assertEquals(2, host.bridges().size());
        PcieHostBridge rc0 = host.bridges().get(0), rc1 = host.bridges().get(1);
        assertEquals(MAP.ecam(0), rc0.ecam(), "256 buses: the whole 256 MiB of segment 0");
        assertEquals(MAP.ecam(1).base(), rc1.ecam().base());
        assertEquals(16 * MiB, rc1.ecam().size(), "16 buses x 1 MiB");
        assertFalse(rc0.windows().mmio32().overlaps(rc1.windows().mmio32()));
    }

    @Test
    void theGuestEnumeratesTheHierarchyThroughTheBus() {
        host.attach(bus);
        List<String> seg0 = new GuestPci(bus, host.bridges().get(0))
                .enumerate().stream().map(Object::toString).toList();
        // Expected by hand: Linux-style depth-first numbering below rc0 (root ports 1b36:000c, switch ports
        // 104c:8232/8233 as QEMU's, bridges class 060400, test endpoint 1b36:0005 class ff0000).
        assertEquals(
                List.of(
                        "00:00.0 1b36:000c 060400 parent=",
                        "00:01.0 1b36:000c 060400 parent=",
                        "02:00.0 104c:8232 060400 parent=00:01.0",
                        "03:00.0 104c:8233 060400 parent=02:00.0",
                        "03:01.0 104c:8233 060400 parent=02:00.0",
                        "05:00.0 1b36:0005 ff0000 parent=03:01.0",
                        "05:00.1 1b36:0005 ff0000 parent=03:01.0",
                        "03:02.0 104c:8233 060400 parent=02:00.0"),
                seg0);
        List<String> seg1 = new GuestPci(bus, host.bridges().get(1))
                .enumerate().stream().map(Object::toString).toList();
        assertEquals(
                List.of(
                        "00:00.0 1b36:000c 060400 parent=",
                        "00:01.0 1b36:000c 060400 parent=",
                        "02:00.0 1234:5678 058000 parent=00:01.0"),
                seg1);
    }

    @Test
    void unassignedSpaceReadsAllOnes() {
        host.attach(bus);
        PcieHostBridge rc1 = host.bridges().get(1);
        // ECAM beyond rc1's 16 buses, an unused segment, the windows before any BAR is placed: all ones.
        for (long a : new long[] {
            rc1.ecam().end(),
            MAP.ecam(5).base() + 0x100,
            MemoryMap.PCIE_MMIO32.base(),
            rc1.windows().mmio64().base() + 8,
            MemoryMap.PCIE_PIO.base() + 0x20
        }) {
            assertEquals(OptionalLong.of(0xFFFF_FFFFL), bus.read(a, 4), "at 0x" + Long.toHexString(a));
        }
        assertTrue(bus.write(MemoryMap.PCIE_MMIO32.base(), 4, 0x1234), "writes are absorbed");
        assertEquals(0, bus.unhandledReads());
    }

    /** The bus's rule for an access a region holds only in part, at the edges of the ECAM windows. */
    @Test
    void anAccessStraddlingAnEcamWindowsEndReadsAllOnes() {
        host.attach(bus);
        PcieHostBridge rc0 = host.bridges().get(0), rc1 = host.bridges().get(1);
        assertEquals(rc0.ecam().end(), rc1.ecam().base(), "segment 1's ECAM follows segment 0's 256 buses");
        assertEquals(OptionalLong.of(0x000C_1B36L), bus.read(rc1.ecam().base(), 4), "rc1's 00:00.0, wholly inside");
        // From rc0's last bus into rc1's root port; from rc1's 16th bus into the unassigned rest of segment 1.
        assertEquals(OptionalLong.of(-1L), bus.read(rc1.ecam().base() - 4, 8));
        assertEquals(OptionalLong.of(0xFFFF_FFFFL), bus.read(rc1.ecam().base() - 2, 4));
        assertEquals(OptionalLong.of(-1L), bus.read(rc1.ecam().end() - 4, 8));
        assertTrue(bus.write(rc1.ecam().base() - 4, 8, 0), "dropped by the bus");
        assertTrue(bus.write(rc1.ecam().end() - 2, 4, 0), "dropped by the bus");
        assertEquals(3, bus.straddlingReads());
        assertEquals(2, bus.straddlingWrites());
        assertEquals(0, bus.unhandledReads() + bus.unhandledWrites());
        assertEquals(OptionalLong.of(0x000C_1B36L), bus.read(rc1.ecam().base(), 4), "rc1's port is unchanged");
    }

    /**
     * Review finding R4 end to end: the guest swaps the BARs of ep0's two functions through ECAM with decoding on;
     * the functions share their host bridge's BAR space, so the one refused in between is mapped after the swap.
     */
    @Test
    void functionsSwappingBarsThroughEcamStayReachable() {
        host.attach(bus);
        PcieHostBridge rc0 = host.bridges().get(0);
        GuestPci guest = new GuestPci(bus, rc0);
        assertTrue(guest.enumerate().stream().anyMatch(f -> f.bdf().equals("05:00.1")), "ep0 below sw0.dp1");
        long x = rc0.windows().mmio32().base(), y = x + 0x10_0000;
        guest.write(5, 0, 0, PciSpec.BAR0, 4, (int) x);
        guest.write(5, 0, 1, PciSpec.BAR0, 4, (int) y);
        guest.write(5, 0, 0, PciSpec.COMMAND, 2, PciSpec.COMMAND_MEMORY_SPACE);
        guest.write(5, 0, 1, PciSpec.COMMAND, 2, PciSpec.COMMAND_MEMORY_SPACE);
        assertTrue(bus.write(x, 4, 0xF0));
        assertTrue(bus.write(y, 4, 0xF1));

        guest.write(5, 0, 1, PciSpec.BAR0, 4, (int) x); // refused for now: 05:00.0 holds x
        assertEquals(OptionalLong.of(0xF0), bus.read(x, 4));
        guest.write(5, 0, 0, PciSpec.BAR0, 4, (int) y);
        assertEquals(OptionalLong.of(0xF1), bus.read(x, 4), "05:00.1 answers at x");
        assertEquals(OptionalLong.of(0xF0), bus.read(y, 4), "05:00.0 answers at y");
    }

    @Test
    void noRootComplexesAddNothing() {
        PcieHost none = PcieHost.create(PcieConfig.NONE, MAP);
        none.attach(bus);
        assertTrue(bus.regions().isEmpty());
        assertTrue(none.mcfg().allocations().isEmpty());
    }

    @Test
    void mcfgNamesTheSameEcamWindows() {
        assertEquals(
                List.of(
                        new Mcfg.Allocation(MAP.ecam(0).base(), 0, 0, 255),
                        new Mcfg.Allocation(MAP.ecam(1).base(), 1, 0, 15)),
                host.mcfg().allocations());
    }

    @Test
    void everyEndpointFunctionGetsABarMapper() {
        host.attach(bus);
        assertEquals(3, host.barMappers().size(), "ep0 has two functions, ep1 one");
    }

    @Test
    void msiStaysDisconnectedUntilTheSeamIsUsed() {
        List<Integer> segments = new java.util.ArrayList<>();
        host.connectMsi(b -> {
            segments.add(b.segment());
            return (address, data, rid) -> {};
        });
        assertEquals(List.of(0, 1), segments);
    }
}
