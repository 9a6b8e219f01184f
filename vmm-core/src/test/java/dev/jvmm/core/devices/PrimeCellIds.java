package dev.jvmm.core.devices;

import dev.jvmm.core.bus.MmioDevice;

/**
 * The identification registers every ARM PrimeCell has: PeriphID0-3 at 0xFE0 and PCellID0-3 at 0xFF0, one byte in
 * each word, read the way Linux's AMBA bus reads them (drivers/amba/bus.c).
 */
public final class PrimeCellIds {
    /** AMBA_CID: the PCellID of every PrimeCell. */
    public static final long AMBA_CID = 0xB105F00DL;

    private PrimeCellIds() {}

    /** PeriphID0-3 as one number (part, designer, revision, configuration). */
    public static long periphId(MmioDevice device) {
        return id(device, 0xFE0);
    }

    /** PCellID0-3 as one number. */
    public static long cellId(MmioDevice device) {
        return id(device, 0xFF0);
    }

    private static long id(MmioDevice device, int offset) {
        long id = 0;
        for (int i = 0; i < 4; i++) {
            id |= (device.read(offset + 4 * i, 4) & 0xFF) << (8 * i);
        }
        return id;
    }
}
