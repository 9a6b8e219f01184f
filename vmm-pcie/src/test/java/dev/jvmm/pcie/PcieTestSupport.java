package dev.jvmm.pcie;

import dev.jvmm.pcie.config.BarDefinition;
import dev.jvmm.pcie.msi.MsiSink;
import dev.jvmm.pcie.msi.RequesterId;
import java.util.ArrayList;
import java.util.List;

/** Helpers that play the guest: ECAM addressing, a Linux-style enumeration, capability lookup. */
final class PcieTestSupport {
    private PcieTestSupport() {}

    static final int TEST_VENDOR = 0x1AF4;

    /** ECAM offset of bus:device.function register (PCIe Base 6.0 §7.2.2, Table 7-1). */
    static long ecam(RootComplex rc, int bus, int device, int function, int register) {
        return (long) (bus - rc.firstBus()) << 20 | (long) device << 15 | (long) function << 12 | register;
    }

    static int cfgRead(RootComplex rc, int bus, int device, int function, int register, int size) {
        return (int) rc.read(ecam(rc, bus, device, function, register), size);
    }

    static void cfgWrite(RootComplex rc, int bus, int device, int function, int register, int size, int value) {
        rc.write(ecam(rc, bus, device, function, register), size, value);
    }

    /** A function with BAR0 (64-bit, 16 KiB; MSI-X table at 0, PBA at 0x2000), MSI with masking, and PM. */
    static EndpointFunction device(int deviceId) {
        return EndpointFunction.builder(TEST_VENDOR, deviceId, 0x018000)
                .bar(0, BarDefinition.memory64(0x4000, false))
                .bar(2, BarDefinition.memory32(0x1000))
                .powerManagement()
                .msi(4, true)
                .msix(16, 0, 0, 0, 0x2000)
                .build();
    }

    /** A function with nothing but the mandatory PCI Express capability. */
    static EndpointFunction plainDevice(int deviceId) {
        return EndpointFunction.builder(TEST_VENDOR, deviceId, 0xFF0000).build();
    }

    /** A function found by enumeration. */
    record Found(int bus, int device, int function, int vendorDevice) {
        @Override
        public String toString() {
            return String.format(
                    "%02x:%02x.%x %04x:%04x", bus, device, function, vendorDevice & 0xFFFF, vendorDevice >>> 16);
        }
    }

    /**
     * Enumerates like Linux: scan every device of a bus (function 0 first, the others only if Header Type
     * bit 7 says so), then for each bridge found assign the next bus number as secondary, open the
     * subordinate to FFh, recurse, and close the subordinate at the last bus used (depth-first).
     */
    static final class Enumerator {
        private final RootComplex rc;
        final List<Found> found = new ArrayList<>();
        private int max;

        Enumerator(RootComplex rc) {
            this.rc = rc;
        }

        /** Enumerates with the first secondary bus at {@code firstSecondary}; returns the last bus used. */
        int run(int firstSecondary) {
            found.clear();
            max = firstSecondary - 1;
            scan(rc.firstBus());
            return max;
        }

        int run() {
            return run(rc.firstBus() + 1);
        }

        private void scan(int bus) {
            List<int[]> bridges = new ArrayList<>();
            for (int dev = 0; dev < 32; dev++) {
                int id = cfgRead(rc, bus, dev, 0, 0x00, 4);
                if ((id & 0xFFFF) == 0xFFFF) {
                    continue;
                }
                int functions = (cfgRead(rc, bus, dev, 0, 0x0E, 1) & 0x80) != 0 ? 8 : 1;
                for (int fn = 0; fn < functions; fn++) {
                    int idf = cfgRead(rc, bus, dev, fn, 0x00, 4);
                    if ((idf & 0xFFFF) == 0xFFFF) {
                        continue;
                    }
                    found.add(new Found(bus, dev, fn, idf));
                    if ((cfgRead(rc, bus, dev, fn, 0x0E, 1) & 0x7F) == 1) {
                        bridges.add(new int[] {dev, fn});
                    }
                }
            }
            for (int[] b : bridges) {
                int secondary = ++max;
                int old = cfgRead(rc, bus, b[0], b[1], 0x18, 4);
                cfgWrite(rc, bus, b[0], b[1], 0x18, 4, (old & 0xFF00_0000) | 0xFF << 16 | secondary << 8 | bus);
                scan(secondary);
                cfgWrite(rc, bus, b[0], b[1], 0x1A, 1, max);
            }
        }
    }

    /** Finds capability {@code id} by walking the list from 34h through ECAM, as a driver does; -1 if absent. */
    static int findCapability(RootComplex rc, int bus, int dev, int fn, int id) {
        int ptr = cfgRead(rc, bus, dev, fn, 0x34, 1) & 0xFC;
        for (int guard = 0; ptr != 0 && guard < 48; guard++) {
            if (cfgRead(rc, bus, dev, fn, ptr, 1) == id) {
                return ptr;
            }
            ptr = cfgRead(rc, bus, dev, fn, ptr + 1, 1) & 0xFC;
        }
        return -1;
    }

    /** Programs and enables single-vector MSI and bus mastering, the way a driver does, through ECAM. */
    static void enableMsi(RootComplex rc, int bus, int dev, int fn, long address, int data) {
        int msi = findCapability(rc, bus, dev, fn, 0x05);
        if (msi < 0) {
            throw new AssertionError("no MSI capability at " + new RequesterId(bus, dev, fn));
        }
        cfgWrite(rc, bus, dev, fn, msi + 0x04, 4, (int) address);
        cfgWrite(rc, bus, dev, fn, msi + 0x08, 4, (int) (address >>> 32));
        cfgWrite(rc, bus, dev, fn, msi + 0x0C, 2, data);
        cfgWrite(rc, bus, dev, fn, msi + 0x02, 2, 1);
        cfgWrite(rc, bus, dev, fn, 0x04, 2, cfgRead(rc, bus, dev, fn, 0x04, 2) | 0x4);
    }

    /** Remembers every message. */
    static final class RecordingSink implements MsiSink {
        record Message(long address, int data, RequesterId rid) {}

        final List<Message> messages = new ArrayList<>();

        @Override
        public synchronized void signal(long address, int data, RequesterId requesterId) {
            messages.add(new Message(address, data, requesterId));
        }

        synchronized List<RequesterId> rids() {
            return messages.stream().map(Message::rid).toList();
        }
    }
}
