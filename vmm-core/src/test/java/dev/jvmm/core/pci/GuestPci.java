package dev.jvmm.core.pci;

import dev.jvmm.core.bus.Bus;
import dev.jvmm.pcie.PciFunction;
import dev.jvmm.pcie.config.BarDefinition;
import dev.jvmm.pcie.config.BarListener;
import dev.jvmm.pcie.msi.MsiTarget;
import dev.jvmm.pcie.spec.PciSpec;
import dev.jvmm.pcie.util.Sizes;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Plays the guest's PCI core against the MMIO bus: configuration accesses through a host bridge's ECAM window, a
 * depth-first enumeration that numbers buses the way Linux does when it assigns them itself (each bridge gets the
 * next free bus as secondary, subordinate = the last bus found below it), and BAR assignment in the host bridge's
 * windows. Never touches the PCIe model except through the bus, so what it finds is what a guest would.
 */
public final class GuestPci {
    /** One function found: where, what, and the bridge above it ("" on the root bus). */
    public record Found(
            int bus,
            int device,
            int function,
            int vendorId,
            int deviceId,
            int classCode,
            int headerType,
            String parent) {
        public String bdf() {
            return "%02x:%02x.%x".formatted(bus, device, function);
        }

        /** A bridge (Type 1 header) rather than an endpoint. */
        public boolean isBridge() {
            return (headerType & 0x7F) == PciSpec.HEADER_TYPE_1;
        }

        @Override
        public String toString() {
            return "%s %04x:%04x %06x parent=%s".formatted(bdf(), vendorId, deviceId, classCode, parent);
        }
    }

    private final Bus bus;
    private final PcieHostBridge bridge;

    public GuestPci(Bus bus, PcieHostBridge bridge) {
        this.bus = bus;
        this.bridge = bridge;
    }

    public PcieHostBridge bridge() {
        return bridge;
    }

    public long address(int b, int d, int f, int reg) {
        return bridge.ecam().base()
                + ((long) (b - bridge.rootComplex().firstBus()) << 20 | (long) d << 15 | (long) f << 12 | reg);
    }

    public int read(int b, int d, int f, int reg, int size) {
        return (int) bus.read(address(b, d, f, reg), size).orElseThrow(() -> new AssertionError("ECAM read unhandled"));
    }

    public void write(int b, int d, int f, int reg, int size, int value) {
        if (!bus.write(address(b, d, f, reg), size, value)) throw new AssertionError("ECAM write unhandled");
    }

    /** Enumerates from the root bus, assigning bus numbers; returns every function in discovery order. */
    public List<Found> enumerate() {
        List<Found> found = new ArrayList<>();
        int root = bridge.rootComplex().firstBus();
        scan(root, root, "", found);
        return found;
    }

    /** Scans bus {@code b}; {@code max} is the highest bus number used so far; returns the new highest. */
    private int scan(int b, int max, String parent, List<Found> found) {
        for (int d = 0; d < 32; d++) {
            int id0 = read(b, d, 0, 0x00, 4);
            if ((id0 & 0xFFFF) == 0xFFFF) continue;
            boolean multi = (read(b, d, 0, 0x0E, 1) & 0x80) != 0;
            for (int f = 0; f < (multi ? 8 : 1); f++) {
                int id = read(b, d, f, 0x00, 4);
                if ((id & 0xFFFF) == 0xFFFF) continue;
                int classCode = read(b, d, f, 0x08, 4) >>> 8;
                Found fn = new Found(b, d, f, id & 0xFFFF, id >>> 16, classCode, read(b, d, f, 0x0E, 1), parent);
                found.add(fn);
                // A bridge found with no bus number left stays unconfigured, as Linux leaves it ("no bus number
                // available"); it also bounds the scan when other threads renumber buses under it.
                if (fn.isBridge() && max < bridge.rootComplex().lastBus()) {
                    int secondary = ++max;
                    // Primary, secondary, subordinate = 0xff while scanning below (PCIe Base 6.0 §7.5.1.3.2-4).
                    write(b, d, f, 0x18, 4, b | secondary << 8 | 0xFF << 16);
                    max = scan(secondary, max, fn.bdf(), found);
                    write(b, d, f, 0x1A, 1, max);
                }
            }
        }
        return max;
    }

    /**
     * Sizes every BAR of the endpoints in {@code found} (all ones, read back, PCIe Base 6.0 §7.5.1.2.1) and places
     * them from the start of the host bridge's windows, each at its natural alignment: 64-bit BARs in the 64-bit
     * window, 32-bit ones in the 32-bit window, I/O BARs in the I/O window. Decoding is off on every endpoint while
     * the BARs move (as Linux does), so no BAR is ever refused for overlapping an old one; then memory and I/O
     * decoding and bus mastering are turned on. The same functions always get the same addresses.
     *
     * @return a view of each endpoint as the guest reaches it, in the order of {@code found}
     */
    public List<Assigned> assignBars(List<Found> found) {
        List<Found> endpoints = found.stream().filter(f -> !f.isBridge()).toList();
        for (Found f : endpoints) write(f.bus(), f.device(), f.function(), PciSpec.COMMAND, 2, 0);
        PcieWindows w = bridge.windows();
        long[] next = {w.mmio32().base(), w.mmio64().base(), w.ioPciBase()};
        List<Assigned> views = new ArrayList<>();
        for (Found f : endpoints) {
            long[] cpu = new long[PciSpec.BAR_COUNT_TYPE0];
            for (int bar = 0; bar < PciSpec.BAR_COUNT_TYPE0; bar++) {
                int reg = PciSpec.BAR0 + 4 * bar;
                write(f.bus(), f.device(), f.function(), reg, 4, -1);
                long low = Integer.toUnsignedLong(read(f.bus(), f.device(), f.function(), reg, 4));
                if (low == 0) continue;
                boolean io = (low & PciSpec.BAR_IO_SPACE) != 0;
                boolean wide = !io && (low & 0x6) == PciSpec.BAR_MEMORY_64;
                long mask = low & ~(long) (io ? PciSpec.BAR_IO_FLAGS_MASK : PciSpec.BAR_MEMORY_FLAGS_MASK);
                if (wide) {
                    write(f.bus(), f.device(), f.function(), reg + 4, 4, -1);
                    mask |= Integer.toUnsignedLong(read(f.bus(), f.device(), f.function(), reg + 4, 4)) << 32;
                } else {
                    mask |= 0xFFFF_FFFF_0000_0000L;
                }
                long size = -mask;
                int window = io ? 2 : wide ? 1 : 0;
                long at = (next[window] + size - 1) & -size;
                next[window] = at + size;
                write(f.bus(), f.device(), f.function(), reg, 4, (int) at | (int) (low & (io ? 0x3 : 0xF)));
                if (wide) write(f.bus(), f.device(), f.function(), reg + 4, 4, (int) (at >>> 32));
                cpu[bar] = io ? w.io().base() + (at - w.ioPciBase()) : at;
                if (wide) bar++;
            }
            views.add(new Assigned(f, cpu));
        }
        for (Found f : endpoints) {
            write(
                    f.bus(),
                    f.device(),
                    f.function(),
                    PciSpec.COMMAND,
                    2,
                    PciSpec.COMMAND_IO_SPACE | PciSpec.COMMAND_MEMORY_SPACE | PciSpec.COMMAND_BUS_MASTER);
        }
        return views;
    }

    /**
     * A function as its driver reaches it: configuration space through ECAM at the address the enumeration found,
     * BARs at the CPU addresses {@link #assignBars} gave them, everything through the bus. Moving a BAR behind the
     * driver's back is the guest's business: the driver keeps using the old address, as a real one would. Reads the
     * bus does not handle return 0, as they do for a vCPU; nothing throws.
     */
    public final class Assigned implements PciFunction {
        private final Found found;
        private final long[] bars;

        private Assigned(Found found, long[] bars) {
            this.found = found;
            this.bars = bars;
        }

        public Found found() {
            return found;
        }

        /** The CPU address BAR {@code bar} was given, 0 for a BAR the function does not implement. */
        public long bar(int bar) {
            return bars[bar];
        }

        private long config(int offset) {
            return address(found.bus(), found.device(), found.function(), offset);
        }

        @Override
        public int configRead(int offset, int size) {
            return (int) bus.read(config(offset), size).orElse(Sizes.sizeMask(size));
        }

        @Override
        public void configWrite(int offset, int size, int value) {
            bus.write(config(offset), size, value);
        }

        @Override
        public long barRead(int bar, long offset, int size) {
            return bar < 0 || bar >= bars.length || bars[bar] == 0
                    ? 0
                    : bus.read(bars[bar] + offset, size).orElse(0);
        }

        @Override
        public void barWrite(int bar, long offset, int size, long value) {
            if (bar >= 0 && bar < bars.length && bars[bar] != 0) bus.write(bars[bar] + offset, size, value);
        }

        // A guest reaches a function through configuration and memory accesses only.
        @Override
        public Optional<BarDefinition> barDefinition(int bar) {
            throw new UnsupportedOperationException("not a guest access");
        }

        @Override
        public void setBarListener(BarListener listener) {
            throw new UnsupportedOperationException("not a guest access");
        }

        @Override
        public MsiTarget msiTarget() {
            throw new UnsupportedOperationException("not a guest access");
        }

        @Override
        public void reset() {
            throw new UnsupportedOperationException("not a guest access");
        }

        @Override
        public String toString() {
            return bridge.name() + " " + found;
        }
    }
}
