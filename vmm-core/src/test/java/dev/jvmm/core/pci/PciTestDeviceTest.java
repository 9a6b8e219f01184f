package dev.jvmm.core.pci;

import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.pcie.EndpointFunction;
import dev.jvmm.pcie.config.BarDefinition;
import dev.jvmm.pcie.spec.PciSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PciTestDeviceTest {
    @Test
    void identityIsQemusPciTestdev() {
        EndpointFunction f = PciTestDevice.function();
        assertEquals(0x1B36, f.configRead(PciSpec.VENDOR_ID, 2));
        assertEquals(0x0005, f.configRead(PciSpec.DEVICE_ID, 2));
        assertEquals(0xFF0000, f.configRead(0x08, 4) >>> 8);
        assertEquals(0, f.configRead(PciSpec.INTERRUPT_PIN, 1), "no INTx");
    }

    @Test
    void barZeroSizesAsFourKibOf32BitMemory() {
        EndpointFunction f = PciTestDevice.function();
        f.configWrite(PciSpec.BAR0, 4, -1);
        // Sizing (PCIe Base 6.0 §7.5.1.2.1): address bits below 4 KiB read 0, type bits 00b = 32-bit, not prefetchable.
        assertEquals(0xFFFF_F000, f.configRead(PciSpec.BAR0, 4));
        assertEquals(BarDefinition.memory32(4096), f.barDefinition(0).orElseThrow());
    }

    @Test
    void bar64IsA64BitPrefetchableBar() {
        EndpointFunction f = PciTestDevice.function(0x1234, 0x5678, 0x058000, true);
        f.configWrite(PciSpec.BAR0, 4, -1);
        f.configWrite(PciSpec.BAR0 + 4, 4, -1);
        assertEquals(0xFFFF_F00C, f.configRead(PciSpec.BAR0, 4), "64-bit (10b) and prefetchable (bit 3)");
        assertEquals(0xFFFF_FFFF, f.configRead(PciSpec.BAR0 + 4, 4));
        assertEquals(0x058000, f.configRead(0x08, 4) >>> 8);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 4, 8})
    void scratchRegistersReadBackLittleEndian(int size) {
        EndpointFunction f = PciTestDevice.function();
        long value = 0x0123_4567_89AB_CDEFL & (size == 8 ? -1L : (1L << (8 * size)) - 1);
        f.barWrite(0, 0x40, size, value);
        assertEquals(value, f.barRead(0, 0x40, size));
        assertEquals(0xEF, f.barRead(0, 0x40, 1), "lowest byte first");
        f.reset();
        assertEquals(0, f.barRead(0, 0x40, size), "reset clears the registers");
    }

    @Test
    void accessesOutsideTheBarAreIgnored() {
        EndpointFunction f = PciTestDevice.function();
        f.barWrite(0, 4092, 8, -1L); // runs off the end: dropped by the function
        assertEquals(0, f.barRead(0, 4088, 4));
        assertEquals(0xFFFF_FFFFL, f.barRead(0, 4096, 4), "beyond the BAR: all ones");
        assertEquals(0xFFFF_FFFFL, f.barRead(1, 0, 4), "no BAR 1");
    }
}
