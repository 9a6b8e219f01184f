package dev.jvmm.core.pci;

import dev.jvmm.core.bus.Bus;

import java.util.ArrayList;
import java.util.List;

/**
 * Plays the guest's PCI core against the MMIO bus: configuration accesses through a host bridge's ECAM window and a
 * depth-first enumeration that numbers buses the way Linux does when it assigns them itself (each bridge gets the
 * next free bus as secondary, subordinate = the last bus found below it).
 */
final class GuestPci {
    /** One function found: where, what, and the bridge above it ("" on the root bus). */
    record Found(int bus, int device, int function, int vendorId, int deviceId, int classCode, String parent) {
        String bdf() { return "%02x:%02x.%x".formatted(bus, device, function); }

        @Override
        public String toString() {
            return "%s %04x:%04x %06x parent=%s".formatted(bdf(), vendorId, deviceId, classCode, parent);
        }
    }

    private final Bus bus;
    private final PcieHostBridge bridge;

    GuestPci(Bus bus, PcieHostBridge bridge) {
        this.bus = bus;
        this.bridge = bridge;
    }

    long address(int b, int d, int f, int reg) {
        return bridge.ecam().base() + ((long) (b - bridge.rootComplex().firstBus()) << 20 | (long) d << 15 | (long) f << 12 | reg);
    }

    int read(int b, int d, int f, int reg, int size) {
        return (int) bus.read(address(b, d, f, reg), size).orElseThrow(() -> new AssertionError("ECAM read unhandled"));
    }

    void write(int b, int d, int f, int reg, int size, int value) {
        if (!bus.write(address(b, d, f, reg), size, value)) throw new AssertionError("ECAM write unhandled");
    }

    /** Enumerates from the root bus, assigning bus numbers; returns every function in discovery order. */
    List<Found> enumerate() {
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
                Found fn = new Found(b, d, f, id & 0xFFFF, id >>> 16, classCode, parent);
                found.add(fn);
                if ((read(b, d, f, 0x0E, 1) & 0x7F) == 1) {
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
}
