package dev.jvmm.core.virtio.pci;

import static dev.jvmm.core.virtio.pci.ModernPciDriver.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.virtio.VirtioDevice;
import dev.jvmm.core.virtio.pci.DriverRing.Desc;
import dev.jvmm.core.virtio.rng.VirtioRng;
import dev.jvmm.pcie.EndpointFunction;
import dev.jvmm.pcie.msi.RequesterId;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The virtio 1.2 PCI transport (§4.1) driven like Linux's virtio_pci_modern driver, through the function's
 * configuration space and BARs only, against guest RAM in an {@link Arena}.
 */
class VirtioPciTransportTest {
    private static final long RAM = 0x4000_0000L;
    private static final long RING = RAM + 0x1000;
    private static final long RING2 = RAM + 0x4000;
    private static final long BUF = RAM + 0x8000;

    @AutoClose
    private final Arena arena = Arena.ofConfined();

    private GuestMemory mem = new GuestMemory(RAM, arena.allocate(1 << 20, 4096));
    private final List<Integer> raised = Collections.synchronizedList(new ArrayList<>());

    private VirtioPciTransport rng() {
        return transport(new VirtioRng(new TestDevices.Counting()));
    }

    /** A transport for {@code device} whose interrupts go to {@link #raised}. */
    private VirtioPciTransport transport(VirtioDevice device) {
        VirtioPciTransport t = new VirtioPciTransport(device, mem);
        t.setInterruptSink(raised::add);
        return t;
    }

    /** Linux's probe up to DRIVER_OK with one queue on vector 1 and config on vector 0. */
    private DriverRing bringUp(ModernPciDriver d, long features, int size) {
        d.enablePci();
        d.enableMsix(false);
        d.negotiate(features);
        assertEquals(0, d.configVector(0));
        DriverRing ring = new DriverRing(mem, RING, size);
        assertEquals(1, d.setupQueue(0, ring, 1));
        d.enableQueue(0);
        d.addStatus(DRIVER_OK);
        assertEquals(ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK, d.status());
        return ring;
    }

    private byte[] fill(long at, int n, int value) {
        byte[] b = new byte[n];
        java.util.Arrays.fill(b, (byte) value);
        mem.write(at, b);
        return b;
    }

    // --- identity and layout ----------------------------------------------------------------------

    /** §4.1.2: ids of a non-transitional device; §4.1.4: the capabilities, their BARs and regions. */
    @Test
    void identityBarsAndCapabilities() {
        EndpointFunction f = rng().function();
        assertEquals(0x1AF4, f.configRead(0x00, 2));
        assertEquals(0x1040 + 4, f.configRead(0x02, 2), "0x1040 + entropy device id 4");
        assertEquals(1, f.configRead(0x08, 1), "revision 1");
        assertEquals(0xFF0000, f.configRead(0x08, 4) >>> 8, "class");
        assertEquals(0x1AF4, f.configRead(0x2C, 2));
        assertEquals(0x1100, f.configRead(0x2E, 2));
        assertEquals(0, f.configRead(0x3D, 1), "no INTx");

        // BAR sizing: BAR 1 32-bit non-prefetchable, BAR 4 64-bit prefetchable 16 KiB, no I/O BAR.
        for (int bar = 0; bar < 6; bar++) {
            f.configWrite(0x10 + 4 * bar, 4, -1);
        }
        assertEquals(0, f.configRead(0x10, 4), "BAR 0 unused");
        assertEquals(0xFFFF_F000, f.configRead(0x14, 4), "BAR 1: 4 KiB of 32-bit memory");
        assertEquals(0xFFFF_C00C, f.configRead(0x20, 4), "BAR 4: 16 KiB, 64-bit, prefetchable");
        assertEquals(0xFFFF_FFFF, f.configRead(0x24, 4), "BAR 5 is BAR 4's upper half");

        ModernPciDriver d = new ModernPciDriver(f);
        assertEquals(new Cap(d.common.at(), 1, 4, 0x0000, 0x38), d.common);
        assertEquals(new Cap(d.notify.at(), 2, 4, 0x3000, 4), d.notify, "one 4-byte slot for the one queue");
        assertEquals(new Cap(d.isr.at(), 3, 4, 0x1000, 1), d.isr);
        assertNull(d.device, "no DEVICE_CFG for a device without configuration (§4.1.4.6; Linux rejects length 0)");
        assertEquals(new Cap(d.pciCfg.at(), 5, 0, 0, 0), d.pciCfg, "PCI_CFG starts with a zero window");
        assertEquals(4, d.notifyMultiplier);
        assertEquals(16, f.configRead(d.common.at() + 2, 1), "cap_len of virtio_pci_cap");
        assertEquals(20, f.configRead(d.notify.at() + 2, 1), "cap_len of virtio_pci_notify_cap");
        assertEquals(20, f.configRead(d.pciCfg.at() + 2, 1), "cap_len of virtio_pci_cfg_cap");
        assertEquals(2, d.msixTableSize(), "one vector per queue plus configuration");
        assertEquals(1, d.msixTableBar());
        assertEquals(1, d.pbaBar());
        assertEquals(1, d.read(NUM_QUEUES, 2));
    }

    @Test
    void deviceWithConfigurationHasDeviceCfgAndItsOwnIds() {
        VirtioPciTransport t = transport(new TestDevices.Echo());
        ModernPciDriver d = new ModernPciDriver(t.function());
        assertEquals(0x1042, t.function().configRead(0x02, 2), "block");
        assertEquals(0x018000, t.function().configRead(0x08, 4) >>> 8);
        assertEquals(new Cap(d.device.at(), 4, 4, 0x2000, 8), d.device);
        assertEquals(new Cap(d.notify.at(), 2, 4, 0x3000, 8), d.notify);
        assertEquals(3, d.msixTableSize());
        assertEquals(
                List.of(
                        new VirtioPciTransport.NotifyRegion(4, 0x3000, 0),
                        new VirtioPciTransport.NotifyRegion(4, 0x3004, 1)),
                t.notifyRegions());
        assertEquals(0x1122_3344_5566_7788L, d.deviceConfig(0, 8));
        assertEquals(0x5566_7788L, d.deviceConfig(0, 4));
        assertEquals(0x1122L, d.deviceConfig(6, 2));
        assertEquals(0x11L, d.deviceConfig(7, 1));
        assertEquals(0, d.deviceConfig(8, 1), "past the end of the device's configuration");
        assertEquals(0, d.deviceConfig(4, 8), "runs past the end");
        assertEquals(0, d.deviceConfig(1, 2), "misaligned");
        assertEquals(0, d.deviceConfig(0, 3), "odd size");
    }

    // --- the acceptance path ----------------------------------------------------------------------

    /** Reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK, queue setup, DRIVER_OK, a request, the interrupt. */
    @Test
    void linuxStyleBringUpAndOneRequest() {
        VirtioPciTransport t = rng();
        ModernPciDriver d = new ModernPciDriver(t.function());
        d.enablePci();
        d.enableMsix(false);
        d.reset();
        d.addStatus(ACKNOWLEDGE);
        d.addStatus(DRIVER);
        long offered = d.deviceFeatures();
        assertEquals(VERSION_1 | INDIRECT_DESC | EVENT_IDX, offered, "rng has no features of its own (§5.4.3)");
        d.driverFeatures(offered);
        assertTrue(d.featuresOk());
        assertEquals(0, d.configVector(0));
        DriverRing ring = new DriverRing(mem, RING, 256);
        assertEquals(1, d.setupQueue(0, ring, 1));
        assertEquals(0, d.read(Q_NOFF, 2), "queue_notify_off = queue index");
        d.enableQueue(0);
        assertEquals(1, d.read(Q_ENABLE, 2));
        d.addStatus(DRIVER_OK);
        assertEquals(ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK, d.status());

        fill(BUF, 64, 0);
        int head = ring.offer(Desc.writable(BUF, 64));
        d.kick(0);

        assertEquals(1, ring.usedIdx());
        assertEquals(new DriverRing.Used(head, 64), ring.usedElem(0));
        assertArrayEquals(TestDevices.Counting.first(64), mem.read(BUF, 64));
        assertEquals(List.of(1), raised, "queue 0's vector");
        assertEquals(1, d.isr(), "ISR bit 0: used buffer notification");
        assertEquals(0, d.isr(), "reading the ISR cleared it (§4.1.4.5)");

        // a second request through the ioeventfd path; with EVENT_IDX the driver re-arms its interrupt by
        // publishing used_event = the used index it has seen (virtqueue_enable_cb_prepare)
        ring.setUsedEvent(ring.usedIdx());
        ring.offer(Desc.writable(BUF + 64, 16));
        t.notifyQueue(0);
        assertEquals(2, ring.usedIdx());
        assertEquals(List.of(1, 1), raised);
    }

    /** The default interrupt sink goes through the function's MSI-X: message address/data from the table. */
    @Test
    void defaultSinkSendsTheMsixMessage() {
        VirtioPciTransport t = new VirtioPciTransport(new VirtioRng(new TestDevices.Counting()), mem);
        List<long[]> messages = new ArrayList<>();
        t.function()
                .msiTarget()
                .connect(() -> 1, 0, 0, (address, data, rid) -> messages.add(new long[] {address, data}));
        ModernPciDriver d = new ModernPciDriver(t.function());
        DriverRing ring = bringUp(d, VERSION_1, 8);
        ring.offer(Desc.writable(BUF, 8));
        d.kick(0);
        assertEquals(1, messages.size());
        assertArrayEquals(new long[] {0xFEE0_0010L, 0x41}, messages.get(0));
    }

    /** PCIe Base 6.0 §6.1.4.5 through the default sink: a masked vector latches its PBA bit, unmasking sends it. */
    @Test
    void maskedVectorSetsThePendingBitInsteadOfRaising() {
        VirtioPciTransport t = new VirtioPciTransport(new VirtioRng(new TestDevices.Counting()), mem);
        List<RequesterId> sent = new ArrayList<>();
        List<Long> addresses = new ArrayList<>();
        t.function().msiTarget().connect(() -> 3, 0, 0, (address, data, rid) -> {
            sent.add(rid);
            addresses.add(address);
        });
        ModernPciDriver d = new ModernPciDriver(t.function());
        d.enablePci();
        d.enableMsix(true); // every entry masked
        d.negotiate(VERSION_1);
        d.configVector(0);
        DriverRing ring = new DriverRing(mem, RING, 8);
        d.setupQueue(0, ring, 1);
        d.enableQueue(0);
        d.addStatus(DRIVER_OK);

        ring.offer(Desc.writable(BUF, 8));
        d.kick(0);
        assertEquals(1, ring.usedIdx(), "the request was served");
        assertTrue(sent.isEmpty(), "masked: nothing sent");
        assertTrue(d.pending(1), "PBA bit of vector 1 set");
        assertFalse(d.pending(0));

        d.unmask(1);
        assertEquals(List.of(0xFEE0_0010L), addresses, "unmasking sent the pending message");
        assertEquals(3, sent.get(0).bus());
        assertFalse(d.pending(1));
    }

    // --- feature negotiation ----------------------------------------------------------------------

    /** §6, §3.1.1: a driver that does not accept VERSION_1 gets no FEATURES_OK from a modern-only device. */
    @Test
    void featuresOkNeedsVersion1() {
        ModernPciDriver d = new ModernPciDriver(rng().function());
        d.reset();
        d.addStatus(ACKNOWLEDGE | DRIVER);
        d.driverFeatures(EVENT_IDX);
        assertFalse(d.featuresOk());
        assertEquals(ACKNOWLEDGE | DRIVER, d.status(), "the read-back lacks FEATURES_OK");
        d.addStatus(DRIVER_OK);
        assertEquals(0, d.status() & DRIVER_OK, "DRIVER_OK without FEATURES_OK does not stick");
        d.driverFeatures(VERSION_1 | EVENT_IDX);
        assertTrue(d.featuresOk(), "the driver may try again with another subset");
    }

    /** §2.2: the driver may accept only offered bits; an unknown one (also above bit 63) refuses FEATURES_OK. */
    @ParameterizedTest
    @ValueSource(ints = {1, 24, 33, 63})
    void unknownFeatureBitsAreRefused(int bit) {
        ModernPciDriver d =
                new ModernPciDriver(transport(new TestDevices.Echo()).function());
        d.reset();
        d.addStatus(ACKNOWLEDGE | DRIVER);
        assertEquals(TestDevices.Echo.FEATURES | VERSION_1 | INDIRECT_DESC | EVENT_IDX, d.deviceFeatures());
        d.driverFeatures(VERSION_1 | 1L << bit);
        assertFalse(d.featuresOk(), "bit " + bit + " was not offered");
    }

    @Test
    void featureWindowsAboveBit63() {
        ModernPciDriver d = new ModernPciDriver(rng().function());
        d.reset();
        d.write(DFSELECT, 4, 2);
        assertEquals(0, d.read(DF, 4), "no features above bit 63");
        d.write(DFSELECT, 4, 1);
        assertEquals(1, d.read(DF, 4), "VERSION_1 is bit 32");
        d.driverFeatures(VERSION_1);
        d.write(GFSELECT, 4, 2);
        d.write(GF, 4, 1);
        assertFalse(d.featuresOk(), "bit 64 is unknown");
        d.reset();
        d.driverFeatures(VERSION_1);
        assertTrue(d.featuresOk(), "reset forgets it");
    }

    @Test
    void driverFeaturesAreFrozenByFeaturesOk() {
        TestDevices.Echo device = new TestDevices.Echo();
        ModernPciDriver d = new ModernPciDriver(transport(device).function());
        long accepted = d.negotiate(VERSION_1 | 1);
        assertEquals(VERSION_1 | 1, accepted);
        d.driverFeatures(VERSION_1 | 1L << 5);
        d.write(GFSELECT, 4, 0);
        assertEquals(1, d.read(GF, 4), "no new feature bits after FEATURES_OK (§3.1.1 step 5)");
        DriverRing ring = new DriverRing(mem, RING, 16);
        d.setupQueue(0, ring, 1);
        d.enableQueue(0);
        d.addStatus(DRIVER_OK);
        assertEquals(List.of(VERSION_1 | 1), device.activations, "activate() gets the negotiated features");
    }

    @Test
    void driverCannotClearStatusBitsOrSetNeedsReset() {
        ModernPciDriver d = new ModernPciDriver(rng().function());
        d.reset();
        d.setStatus(ACKNOWLEDGE | DRIVER);
        d.setStatus(ACKNOWLEDGE);
        assertEquals(ACKNOWLEDGE | DRIVER, d.status(), "bits are only cleared by a reset");
        d.setStatus(ACKNOWLEDGE | DRIVER | NEEDS_RESET | 0x30);
        assertEquals(ACKNOWLEDGE | DRIVER, d.status(), "DEVICE_NEEDS_RESET and reserved bits are the device's");
        d.addStatus(FAILED);
        assertEquals(ACKNOWLEDGE | DRIVER | FAILED, d.status());
    }

    // --- queue fields -----------------------------------------------------------------------------

    /** §4.1.4.3.2: the driver MUST NOT change queue fields after DRIVER_OK; the device ignores such writes. */
    @Test
    void queueFieldWritesAfterDriverOkAreIgnored() {
        ModernPciDriver d = new ModernPciDriver(rng().function());
        DriverRing ring = bringUp(d, VERSION_1, 16);
        d.write(Q_SELECT, 2, 0);
        d.write(Q_SIZE, 2, 8);
        d.write(Q_MSIX, 2, 0);
        d.write(Q_DESCLO, 4, 0x1234_0000);
        d.write(Q_DESCHI, 4, 1);
        d.write(Q_AVAILLO, 8, 0x5678_0000L);
        d.write(Q_ENABLE, 2, 0);
        assertEquals(16, d.read(Q_SIZE, 2));
        assertEquals(1, d.read(Q_MSIX, 2));
        assertEquals(ring.desc, d.read(Q_DESCLO, 8));
        assertEquals(ring.avail, d.read(Q_AVAILLO, 8));
        assertEquals(ring.used, d.read(Q_USEDLO, 8));
        assertEquals(1, d.read(Q_ENABLE, 2));
        assertEquals(1, d.configVector(1), "config_msix_vector stays writable");
        // and the queue still works with the original settings
        ring.offer(Desc.writable(BUF, 4));
        d.kick(0);
        assertEquals(1, ring.usedIdx());
    }

    @Test
    void queueAddressesAsQwordsOrHalvesAndSizeRules() {
        ModernPciDriver d =
                new ModernPciDriver(transport(new TestDevices.Echo()).function());
        d.negotiate(VERSION_1);
        d.write(Q_SELECT, 2, 1);
        assertEquals(8, d.read(Q_SIZE, 2), "queue 1's maximum");
        assertEquals(1, d.read(Q_NOFF, 2));
        d.write(Q_DESCLO, 8, 0x0000_0001_2345_6780L);
        assertEquals(0x2345_6780L, d.read(Q_DESCLO, 4));
        assertEquals(1, d.read(Q_DESCHI, 4));
        d.write(Q_DESCHI, 4, 0xAB);
        assertEquals(0x0000_00AB_2345_6780L, d.read(Q_DESCLO, 8));
        d.write(Q_USEDLO + 4, 4, 0xFFFF_FFFFL);
        assertEquals(0xFFFF_FFFF_0000_0000L, d.read(Q_USEDLO, 8));
        d.write(Q_SIZE, 2, 16);
        assertEquals(8, d.read(Q_SIZE, 2), "larger than the maximum: ignored");
        d.write(Q_SIZE, 2, 6);
        assertEquals(8, d.read(Q_SIZE, 2), "not a power of two: ignored");
        d.write(Q_SIZE, 2, 0);
        assertEquals(8, d.read(Q_SIZE, 2));
        d.write(Q_SIZE, 2, 4);
        assertEquals(4, d.read(Q_SIZE, 2));
        d.write(Q_SELECT, 2, 0);
        assertEquals(16, d.read(Q_SIZE, 2), "queue 0 untouched");
    }

    /** §4.1.4.3: queue_size reads 0 for a queue that does not exist; writes to its fields are dropped. */
    @Test
    void queueSelectOutOfRange() {
        ModernPciDriver d = new ModernPciDriver(rng().function());
        d.negotiate(VERSION_1);
        d.write(Q_SELECT, 2, 1);
        assertEquals(1, d.read(Q_SELECT, 2));
        assertEquals(0, d.read(Q_SIZE, 2), "unavailable");
        d.write(Q_SIZE, 2, 4);
        d.write(Q_MSIX, 2, 0);
        d.write(Q_DESCLO, 8, RING);
        d.write(Q_ENABLE, 2, 1);
        assertEquals(0, d.read(Q_SIZE, 2));
        assertEquals(0, d.read(Q_ENABLE, 2));
        assertEquals(0, d.read(Q_DESCLO, 8));
        d.write(Q_SELECT, 2, 0xFFFF);
        assertEquals(0, d.read(Q_SIZE, 2));
        d.write(Q_SELECT, 2, 0);
        assertEquals(256, d.read(Q_SIZE, 2));
        assertEquals(NO_VECTOR, d.read(Q_MSIX, 2), "queue 0 untouched");
        assertEquals(0, d.read(Q_DESCLO, 8));
        assertEquals(0, d.status() & NEEDS_RESET);
    }

    /** A queue whose rings are outside RAM or misaligned fails queue_enable: it stays 0, the device needs reset. */
    @ParameterizedTest
    @ValueSource(longs = {0x1000, RING + 2})
    void queueEnableWithBadRingsFails(long desc) {
        ModernPciDriver d = new ModernPciDriver(rng().function());
        d.negotiate(VERSION_1);
        DriverRing ring = new DriverRing(mem, RING, 16);
        d.setupQueue(0, ring, 1);
        d.write(Q_DESCLO, 8, desc);
        d.enableQueue(0);
        assertEquals(0, d.read(Q_ENABLE, 2));
        assertEquals(NEEDS_RESET, d.status() & NEEDS_RESET);
        assertTrue(raised.isEmpty(), "no configuration interrupt before DRIVER_OK");
        d.reset();
        assertEquals(0, d.status());
    }

    // --- vectors and ISR --------------------------------------------------------------------------

    /** §4.1.5.1.2: mapping to a vector the table does not have fails: the field reads back NO_VECTOR. */
    @Test
    void vectorsOutOfRangeReadNoVector() {
        ModernPciDriver d = new ModernPciDriver(rng().function());
        d.negotiate(VERSION_1);
        assertEquals(NO_VECTOR, d.read(MSIX_CONFIG, 2), "unmapped after reset");
        assertEquals(NO_VECTOR, d.configVector(2), "table has vectors 0 and 1");
        assertEquals(1, d.configVector(1));
        assertEquals(NO_VECTOR, d.configVector(0x7FF));
        DriverRing ring = new DriverRing(mem, RING, 8);
        assertEquals(NO_VECTOR, d.setupQueue(0, ring, 2));
        assertEquals(0, d.setupQueue(0, ring, 0));
        assertEquals(NO_VECTOR, d.setupQueue(0, ring, NO_VECTOR), "unmapping is allowed");
    }

    /** An event mapped to NO_VECTOR raises nothing (INTx is not modelled) but still sets the ISR. */
    @Test
    void noVectorRaisesNothingButSetsTheIsr() {
        ModernPciDriver d = new ModernPciDriver(rng().function());
        d.enablePci();
        d.negotiate(VERSION_1);
        DriverRing ring = new DriverRing(mem, RING, 8);
        d.setupQueue(0, ring, NO_VECTOR);
        d.enableQueue(0);
        d.addStatus(DRIVER_OK);
        ring.offer(Desc.writable(BUF, 8));
        d.kick(0);
        assertEquals(1, ring.usedIdx());
        assertTrue(raised.isEmpty());
        assertEquals(1, d.isr());
    }

    @Test
    void isrReadClearsAndOnlyAByteReadCounts() {
        VirtioPciTransport t = rng();
        ModernPciDriver d = new ModernPciDriver(t.function());
        DriverRing ring = bringUp(d, VERSION_1, 8);
        ring.offer(Desc.writable(BUF, 8));
        d.kick(0);
        assertEquals(0, t.function().barRead(4, 0x1000, 4), "a DWORD read of the ISR is not a natural access");
        assertEquals(0, t.function().barRead(4, 0x1000, 2));
        assertEquals(0, t.function().barRead(4, 0x1001, 1), "beyond the ISR capability's one byte");
        t.function().barWrite(4, 0x1000, 1, 0);
        assertEquals(1, d.isr(), "wrong-size reads and writes left it alone");
        assertEquals(0, d.isr());
    }

    // --- reset ------------------------------------------------------------------------------------

    /** §2.4: after a reset, a chain the driver had made available is never touched, whatever kicks follow. */
    @Test
    void resetWhileAChainIsAvailableTouchesNothingAfterwards() {
        VirtioPciTransport t = rng();
        ModernPciDriver d = new ModernPciDriver(t.function());
        DriverRing ring = bringUp(d, VERSION_1 | EVENT_IDX, 16);
        byte[] before = fill(BUF, 32, 0x5A);
        ring.offer(Desc.writable(BUF, 32));

        d.reset();
        d.kick(0);
        t.notifyQueue(0);
        t.function().barWrite(4, 0x3000, 2, 0);

        assertEquals(0, ring.usedIdx());
        assertEquals(new DriverRing.Used(0, 0), ring.usedElem(0));
        assertArrayEquals(before, mem.read(BUF, 32));
        assertTrue(raised.isEmpty());
        // everything is back to its reset value
        assertEquals(0, d.status());
        assertEquals(0, d.isr());
        assertEquals(NO_VECTOR, d.read(MSIX_CONFIG, 2));
        d.write(Q_SELECT, 2, 0);
        assertEquals(256, d.read(Q_SIZE, 2));
        assertEquals(0, d.read(Q_ENABLE, 2));
        assertEquals(NO_VECTOR, d.read(Q_MSIX, 2));
        assertEquals(0, d.read(Q_DESCLO, 8));
        d.write(GFSELECT, 4, 1);
        assertEquals(0, d.read(GF, 4), "driver features cleared");

        // and the device comes back up on the next initialisation, with fresh rings
        DriverRing again = bringUp(d, VERSION_1, 16);
        again.offer(Desc.writable(BUF, 8));
        d.kick(0);
        assertEquals(1, again.usedIdx());
    }

    /** A reset waits for the request being served on another thread, then nothing is touched any more. */
    @Test
    void resetWaitsForInFlightProcessing() throws Exception {
        try (Arena shared = Arena.ofShared()) {
            mem = new GuestMemory(RAM, shared.allocate(1 << 20, 4096));
            TestDevices.Echo device = new TestDevices.Echo();
            VirtioPciTransport t = transport(device);
            ModernPciDriver d = new ModernPciDriver(t.function());
            DriverRing ring = bringUp(d, VERSION_1, 16);
            int resets = device.resets;
            device.entered = new CountDownLatch(1);
            device.release = new CountDownLatch(1);
            ring.offer(Desc.writable(BUF, 8));
            ring.offer(Desc.writable(BUF + 8, 8));

            Thread eventLoop = Thread.ofPlatform().start(() -> t.notifyQueue(0));
            assertTrue(device.entered.await(10, TimeUnit.SECONDS));
            AtomicReference<Integer> statusAfterReset = new AtomicReference<>();
            Thread vcpu = Thread.ofPlatform().start(() -> {
                d.setStatus(0);
                statusAfterReset.set(d.status());
            });
            vcpu.join(200);
            assertTrue(vcpu.isAlive(), "the status write of 0 waits for the device");
            device.release.countDown();
            vcpu.join(10_000);
            eventLoop.join(10_000);
            assertEquals(0, statusAfterReset.get());
            int used = ring.usedIdx();
            assertTrue(used <= 2);
            t.notifyQueue(0);
            assertEquals(used, ring.usedIdx(), "nothing after the reset");
            assertEquals(resets + 1, device.resets);
        }
    }

    /** A function reset (FLR, hot reset) resets the virtio device too. */
    @Test
    void functionResetResetsTheDevice() {
        TestDevices.Echo device = new TestDevices.Echo();
        VirtioPciTransport t = transport(device);
        ModernPciDriver d = new ModernPciDriver(t.function());
        DriverRing ring = bringUp(d, VERSION_1, 16);
        int resets = device.resets;
        t.function().reset();
        assertEquals(resets + 1, device.resets);
        assertEquals(0, d.status());
        ring.offer(Desc.writable(BUF, 8));
        t.notifyQueue(0);
        assertEquals(0, ring.usedIdx());
    }

    // --- malformed rings --------------------------------------------------------------------------

    /** §2.1.2: a broken ring sets DEVICE_NEEDS_RESET and sends a configuration interrupt; the device then stops. */
    @ParameterizedTest
    @ValueSource(strings = {"head out of range", "next out of range", "loop"})
    void malformedChainNeedsReset(String how) {
        VirtioPciTransport t = rng();
        ModernPciDriver d = new ModernPciDriver(t.function());
        DriverRing ring = bringUp(d, VERSION_1, 16);
        switch (how) {
            case "head out of range" -> ring.publish(16 + 3);
            case "next out of range" -> {
                ring.writeDesc(0, BUF, 16, DriverRing.F_WRITE | DriverRing.F_NEXT, 999);
                ring.publish(0);
            }
            default -> {
                ring.writeDesc(0, BUF, 16, DriverRing.F_WRITE | DriverRing.F_NEXT, 1);
                ring.writeDesc(1, BUF, 16, DriverRing.F_WRITE | DriverRing.F_NEXT, 0);
                ring.publish(0);
            }
        }
        assertDoesNotThrow(() -> d.kick(0));
        assertEquals(NEEDS_RESET, d.status() & NEEDS_RESET);
        assertEquals(List.of(0), raised, "the configuration vector");
        assertEquals(2, d.isr(), "ISR bit 1: configuration change");

        // stopped until reset: a good chain and more kicks change nothing, and no second interrupt
        DriverRing fresh = new DriverRing(mem, RING2, 16);
        fresh.offer(Desc.writable(BUF, 8));
        d.kick(0);
        t.notifyQueue(0);
        assertEquals(List.of(0), raised);
        assertEquals(0, ring.usedIdx());

        DriverRing again = bringUp(d, VERSION_1, 16);
        again.offer(Desc.writable(BUF, 8));
        d.kick(0);
        assertEquals(1, again.usedIdx(), "a reset brings it back");
    }

    // --- configuration changes ------------------------------------------------------------------

    /** §2.5.1, §4.1.4.3: config_generation changes with the device's configuration; ISR bit 1, config vector. */
    @Test
    void configurationChangeBumpsGenerationAndInterrupts() {
        TestDevices.Echo device = new TestDevices.Echo();
        VirtioPciTransport t = transport(device);
        ModernPciDriver d = new ModernPciDriver(t.function());
        bringUp(d, VERSION_1, 16);
        int g0 = d.generation();
        assertEquals(g0, d.generation(), "stable while nothing changes");
        device.interrupt.config(() -> device.config = 42);
        assertNotEquals(g0, d.generation());
        assertEquals(42, d.deviceConfig(0, 8));
        assertEquals(List.of(0), raised);
        assertEquals(2, d.isr());
        // driver writes to the device configuration reach the device
        t.function().barWrite(4, 0x2000 + 4, 4, 0xCAFE_F00DL);
        assertEquals(0xCAFE_F00D_0000_002AL, device.config);
        t.function().barWrite(4, 0x2000 + 6, 4, 0); // misaligned: dropped
        assertEquals(0xCAFE_F00D_0000_002AL, device.config);
    }

    @Test
    void staleInterruptHandleIsSilentButTheGenerationStillChanges() {
        TestDevices.Echo device = new TestDevices.Echo();
        VirtioPciTransport t = transport(device);
        ModernPciDriver d = new ModernPciDriver(t.function());
        DriverRing ring = bringUp(d, VERSION_1, 16);
        var handle = device.interrupt;
        d.reset();
        int g0 = d.generation();
        handle.config();
        handle.queue(0);
        assertNotEquals(g0, d.generation());
        assertTrue(raised.isEmpty(), "a handle from before the reset is silent");
        assertEquals(0, d.isr());
        assertEquals(0, ring.usedIdx());
    }

    /** Each queue raises its own vector; a second queue works independently. */
    @Test
    void twoQueuesTwoVectors() {
        TestDevices.Echo device = new TestDevices.Echo();
        VirtioPciTransport t = transport(device);
        ModernPciDriver d = new ModernPciDriver(t.function());
        d.enablePci();
        d.enableMsix(false);
        d.negotiate(VERSION_1 | EVENT_IDX | INDIRECT_DESC);
        d.configVector(0);
        DriverRing q0 = new DriverRing(mem, RING, 16);
        DriverRing q1 = new DriverRing(mem, RING2, 8);
        assertEquals(1, d.setupQueue(0, q0, 1));
        assertEquals(2, d.setupQueue(1, q1, 2));
        d.enableQueue(0);
        d.enableQueue(1);
        d.addStatus(DRIVER_OK);
        q1.offer(Desc.readable(BUF, 4), Desc.writable(BUF + 0x100, 4));
        mem.writeIntLE(BUF, 0x0403_0201);
        d.kick(1);
        assertEquals(1, q1.usedIdx());
        assertEquals(0, q0.usedIdx());
        assertEquals(0x0403_0201, mem.readIntLE(BUF + 0x100));
        assertEquals(List.of(2), raised);
        assertEquals(List.of(1), device.notified);
    }

    /** EVENT_IDX negotiated reaches the queue: with used_event far away the driver gets no interrupt. */
    @Test
    void eventIdxSuppressesInterrupts() {
        VirtioPciTransport t = rng();
        ModernPciDriver d = new ModernPciDriver(t.function());
        DriverRing ring = bringUp(d, VERSION_1 | EVENT_IDX, 16);
        ring.setUsedEvent(5);
        ring.offer(Desc.writable(BUF, 4));
        d.kick(0);
        assertEquals(1, ring.usedIdx());
        assertTrue(raised.isEmpty(), "used_event 5 not reached");
        assertEquals(1, ring.availEvent(), "the device asks to be kicked for the next entry");
    }

    // --- kicks ------------------------------------------------------------------------------------

    @Test
    void kicksBeforeDriverOkOrForUnknownQueuesAreIgnored() {
        TestDevices.Echo device = new TestDevices.Echo();
        VirtioPciTransport t = transport(device);
        ModernPciDriver d = new ModernPciDriver(t.function());
        d.negotiate(VERSION_1);
        DriverRing ring = new DriverRing(mem, RING, 16);
        d.setupQueue(0, ring, 1);
        d.enableQueue(0);
        ring.offer(Desc.writable(BUF, 4));
        t.notifyQueue(0);
        d.kick(0);
        assertTrue(device.notified.isEmpty(), "before DRIVER_OK");
        d.addStatus(DRIVER_OK);
        t.notifyQueue(1);
        t.notifyQueue(2);
        t.notifyQueue(-1);
        t.function().barWrite(4, 0x3008, 2, 2); // past the two slots
        assertTrue(device.notified.isEmpty(), "queue 1 is disabled, 2 does not exist");
        t.function().barWrite(4, 0x3003, 1, 0); // any width inside queue 0's slot
        assertEquals(List.of(0), device.notified);
        assertEquals(1, ring.usedIdx());
        t.function().barWrite(4, 0x3000, 4, 0);
        t.function().barWrite(4, 0x3000, 8, 0);
        assertEquals(List.of(0, 0, 0), device.notified);
        assertEquals(0, t.function().barRead(4, 0x3000, 2), "notify reads 0");
    }

    // --- PCI_CFG window ---------------------------------------------------------------------------

    /** §4.1.4.9: pci_cfg_data reads and writes cap.length bytes at cap.offset in cap.bar. */
    @Test
    void pciCfgWindowReachesTheBars() {
        VirtioPciTransport t = rng();
        ModernPciDriver d = new ModernPciDriver(t.function());
        d.window(4, NUM_QUEUES, 2);
        assertEquals(1, d.windowRead(2), "num_queues through the window");
        d.window(4, STATUS, 1);
        d.windowWrite(1, ACKNOWLEDGE);
        assertEquals(ACKNOWLEDGE, d.status(), "status written through the window");
        d.setStatus(ACKNOWLEDGE | DRIVER);
        assertEquals(ACKNOWLEDGE | DRIVER, d.windowRead(1));
        d.window(4, DFSELECT, 4);
        d.windowWrite(4, 1);
        d.window(4, DF, 4);
        assertEquals(1, d.windowRead(4), "device_feature window 1: VERSION_1");
        assertEquals(1, d.read(DFSELECT, 4));

        // the MSI-X table in BAR 1 is reachable too
        d.window(1, 16, 4);
        d.windowWrite(4, 0xFEE0_1000);
        assertEquals(0xFEE0_1000L, t.function().barRead(1, 16, 4));
        assertEquals(0xFEE0_1000, d.windowRead(4));
        assertEquals(d.pciCfg.at(), d.caps.getLast().at(), "PCI_CFG is the last capability");
        assertEquals(1, t.function().configRead(d.pciCfg.at() + 4, 1), "cap.bar is RW");
        assertEquals(16, t.function().configRead(d.pciCfg.at() + 8, 4), "cap.offset is RW");
        assertEquals(4, t.function().configRead(d.pciCfg.at() + 12, 4), "cap.length is RW");
    }

    @Test
    void pciCfgWindowServesIsrAndKicks() {
        VirtioPciTransport t = rng();
        ModernPciDriver d = new ModernPciDriver(t.function());
        DriverRing ring = bringUp(d, VERSION_1, 16);
        ring.offer(Desc.writable(BUF, 8));
        d.window(4, 0x3000, 2);
        d.windowWrite(2, 0);
        assertEquals(1, ring.usedIdx(), "a kick through the window");
        assertEquals(List.of(1), raised);
        d.window(4, 0x1000, 1);
        assertEquals(1, d.windowRead(1), "ISR through the window");
        assertEquals(0, d.windowRead(1), "and the read cleared it");
    }

    @Test
    void pciCfgWindowIgnoresInvalidLengthsAndOffsets() {
        VirtioPciTransport t = rng();
        ModernPciDriver d = new ModernPciDriver(t.function());
        d.reset();
        d.window(4, STATUS, 3);
        d.windowWrite(1, ACKNOWLEDGE);
        d.window(4, STATUS, 0);
        d.windowWrite(1, ACKNOWLEDGE);
        d.window(4, NUM_QUEUES + 1, 2); // offset not a multiple of length
        d.windowWrite(2, 0xFFFF);
        d.window(4, 0x13, 2);
        d.windowWrite(2, 0x0101);
        assertEquals(0, d.status());
        d.window(4, STATUS, 8);
        assertDoesNotThrow(() -> d.windowRead(4));
        d.window(4, 0x4000, 4); // past BAR 4
        d.windowWrite(4, 1);
        assertEquals(0xFFFF_FFFF, d.windowRead(4), "outside the BAR reads all ones");
        d.window(3, 0, 4); // no BAR 3
        assertEquals(0xFFFF_FFFF, d.windowRead(4));
        d.window(9, 0, 4); // no such BAR at all: not executed, pci_cfg_data keeps its value
        assertEquals(0xFFFF_FFFF, d.windowRead(4));
    }

    // --- access rules -----------------------------------------------------------------------------

    /** §4.1.3.1: common configuration fields only at their natural width; anything else reads 0 and is dropped. */
    @Test
    void oddAccessesToCommonConfigAreDropped() {
        ModernPciDriver d = new ModernPciDriver(rng().function());
        d.reset();
        d.write(STATUS, 2, ACKNOWLEDGE);
        d.write(STATUS, 4, ACKNOWLEDGE);
        assertEquals(0, d.status(), "device_status is a byte");
        d.setStatus(ACKNOWLEDGE);
        assertEquals(0, d.read(STATUS, 2));
        assertEquals(0, d.read(STATUS - 2, 4), "a DWORD over config_msix_vector/num_queues... is not natural");
        assertEquals(1, d.read(NUM_QUEUES, 2));
        assertEquals(0, d.read(NUM_QUEUES, 1));
        assertEquals(0, d.read(NUM_QUEUES, 4));
        assertEquals(0, d.read(NUM_QUEUES + 1, 1));
        d.write(Q_SELECT, 1, 5);
        assertEquals(0, d.read(Q_SELECT, 2), "byte write to a 16-bit field dropped");
        d.write(DFSELECT, 2, 1);
        assertEquals(0, d.read(DFSELECT, 4));
        assertEquals(0, d.read(DFSELECT, 8), "no QWORD over two 32-bit fields");
        assertEquals(0, d.read(DF, 2));
        d.write(Q_DESCLO + 2, 4, 0x1234_5678);
        assertEquals(0, d.read(Q_DESCLO, 8), "misaligned half");
        d.write(Q_DESCHI, 8, -1L);
        assertEquals(0, d.read(Q_DESCLO, 8), "QWORD not at a 64-bit field");
        assertEquals(0, d.read(0x38, 2), "queue_notify_data is not implemented");
        assertEquals(0, d.read(0x3A, 2), "queue_reset is not implemented");
        assertEquals(0, d.read(0x800, 4), "rest of the common page");
        assertEquals(0, d.f.barRead(4, 0x2000, 4), "no device configuration");
        assertEquals(ACKNOWLEDGE, d.status());
    }

    @Test
    void accessesOutsideBarsReadAllOnes() {
        EndpointFunction f = rng().function();
        assertEquals(0xFFFF_FFFFL, f.barRead(4, 0x4000, 4));
        assertEquals(0xFFFF_FFFFL, f.barRead(0, 0, 4), "BAR 0 not implemented");
        assertEquals(0xFFFF_FFFFL, f.barRead(4, 0x3FFE, 4), "runs off the end");
        assertEquals(0, f.barRead(1, 0x100, 4), "BAR 1 between table and PBA: reserved, 0");
    }

    /** Whatever a guest does to the BARs, nothing throws into the vCPU. */
    @Test
    void randomAccessesNeverThrow() {
        VirtioPciTransport t = transport(new TestDevices.Echo());
        EndpointFunction f = t.function();
        Random random = new Random(1234);
        long[] hot = {
            0x0, 0x4, 0x8, 0xC, 0x10, 0x12, 0x14, 0x15, 0x16, 0x18, 0x1A, 0x1C, 0x1E, 0x20, 0x24, 0x28, 0x2C, 0x30,
            0x34, 0x1000, 0x2000, 0x2004, 0x3000, 0x3004
        };
        for (int i = 0; i < 50_000; i++) {
            int size = 1 + random.nextInt(8);
            long offset = random.nextInt(4) == 0 ? random.nextLong(0x4010) : hot[random.nextInt(hot.length)];
            long value = switch (random.nextInt(4)) {
                case 0 -> random.nextLong();
                case 1 -> random.nextInt(16);
                case 2 -> RAM + random.nextInt(1 << 20);
                default -> 1L << 32 | random.nextInt(256);
            };
            int bar = random.nextInt(10) == 0 ? 1 : 4;
            if (random.nextBoolean()) {
                f.barWrite(bar, offset, size, value);
            } else {
                f.barRead(bar, offset, size);
            }
        }
        assertDoesNotThrow(() -> t.function().reset());
        assertEquals(0, new ModernPciDriver(f).status());
    }
}
