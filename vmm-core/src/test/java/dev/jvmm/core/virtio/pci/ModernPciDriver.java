package dev.jvmm.core.virtio.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.pcie.PciFunction;
import java.util.ArrayList;
import java.util.List;

/**
 * A virtio-pci modern driver in the image of Linux's virtio_pci_modern_dev.c / virtio_pci_modern.c, talking to a
 * function only through configRead/configWrite/barRead/barWrite (BAR-relative offsets, so no BAR placement). The
 * offsets are the specification's, written out here on purpose instead of taken from the transport's constants.
 */
public final class ModernPciDriver {
    // struct virtio_pci_common_cfg (virtio 1.2 §4.1.4.3)
    public static final int DFSELECT = 0x00,
            DF = 0x04,
            GFSELECT = 0x08,
            GF = 0x0C,
            MSIX_CONFIG = 0x10,
            NUM_QUEUES = 0x12,
            STATUS = 0x14,
            CFG_GENERATION = 0x15,
            Q_SELECT = 0x16,
            Q_SIZE = 0x18,
            Q_MSIX = 0x1A,
            Q_ENABLE = 0x1C,
            Q_NOFF = 0x1E,
            Q_DESCLO = 0x20,
            Q_DESCHI = 0x24,
            Q_AVAILLO = 0x28,
            Q_AVAILHI = 0x2C,
            Q_USEDLO = 0x30,
            Q_USEDHI = 0x34;
    public static final int ACKNOWLEDGE = 1,
            DRIVER = 2,
            DRIVER_OK = 4,
            FEATURES_OK = 8,
            NEEDS_RESET = 0x40,
            FAILED = 0x80;
    public static final long VERSION_1 = 1L << 32, INDIRECT_DESC = 1L << 28, EVENT_IDX = 1L << 29;
    public static final int NO_VECTOR = 0xFFFF;

    /** One struct virtio_pci_cap as found in configuration space. */
    public record Cap(int at, int cfgType, int bar, long offset, long length) {}

    public final PciFunction f;
    public final List<Cap> caps = new ArrayList<>();
    public int msixCap;
    public Cap common;
    public Cap notify;
    public Cap isr;
    public Cap device;
    public Cap pciCfg;
    public long notifyMultiplier;
    /** queue_notify_off of each queue, read at setup like vp_modern_get_queue_notify_off. */
    private final java.util.Map<Integer, Long> notifyOff = new java.util.HashMap<>();

    public ModernPciDriver(PciFunction f) {
        this.f = f;
        assertEquals(0x1AF4, f.configRead(0x00, 2), "vendor");
        int device = f.configRead(0x02, 2);
        assertTrue(device >= 0x1040 && device <= 0x107F, "modern device id");
        assertTrue((f.configRead(0x06, 2) & 0x10) != 0, "capability list");
        // pci_find_capability walk
        for (int at = f.configRead(0x34, 1) & ~3, guard = 0;
                at != 0 && guard < 48;
                at = f.configRead(at + 1, 1) & ~3, guard++) {
            int id = f.configRead(at, 1);
            if (id == 0x11) {
                msixCap = at;
            } else if (id == 0x09) {
                Cap c = new Cap(
                        at,
                        f.configRead(at + 3, 1),
                        f.configRead(at + 4, 1),
                        Integer.toUnsignedLong(f.configRead(at + 8, 4)),
                        Integer.toUnsignedLong(f.configRead(at + 12, 4)));
                caps.add(c);
                // virtio_pci_find_capability takes the first of each type whose BAR is valid
                switch (c.cfgType()) {
                    case 1 -> common = common == null ? c : common;
                    case 2 -> notify = notify == null ? c : notify;
                    case 3 -> isr = isr == null ? c : isr;
                    case 4 -> this.device = this.device == null ? c : this.device;
                    case 5 -> pciCfg = pciCfg == null ? c : pciCfg;
                    default -> {}
                }
            }
        }
        assertNotEquals(null, common, "COMMON_CFG");
        assertNotEquals(null, notify, "NOTIFY_CFG");
        assertNotEquals(null, isr, "ISR_CFG");
        assertTrue(common.length() >= 0x38, "common cfg covers struct virtio_pci_common_cfg");
        notifyMultiplier = Integer.toUnsignedLong(f.configRead(notify.at() + 16, 4));
    }

    // --- PCI --------------------------------------------------------------------------------------

    /** pci_enable_device + pci_set_master: Memory Space and Bus Master in Command. */
    public void enablePci() {
        f.configWrite(0x04, 2, f.configRead(0x04, 2) | 0x2 | 0x4);
    }

    public int msixTableSize() {
        return (f.configRead(msixCap + 2, 2) & 0x7FF) + 1;
    }

    public int msixTableBar() {
        return f.configRead(msixCap + 4, 4) & 7;
    }

    public long msixTableOffset() {
        return Integer.toUnsignedLong(f.configRead(msixCap + 4, 4) & ~7);
    }

    public int pbaBar() {
        return f.configRead(msixCap + 8, 4) & 7;
    }

    public long pbaOffset() {
        return Integer.toUnsignedLong(f.configRead(msixCap + 8, 4) & ~7);
    }

    /** Programs every vector (address 0xFEE0_0000 + 0x10*v, data 0x40 + v) and enables MSI-X; {@code masked} leaves them masked. */
    public void enableMsix(boolean masked) {
        enableMsix(masked, v -> 0xFEE0_0000L + 0x10L * v, v -> 0x40 + v);
    }

    /** Programs vector v with {@code address(v)} and {@code data(v)}, then enables MSI-X (function mask clear). */
    public void enableMsix(
            boolean masked, java.util.function.IntToLongFunction address, java.util.function.IntUnaryOperator data) {
        for (int v = 0; v < msixTableSize(); v++) {
            long e = msixTableOffset() + 16L * v;
            f.barWrite(msixTableBar(), e, 4, address.applyAsLong(v) & 0xFFFF_FFFFL);
            f.barWrite(msixTableBar(), e + 4, 4, address.applyAsLong(v) >>> 32);
            f.barWrite(msixTableBar(), e + 8, 4, data.applyAsInt(v));
            f.barWrite(msixTableBar(), e + 12, 4, masked ? 1 : 0);
        }
        f.configWrite(msixCap + 2, 2, 0x8000);
    }

    public void unmask(int vector) {
        f.barWrite(msixTableBar(), msixTableOffset() + 16L * vector + 12, 4, 0);
    }

    public boolean pending(int vector) {
        long qword = f.barRead(pbaBar(), pbaOffset() + 8L * (vector / 64), 8);
        return (qword >>> (vector % 64) & 1) != 0;
    }

    // --- common configuration ---------------------------------------------------------------------

    public long read(int field, int size) {
        return f.barRead(common.bar(), common.offset() + field, size);
    }

    public void write(int field, int size, long value) {
        f.barWrite(common.bar(), common.offset() + field, size, value);
    }

    public int status() {
        return (int) read(STATUS, 1);
    }

    public void setStatus(int status) {
        write(STATUS, 1, status);
    }

    /** virtio_add_status. */
    public void addStatus(int bits) {
        setStatus(status() | bits);
    }

    /** vp_reset: write 0, wait for 0. */
    public void reset() {
        setStatus(0);
        assertEquals(0, status(), "status reads 0 once the reset is done");
    }

    public long deviceFeatures() {
        write(DFSELECT, 4, 0);
        long lo = read(DF, 4);
        write(DFSELECT, 4, 1);
        return lo | read(DF, 4) << 32;
    }

    public void driverFeatures(long features) {
        write(GFSELECT, 4, 0);
        write(GF, 4, features & 0xFFFF_FFFFL);
        write(GFSELECT, 4, 1);
        write(GF, 4, features >>> 32);
    }

    /** virtio_features_ok: set FEATURES_OK and read it back. */
    public boolean featuresOk() {
        addStatus(FEATURES_OK);
        return (status() & FEATURES_OK) != 0;
    }

    /** Reset, ACKNOWLEDGE, DRIVER, negotiate {@code wanted & offered}, FEATURES_OK (asserted). Returns the features. */
    public long negotiate(long wanted) {
        reset();
        addStatus(ACKNOWLEDGE);
        addStatus(DRIVER);
        long offered = deviceFeatures();
        assertTrue((offered & VERSION_1) != 0, "a modern device offers VERSION_1");
        long features = offered & wanted;
        driverFeatures(features);
        assertTrue(featuresOk(), "FEATURES_OK accepted");
        return features;
    }

    /** vp_modern_config_vector. */
    public int configVector(int vector) {
        write(MSIX_CONFIG, 2, vector);
        return (int) read(MSIX_CONFIG, 2);
    }

    /** setup_vq: select, size, ring addresses, vector (read back). Returns the vector read back. */
    public int setupQueue(int q, DriverRing ring, int vector) {
        write(Q_SELECT, 2, q);
        int max = (int) read(Q_SIZE, 2);
        assertTrue(max >= ring.size, "queue " + q + " supports size " + ring.size);
        assertEquals(0, read(Q_ENABLE, 2), "queue not yet enabled");
        write(Q_SIZE, 2, ring.size);
        write(Q_DESCLO, 4, ring.desc & 0xFFFF_FFFFL);
        write(Q_DESCHI, 4, ring.desc >>> 32);
        write(Q_AVAILLO, 4, ring.avail & 0xFFFF_FFFFL);
        write(Q_AVAILHI, 4, ring.avail >>> 32);
        write(Q_USEDLO, 4, ring.used & 0xFFFF_FFFFL);
        write(Q_USEDHI, 4, ring.used >>> 32);
        notifyOff.put(q, read(Q_NOFF, 2));
        write(Q_MSIX, 2, vector);
        return (int) read(Q_MSIX, 2);
    }

    public void enableQueue(int q) {
        write(Q_SELECT, 2, q);
        write(Q_ENABLE, 2, 1);
    }

    /**
     * vp_notify: a 16-bit write of the queue index at notify base + queue_notify_off * multiplier, with the
     * queue_notify_off read when the queue was set up (the queue index if it never was).
     */
    public void kick(int q) {
        long off = notifyOff.getOrDefault(q, (long) q);
        f.barWrite(notify.bar(), notify.offset() + off * notifyMultiplier, 2, q);
    }

    /** The ISR byte (reading clears it). */
    public int isr() {
        return (int) f.barRead(isr.bar(), isr.offset(), 1);
    }

    public long deviceConfig(int offset, int size) {
        return f.barRead(device.bar(), device.offset() + offset, size);
    }

    public int generation() {
        return (int) read(CFG_GENERATION, 1);
    }

    // --- PCI_CFG window (§4.1.4.9) ----------------------------------------------------------------

    public void window(int bar, long offset, int length) {
        f.configWrite(pciCfg.at() + 4, 1, bar);
        f.configWrite(pciCfg.at() + 8, 4, (int) offset);
        f.configWrite(pciCfg.at() + 12, 4, length);
    }

    public int windowRead(int size) {
        return f.configRead(pciCfg.at() + 16, size);
    }

    public void windowWrite(int size, int value) {
        f.configWrite(pciCfg.at() + 16, size, value);
    }
}
