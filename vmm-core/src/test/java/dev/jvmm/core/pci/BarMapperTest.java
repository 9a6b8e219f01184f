package dev.jvmm.core.pci;

import dev.jvmm.core.arch.aarch64.MemoryMap;
import dev.jvmm.core.bus.BackgroundRegion;
import dev.jvmm.core.bus.Bus;
import dev.jvmm.core.bus.AddressRange;
import dev.jvmm.pcie.EndpointFunction;
import dev.jvmm.pcie.config.BarDefinition;
import dev.jvmm.pcie.spec.PciSpec;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

import static dev.jvmm.core.arch.aarch64.MemoryMap.MiB;
import static org.junit.jupiter.api.Assertions.*;

/** BARs follow the guest's configuration writes onto the bus, and only inside the host bridge's windows. */
class BarMapperTest {
    private static final MemoryMap MAP = MemoryMap.create(1, 256 * MiB, 40);
    private static final long ALL_ONES = 0xFFFF_FFFFL;

    private Bus bus;
    private List<PcieWindows> windows;

    @BeforeEach
    void machine() {
        bus = new Bus("mmio");
        BackgroundRegion.map(bus, "mmio32", MemoryMap.PCIE_MMIO32);
        BackgroundRegion.map(bus, "mmio64", MAP.pcieMmio64());
        BackgroundRegion.map(bus, "pio", MemoryMap.PCIE_PIO);
        windows = PcieWindows.allocate(MAP, 2);
    }

    private BarMapper mapper(EndpointFunction f, PcieWindows w) {
        return new BarMapper(bus, "rc/ep.0", f, w).listen();
    }

    private static void program32(EndpointFunction f, long address) {
        f.configWrite(PciSpec.BAR0, 4, (int) address);
    }

    private static void enableMemory(EndpointFunction f, boolean on) {
        f.configWrite(PciSpec.COMMAND, 2, on ? PciSpec.COMMAND_MEMORY_SPACE : 0);
    }

    @Test
    void aBarAppearsWhenDecodingIsEnabledAndServesTheFunction() {
        EndpointFunction f = PciTestDevice.function();
        BarMapper m = mapper(f, windows.get(0));
        long at = windows.get(0).mmio32().base() + 0x10_0000;
        program32(f, at);
        assertEquals(Optional.empty(), m.mapped(0), "memory decoding is still off");
        assertEquals(OptionalLong.of(ALL_ONES), bus.read(at, 4));

        enableMemory(f, true);
        assertEquals(Optional.of(new AddressRange(at, 4096)), m.mapped(0));
        assertEquals(OptionalLong.of(0), bus.read(at + 0x10, 4), "scratch registers start at 0");
        assertTrue(bus.write(at + 0x10, 4, 0xCAFE_F00DL));
        assertEquals(OptionalLong.of(0xCAFE_F00DL), bus.read(at + 0x10, 4));
        assertEquals(0xCAFE_F00DL, f.barRead(0, 0x10, 4), "the write reached the function");

        enableMemory(f, false);
        assertEquals(Optional.empty(), m.mapped(0));
        assertEquals(OptionalLong.of(ALL_ONES), bus.read(at + 0x10, 4), "the background shows through again");
    }

    @Test
    void movingABarMovesTheRegion() {
        EndpointFunction f = PciTestDevice.function();
        BarMapper m = mapper(f, windows.get(0));
        long first = windows.get(0).mmio32().base(), second = first + 0x20_0000;
        program32(f, first);
        enableMemory(f, true);
        f.barWrite(0, 0, 4, 0x1111_2222L);
        program32(f, second);
        assertEquals(Optional.of(new AddressRange(second, 4096)), m.mapped(0));
        assertEquals(OptionalLong.of(ALL_ONES), bus.read(first, 4));
        assertEquals(OptionalLong.of(0x1111_2222L), bus.read(second, 4));
        assertEquals(4, bus.regions().size(), "three backgrounds and the BAR: the old region is gone");
    }

    @Test
    void a64BitBarIsPlacedInThe64BitWindow() {
        EndpointFunction f = PciTestDevice.function(PciTestDevice.VENDOR_ID, PciTestDevice.DEVICE_ID, PciTestDevice.CLASS_CODE, true);
        BarMapper m = mapper(f, windows.get(1));
        long at = windows.get(1).mmio64().base() + 0x4000_0000L;
        f.configWrite(PciSpec.BAR0, 4, (int) at);
        f.configWrite(PciSpec.BAR0 + 4, 4, (int) (at >>> 32));
        enableMemory(f, true);
        assertEquals(Optional.of(new AddressRange(at, 4096)), m.mapped(0));
        assertTrue(bus.write(at + 8, 8, 0x0102_0304_0506_0708L));
        assertEquals(OptionalLong.of(0x0102_0304_0506_0708L), bus.read(at + 8, 8));
    }

    @Test
    void barsOutsideTheHostBridgesWindowsAreNotMapped() {
        EndpointFunction f = PciTestDevice.function();
        BarMapper m = mapper(f, windows.get(0));
        enableMemory(f, true);
        // The other bridge's window, and the UART's page: a host bridge forwards only its own windows.
        for (long at : new long[] {windows.get(1).mmio32().base(), MemoryMap.UART.base(), 0}) {
            program32(f, at);
            assertEquals(Optional.empty(), m.mapped(0), "at 0x" + Long.toHexString(at));
        }
        // Four refusals: decoding was enabled while the BAR still held its reset address 0, then the three above.
        assertEquals(4, m.refusedCount());
        program32(f, windows.get(0).mmio32().base());
        assertTrue(m.mapped(0).isPresent(), "back inside: mapped again");
    }

    @Test
    void overlappingBarsDoNotThrowIntoTheGuest() {
        EndpointFunction a = PciTestDevice.function(), b = PciTestDevice.function();
        BarMapper ma = mapper(a, windows.get(0)), mb = mapper(b, windows.get(0));
        long at = windows.get(0).mmio32().base();
        program32(a, at);
        program32(b, at);
        enableMemory(a, true);
        assertDoesNotThrow(() -> enableMemory(b, true));
        assertTrue(ma.mapped(0).isPresent());
        assertEquals(Optional.empty(), mb.mapped(0), "the second BAR at the same address is refused");
        assertEquals(1, mb.refusedCount());
        // Once the first moves away, the second is mapped the next time the guest touches its decoding.
        program32(a, at + 0x10_0000);
        assertEquals(Optional.empty(), mb.mapped(0), "a refused BAR is not retried behind the guest's back");
        enableMemory(b, false);
        enableMemory(b, true);
        assertEquals(Optional.of(new AddressRange(at, 4096)), mb.mapped(0));
    }

    /** The bus's rule for an access a region holds only in part, at a BAR's end. */
    @Test
    void anAccessStraddlingABarsEndReadsAllOnesAndItsWriteIsDropped() {
        EndpointFunction f = PciTestDevice.function(), g = PciTestDevice.function();
        mapper(f, windows.get(0));
        mapper(g, windows.get(0));
        long at = windows.get(0).mmio32().base(), last = at + PciTestDevice.BAR_SIZE - 4;
        program32(f, at);
        enableMemory(f, true);
        assertTrue(bus.write(last, 4, 0x1234_5678L));
        assertEquals(OptionalLong.of(0x1234_5678L), bus.read(last, 4), "the BAR's last 4 bytes, wholly inside");

        // An 8-byte access at the BAR's last 4 bytes runs into the window's background.
        assertEquals(OptionalLong.of(-1L), bus.read(last, 8), "all ones for the whole access");
        assertTrue(bus.write(last, 8, 0xAAAA_BBBB_CCCC_DDDDL));
        assertEquals(0x1234_5678L, f.barRead(0, PciTestDevice.BAR_SIZE - 4, 4), "the BAR never saw the write");

        // Into the next function's BAR, right behind it.
        program32(g, at + PciTestDevice.BAR_SIZE);
        enableMemory(g, true);
        g.barWrite(0, 0, 4, 0x9ABC_DEF0L);
        assertEquals(OptionalLong.of(-1L), bus.read(last, 8), "from one BAR into the next");
        assertTrue(bus.write(last + 2, 4, 0));
        assertEquals(0x1234_5678L, f.barRead(0, PciTestDevice.BAR_SIZE - 4, 4));
        assertEquals(0x9ABC_DEF0L, g.barRead(0, 0, 4));
        assertEquals(2, bus.straddlingReads());
        assertEquals(2, bus.straddlingWrites());
    }

    @Test
    void ioBarsAreMappedInTheMemoryMappedIoWindow() {
        EndpointFunction f = EndpointFunction.builder(0x1B36, 0x0005, 0xFF0000).bar(0, BarDefinition.io(256)).build();
        PcieWindows w = windows.get(1);
        BarMapper m = mapper(f, w);
        long pci = w.ioPciBase() + 0x200;
        f.configWrite(PciSpec.BAR0, 4, (int) pci | PciSpec.BAR_IO_SPACE);
        f.configWrite(PciSpec.COMMAND, 2, PciSpec.COMMAND_IO_SPACE);
        assertEquals(Optional.of(new AddressRange(w.io().base() + 0x200, 256)), m.mapped(0));
    }
}
