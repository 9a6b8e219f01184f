package dev.jvmm.core.pci;

import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.core.bus.AddressRange;
import dev.jvmm.core.bus.Bus;
import dev.jvmm.pcie.PciFunction;
import dev.jvmm.pcie.RootComplex;
import dev.jvmm.pcie.Topology;
import dev.jvmm.pcie.config.BarDefinition;
import dev.jvmm.pcie.config.BarListener;
import dev.jvmm.pcie.msi.MsiTarget;
import dev.jvmm.pcie.util.Sizes;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class EcamRegionTest {
    /** A broken device model: every configuration access throws. */
    static final class ThrowingFunction implements PciFunction {
        @Override
        public int configRead(int offset, int size) {
            throw new IllegalStateException("boom at " + offset);
        }

        @Override
        public void configWrite(int offset, int size, int value) {
            throw new IllegalStateException("boom");
        }

        @Override
        public Optional<BarDefinition> barDefinition(int bar) {
            return Optional.empty();
        }

        @Override
        public long barRead(int bar, long offset, int size) {
            throw new IllegalStateException("boom");
        }

        @Override
        public void barWrite(int bar, long offset, int size, long value) {
            throw new IllegalStateException("boom");
        }

        @Override
        public void setBarListener(BarListener listener) {}

        @Override
        public MsiTarget msiTarget() {
            return new MsiTarget();
        }

        @Override
        public void reset() {}
    }

    private static RootComplex rootComplex(PciFunction endpointFunction) throws Exception {
        return Topology.builder()
                .rootComplex("rc", 0, 4)
                .rootPort("rc", "rp", false)
                .endpoint("rp", "ep", endpointFunction)
                .build()
                .rootComplexes()
                .getFirst();
    }

    private static long ecam(int bus, int dev, int fn, int reg) {
        return (long) bus << 20 | dev << 15 | fn << 12 | reg;
    }

    @Test
    void decodesBusDeviceFunctionAndRegister() throws Exception {
        EcamRegion ecam = new EcamRegion(rootComplex(PciTestDevice.function()));
        assertEquals(0x000C_1B36L, ecam.read(ecam(0, 0, 0, 0), 4), "root port at 00:00.0");
        assertEquals(0xFFFF_FFFFL, ecam.read(ecam(0, 1, 0, 0), 4), "nothing at 00:01.0");
        ecam.write(ecam(0, 0, 0, 0x18), 4, 0x00_01_01_00); // primary 0, secondary 1, subordinate 1
        assertEquals(0x0005_1B36L, ecam.read(ecam(1, 0, 0, 0), 4), "the test endpoint below the port");
        assertEquals(0x1B36L, ecam.read(ecam(1, 0, 0, 0), 2));
        assertEquals(0xFF_0000L, ecam.read(ecam(1, 0, 0, 8), 4) >>> 8, "class code");
        assertEquals(0, ecam.faults());
    }

    @Test
    void aThrowingFunctionReadsAllOnesAndNeverThrows() throws Exception {
        EcamRegion ecam = new EcamRegion(rootComplex(new ThrowingFunction()));
        ecam.write(ecam(0, 0, 0, 0x18), 4, 0x00_01_01_00);
        assertEquals(0xFFFF_FFFFL, ecam.read(ecam(1, 0, 0, 0), 4));
        assertEquals(0xFFFFL, ecam.read(ecam(1, 0, 0, 2), 2));
        assertDoesNotThrow(() -> ecam.write(ecam(1, 0, 0, 4), 2, 0x6));
        assertEquals(3, ecam.faults(), "each fault counted");
        // The rest of the hierarchy still answers.
        assertEquals(0x000C_1B36L, ecam.read(ecam(0, 0, 0, 0), 4));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 4, 8})
    void onTheBusEveryAccessSizeCompletes(int size) throws Exception {
        Bus bus = new Bus("mmio");
        bus.register(
                "ecam",
                new AddressRange(0x4000_0000L, 4L << 20),
                Bus.PRIORITY_DEVICE,
                new EcamRegion(rootComplex(new ThrowingFunction())));
        assertTrue(bus.write(0x4000_0000L + ecam(0, 0, 0, 0x18), 4, 0x00_01_01_00));
        // ECAM turns 1-, 2- and 4-byte accesses into requests; an 8-byte one is not a configuration request and
        // completes as all ones (PCIe Base 6.0 §7.2.2), like the faulting function below the port.
        assertEquals(OptionalLong.of(Sizes.sizeMask(size)), bus.read(0x4000_0000L + ecam(1, 0, 0, 0), size));
        assertEquals(0, bus.deviceFaults(), "the adapter caught the exception, not the bus");
    }
}
