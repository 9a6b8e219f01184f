package dev.jvmm.core.virtio.pci;

import static dev.jvmm.core.virtio.VirtioSpec.STATUS_DEVICE_NEEDS_RESET;
import static dev.jvmm.core.virtio.VirtioSpec.STATUS_DRIVER_BITS;
import static dev.jvmm.core.virtio.VirtioSpec.STATUS_DRIVER_OK;
import static dev.jvmm.core.virtio.VirtioSpec.STATUS_FEATURES_OK;
import static dev.jvmm.core.virtio.pci.VirtioPciSpec.*;

import dev.jvmm.core.bus.RateLimitedLogger;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.virtio.VirtioDevice;
import dev.jvmm.core.virtio.VirtioInterrupt;
import dev.jvmm.core.virtio.VirtioSpec;
import dev.jvmm.core.virtio.queue.SplitQueue;
import dev.jvmm.core.virtio.queue.VirtqueueException;
import dev.jvmm.pcie.BarHandler;
import dev.jvmm.pcie.EndpointFunction;
import dev.jvmm.pcie.config.BarDefinition;
import dev.jvmm.pcie.config.ConfigSpace;
import dev.jvmm.pcie.config.VendorSpecificCapability;
import dev.jvmm.pcie.spec.MsiSpec;
import dev.jvmm.pcie.util.Sizes;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

/**
 * The virtio 1.2 PCI transport (§4.1), modern only: one {@link EndpointFunction} that carries a {@link VirtioDevice}.
 *
 * <h2>Layout</h2>
 * Vendor 1AF4h, device 1040h + device type, revision 1, subsystem 1AF4h:1100h, the device type's class; no INTx,
 * no legacy I/O BAR (a transitional device would need one; Linux's modern driver does not).
 * <ul>
 *   <li>BAR 1, 32-bit memory: the MSI-X table at 0 and the PBA after it, {@code numQueues + 1} vectors (one per
 *       queue and one for configuration changes, what Linux asks for first).</li>
 *   <li>BAR 4, 64-bit prefetchable memory, {@value #REGS_BAR_SIZE} bytes, one 4 KiB page per structure: common
 *       configuration at {@value #COMMON_OFFSET}, ISR at {@value #ISR_OFFSET}, device configuration at
 *       {@value #DEVICE_CFG_OFFSET}, notifications at {@value #NOTIFY_OFFSET} with notify_off_multiplier
 *       {@value #NOTIFY_OFF_MULTIPLIER} and queue_notify_off = queue index. (Prefetchable although the ISR
 *       read has a side effect, as QEMU's virtio-pci: the driver maps it uncached either way.)</li>
 *   <li>Vendor-specific capabilities (struct virtio_pci_cap, §4.1.4) for COMMON_CFG, NOTIFY_CFG, ISR_CFG,
 *       DEVICE_CFG (only when the device has configuration space: §4.1.4.6 requires it only then, and Linux
 *       rejects a zero-length one) and PCI_CFG, a working window onto the BARs through configuration space
 *       (§4.1.4.9).</li>
 * </ul>
 *
 * <h2>Common configuration</h2>
 * Fields must be accessed with their natural width (§4.1.3.1), 64-bit fields also as two 32-bit halves; anything
 * else, and any access to bytes no structure covers, reads 0 and is dropped. 0 rather than all ones because the
 * access did reach the function (the BAR claims it): it is reserved register space, as in
 * {@link BarHandler#NONE}. queue_notify_data and queue_reset (1.2) are not implemented: they exist only with
 * VIRTIO_F_NOTIF_CONFIG_DATA and VIRTIO_F_RING_RESET, which are not offered, and the COMMON_CFG capability's
 * length ({@value VirtioPciSpec#COMMON_CFG_LENGTH}) ends before them.
 * <ul>
 *   <li>Status (§2.1, §3.1.1): writing 0 resets the device synchronously (queues, features, vectors, ISR,
 *       status), so the driver's read-back is 0. Otherwise the driver can only add bits (it "MUST NOT clear a
 *       device status bit"; DEVICE_NEEDS_RESET and the reserved bits are the device's). FEATURES_OK sticks only
 *       if the driver's features are a subset of the offered ones and include VERSION_1; DRIVER_OK only after
 *       FEATURES_OK, and it activates the device.</li>
 *   <li>Driver features are frozen once FEATURES_OK is set. A non-zero write to a driver feature window above
 *       bit 63 is an unknown feature: it makes FEATURES_OK fail until the next reset.</li>
 *   <li>Queue fields are ignored once DRIVER_OK is set (the driver "MUST NOT" write them then), and the size
 *       and ring addresses of a queue also once it is enabled. queue_size accepts a power of two up to the
 *       maximum; queue_enable accepts only 1 and validates the rings (SplitQueue.enable with the negotiated
 *       EVENT_IDX and INDIRECT_DESC); a queue that fails stays disabled and sets DEVICE_NEEDS_RESET. A
 *       queue_select beyond num_queues reads every queue field as 0 (queue_size 0: "unavailable") and drops
 *       writes to them.</li>
 *   <li>A vector at or above the MSI-X table size written to config_msix_vector or queue_msix_vector reads back
 *       NO_VECTOR (§4.1.5.1.2). config_msix_vector may be written at any time.</li>
 *   <li>Reading the ISR (one byte) returns and clears it (§4.1.4.5). config_generation changes whenever the
 *       device changes its configuration ({@link VirtioInterrupt#config}).</li>
 * </ul>
 *
 * <h2>Notifications and interrupts</h2>
 * A write of any width to queue q's notify slot, or {@link #notifyQueue} (the machine's ioeventfd path, one
 * registration per {@link #notifyRegions() region}), calls {@link VirtioDevice#queueNotified} on the calling
 * thread; kicks before DRIVER_OK, after DEVICE_NEEDS_RESET, or for unknown or disabled queues are ignored. A
 * {@link VirtqueueException} (or any exception) from the device sets DEVICE_NEEDS_RESET and sends a configuration
 * interrupt; nothing is ever thrown into the vCPU. Interrupts set the ISR bit and raise the event's MSI-X vector
 * through the {@linkplain #setInterruptSink sink}, by default {@link EndpointFunction#signal} (which applies
 * MSI-X enable, masks and the PBA). An event mapped to NO_VECTOR raises nothing: INTx is not modelled.
 *
 * <h2>Threads and locks</h2>
 * vCPU threads access the registers; the event loop calls {@link #notifyQueue}. Locks, always taken in this
 * order: the function's {@link ConfigSpace} lock (only on the PCI_CFG window path), then the transport lock
 * (common configuration), then the queue locks in ascending order (one per queue, held while the device processes
 * that queue, and all of them by a reset), then the device-configuration lock (device config accesses,
 * config_generation), then the device's own locks and MSI-X. Queue processing never takes the transport lock:
 * status and ISR are atomics. Interrupts raised while this thread processes a queue are deferred until its queue
 * lock is released, so no lock of this transport is held while a message is sent (except on the PCI_CFG window
 * path, where the configuration space lock is held by the caller); a deferred interrupt is dropped if the device
 * was reset in between. A reset waits for every queue's processing to finish, so nothing touches guest memory for
 * the device after the status write of 0 returns.
 */
public final class VirtioPciTransport {
    /** BAR holding the MSI-X table and PBA. */
    public static final int MSIX_BAR = 1;
    /** BAR holding the virtio structures. */
    public static final int REGS_BAR = 4;

    public static final long REGS_BAR_SIZE = 0x4000;
    public static final long COMMON_OFFSET = 0x0000;
    public static final long ISR_OFFSET = 0x1000;
    public static final long DEVICE_CFG_OFFSET = 0x2000;
    public static final long NOTIFY_OFFSET = 0x3000;
    public static final int NOTIFY_OFF_MULTIPLIER = 4;
    /** Most queues a device may have: one notify slot each in the 4 KiB notify page. */
    public static final int MAX_QUEUES = 0x1000 / NOTIFY_OFF_MULTIPLIER;
    /** Largest device configuration space: one page. */
    public static final int MAX_CONFIG_SIZE = 0x1000;
    /** Largest split virtqueue (§2.7). */
    public static final int MAX_QUEUE_SIZE = 32768;

    /**
     * Where a write kicks queue {@code queue}: {@code offset} bytes into BAR {@code bar}. Linux writes the queue
     * index as 16 bits there; any width kicks, so an ioeventfd may match any length.
     */
    public record NotifyRegion(int bar, long offset, int queue) {}

    private static final System.Logger LOG = System.getLogger(VirtioPciTransport.class.getName());
    private static final long VERSION_1 = VirtioSpec.bit(VirtioSpec.F_VERSION_1);
    private static final long INDIRECT_DESC = VirtioSpec.bit(VirtioSpec.F_RING_INDIRECT_DESC);
    private static final long EVENT_IDX = VirtioSpec.bit(VirtioSpec.F_RING_EVENT_IDX);

    private final String name;
    private final VirtioDevice device;
    private final int numQueues;
    private final int msixVectors;
    private final int configSize;
    private final long offeredFeatures;
    private final EndpointFunction function;
    private final VendorSpecificCapability pciCfgCap;
    private final List<NotifyRegion> notifyRegions;
    private final RateLimitedLogger guestErrors = new RateLimitedLogger(LOG);

    // --- transport lock: common configuration -----------------------------------------------------
    private final Object lock = new Object();
    private final QueueState[] queueState;
    private int deviceFeatureSelect;
    private int driverFeatureSelect;
    private long driverFeatures;
    private boolean unknownFeaturesWritten;
    private int queueSelect;

    // --- shared with queue processing (atomics / volatile; see the class comment) ----------------
    private final SplitQueue[] queues;
    private final ReentrantLock[] queueLocks;
    private final AtomicInteger status = new AtomicInteger();
    private final AtomicInteger isr = new AtomicInteger();
    private final AtomicIntegerArray queueVectors;
    private volatile int configVector = NO_VECTOR;
    /** Changes at every reset (written with every queue lock held), so stale interrupt handles fall silent. */
    private volatile long epoch;

    private volatile IntConsumer sink;
    private final ThreadLocal<Deferred> deferred = ThreadLocal.withInitial(Deferred::new);

    // --- device-configuration lock ----------------------------------------------------------------
    private final Object configLock = new Object();
    private volatile int configGeneration;

    /** Per-queue driver settings, guarded by the transport lock; {@code enabled} also by the queue's lock. */
    private static final class QueueState {
        final int maxSize;
        int size;
        long desc;
        long driver;
        long device;
        boolean enabled;

        QueueState(int maxSize) {
            this.maxSize = maxSize;
            clear();
        }

        void clear() {
            size = maxSize;
            desc = driver = device = 0;
            enabled = false;
        }
    }

    /** Interrupts raised by this thread while it processes a queue, sent when it is done. */
    private static final class Deferred {
        int depth;
        long epoch;
        final BitSet vectors = new BitSet();
    }

    /** A PCI Express endpoint carrying {@code device}, named after its type in logs. */
    public VirtioPciTransport(VirtioDevice device, GuestMemory memory) {
        this("virtio-" + device.type().name().toLowerCase(java.util.Locale.ROOT), device, memory, false);
    }

    /**
     * @param name       the device's name in log messages
     * @param device     the device type to carry
     * @param memory     guest RAM, where the device's virtqueues live
     * @param integrated a Root Complex Integrated Endpoint (on a root bus) rather than an endpoint below a port
     * @throws IllegalArgumentException if the device's description is out of range (a VMM bug)
     */
    public VirtioPciTransport(String name, VirtioDevice device, GuestMemory memory, boolean integrated) {
        this.name = Objects.requireNonNull(name);
        this.device = Objects.requireNonNull(device);
        Objects.requireNonNull(memory);
        this.numQueues = device.numQueues();
        if (numQueues < 1 || numQueues > MAX_QUEUES) {
            throw new IllegalArgumentException(
                    "virtio device with " + numQueues + " queues; 1-" + MAX_QUEUES + " supported");
        }
        long deviceFeatures = device.features();
        if ((deviceFeatures & VirtioSpec.TRANSPORT_FEATURE_MASK) != 0) {
            throw new IllegalArgumentException("device offers reserved feature bits 0x"
                    + Long.toHexString(deviceFeatures & VirtioSpec.TRANSPORT_FEATURE_MASK)
                    + " (24-49 belong to the transport)");
        }
        this.offeredFeatures = deviceFeatures | VERSION_1 | INDIRECT_DESC | EVENT_IDX;
        this.configSize = device.configSize();
        if (configSize < 0 || configSize > MAX_CONFIG_SIZE) {
            throw new IllegalArgumentException(
                    "device configuration of " + configSize + " bytes; 0-" + MAX_CONFIG_SIZE + " supported");
        }
        this.queues = new SplitQueue[numQueues];
        this.queueState = new QueueState[numQueues];
        this.queueLocks = new ReentrantLock[numQueues];
        this.queueVectors = new AtomicIntegerArray(numQueues);
        List<NotifyRegion> regions = new ArrayList<>(numQueues);
        for (int q = 0; q < numQueues; q++) {
            int max = device.queueMaxSize(q);
            if (max < 1 || max > MAX_QUEUE_SIZE || !Sizes.isPowerOfTwo(max)) {
                throw new IllegalArgumentException(
                        "queue " + q + " maximum size " + max + " is not a power of two 1-32768");
            }
            queues[q] = new SplitQueue(memory, max);
            queueState[q] = new QueueState(max);
            queueLocks[q] = new ReentrantLock();
            queueVectors.set(q, NO_VECTOR);
            regions.add(new NotifyRegion(REGS_BAR, NOTIFY_OFFSET + (long) q * NOTIFY_OFF_MULTIPLIER, q));
        }
        this.notifyRegions = List.copyOf(regions);
        this.msixVectors = numQueues + 1;

        long tableLength = (long) msixVectors * MsiSpec.MSIX_ENTRY_SIZE;
        long pbaOffset = Sizes.alignUp(tableLength, 0x800);
        long pbaLength = (msixVectors + 63) / 64 * 8L;
        long msixBarSize = Math.max(0x1000, Long.highestOneBit(pbaOffset + pbaLength - 1) << 1);

        EndpointFunction.Builder b = EndpointFunction.builder(
                        VENDOR_ID,
                        DEVICE_ID_BASE + device.type().id(),
                        device.type().pciClassCode())
                .revision(REVISION_ID)
                .subsystem(SUBSYSTEM_VENDOR_ID, SUBSYSTEM_ID)
                .bar(MSIX_BAR, BarDefinition.memory32(msixBarSize))
                .bar(REGS_BAR, BarDefinition.memory64(REGS_BAR_SIZE, true))
                .msix(msixVectors, MSIX_BAR, 0, MSIX_BAR, pbaOffset)
                .vendorCapability(cap(CAP_COMMON_CFG, COMMON_OFFSET, COMMON_CFG_LENGTH, CAP_SIZE))
                .vendorCapability(
                        cap(CAP_NOTIFY_CFG, NOTIFY_OFFSET, (long) numQueues * NOTIFY_OFF_MULTIPLIER, NOTIFY_CAP_SIZE))
                .vendorCapability(cap(CAP_ISR_CFG, ISR_OFFSET, 1, CAP_SIZE));
        if (integrated) {
            b.rootComplexIntegrated();
        }
        if (configSize > 0) {
            b.vendorCapability(cap(CAP_DEVICE_CFG, DEVICE_CFG_OFFSET, configSize, CAP_SIZE));
        }
        this.pciCfgCap = pciCfgCapability();
        b.vendorCapability(pciCfgCap).barHandler(new Registers());
        this.function = b.build();
        this.sink = function::signal;

        ConfigSpace cs = function.configSpace();
        int data = pciCfgCap.offset() + PCI_CFG_CAP_DATA;
        cs.onWrite(data, 4, this::pciCfgWrite);
        cs.onRead(data, 4, this::pciCfgRead);
    }

    /** A struct virtio_pci_cap (or notify cap) body from byte 3 on, read-only. */
    private static VendorSpecificCapability cap(int cfgType, long offset, long length, int capSize) {
        byte[] body = new byte[capSize - 3];
        body[CAP_CFG_TYPE - 3] = (byte) cfgType;
        body[CAP_BAR - 3] = (byte) REGS_BAR;
        putLe32(body, CAP_OFFSET - 3, offset);
        putLe32(body, CAP_LENGTH - 3, length);
        if (cfgType == CAP_NOTIFY_CFG) {
            putLe32(body, NOTIFY_CAP_MULTIPLIER - 3, NOTIFY_OFF_MULTIPLIER);
        }
        return new VendorSpecificCapability(body, new byte[body.length]);
    }

    /** struct virtio_pci_cfg_cap: bar, offset, length and pci_cfg_data are RW (§4.1.4.9.1), all start 0. */
    private static VendorSpecificCapability pciCfgCapability() {
        byte[] body = new byte[PCI_CFG_CAP_SIZE - 3];
        body[CAP_CFG_TYPE - 3] = (byte) CAP_PCI_CFG;
        byte[] rw = new byte[body.length];
        rw[CAP_BAR - 3] = (byte) 0xFF;
        for (int i = CAP_OFFSET - 3; i < PCI_CFG_CAP_SIZE - 3; i++) {
            rw[i] = (byte) 0xFF; // offset, length, pci_cfg_data
        }
        return new VendorSpecificCapability(body, rw);
    }

    private static void putLe32(byte[] b, int at, long v) {
        for (int i = 0; i < 4; i++) {
            b[at + i] = (byte) (v >>> (8 * i));
        }
    }

    // --- public API -------------------------------------------------------------------------------

    /** The PCI function to attach under a port. */
    public EndpointFunction function() {
        return function;
    }

    public VirtioDevice device() {
        return device;
    }

    public String name() {
        return name;
    }

    /** One notify slot per queue, for the machine's ioeventfds (at BAR {@value #REGS_BAR}'s current address). */
    public List<NotifyRegion> notifyRegions() {
        return notifyRegions;
    }

    /**
     * The driver kicked queue {@code queue} (the ioeventfd path): processes it on this thread. Ignored before
     * DRIVER_OK, after DEVICE_NEEDS_RESET, and for unknown or disabled queues. Never throws.
     */
    public void notifyQueue(int queue) {
        if (queue < 0 || queue >= numQueues) {
            return;
        }
        ReentrantLock l = queueLocks[queue];
        l.lock();
        beginProcessing(); // after the lock: no reset can change the epoch until it is released
        try {
            if ((status.get() & (STATUS_DRIVER_OK | STATUS_DEVICE_NEEDS_RESET)) != STATUS_DRIVER_OK
                    || !queueState[queue].enabled) {
                return;
            }
            try {
                device.queueNotified(queue);
            } catch (VirtqueueException | RuntimeException e) {
                deviceFailed("queue " + queue, e);
            }
        } finally {
            l.unlock();
            endProcessing();
        }
    }

    /**
     * Where interrupts go: {@code raiseVector} receives MSI-X vector numbers (the machine's irqfd fast path).
     * The default raises them through {@link EndpointFunction#signal}.
     */
    public void setInterruptSink(IntConsumer raiseVector) {
        this.sink = Objects.requireNonNull(raiseVector);
    }

    // --- interrupts -------------------------------------------------------------------------------

    private void beginProcessing() {
        Deferred d = deferred.get();
        if (d.depth++ == 0) {
            d.epoch = epoch;
        }
    }

    private void endProcessing() {
        Deferred d = deferred.get();
        if (--d.depth > 0 || d.vectors.isEmpty()) {
            return;
        }
        boolean current = d.epoch == epoch;
        for (int v = d.vectors.nextSetBit(0); v >= 0; v = d.vectors.nextSetBit(v + 1)) {
            if (current) {
                send(v);
            }
        }
        d.vectors.clear();
    }

    private void raise(int vector) {
        if (vector < 0 || vector >= msixVectors) {
            return; // NO_VECTOR: INTx is not modelled
        }
        Deferred d = deferred.get();
        if (d.depth > 0) {
            d.vectors.set(vector);
        } else {
            send(vector);
        }
    }

    private void send(int vector) {
        try {
            sink.accept(vector);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, name + ": interrupt sink failed for vector " + vector, e);
        }
    }

    private void queueInterrupt(int queue) {
        isr.getAndUpdate(v -> v | ISR_QUEUE);
        raise(queueVectors.get(queue));
    }

    private void configInterrupt() {
        isr.getAndUpdate(v -> v | ISR_CONFIG);
        raise(configVector);
    }

    /** Sets DEVICE_NEEDS_RESET (§2.1.2) and, with DRIVER_OK set, tells the driver with a configuration interrupt. */
    private void deviceFailed(String where, Exception e) {
        int before = status.getAndUpdate(s -> s | STATUS_DEVICE_NEEDS_RESET);
        guestErrors.log(Level.WARNING, "%s: %s: %s; device needs reset", name, where, e);
        if (e instanceof RuntimeException) {
            LOG.log(Level.DEBUG, "virtio-pci device failure", e);
        }
        if ((before & STATUS_DRIVER_OK) != 0 && (before & STATUS_DEVICE_NEEDS_RESET) == 0) {
            configInterrupt();
        }
    }

    /** The handle a device gets at activation; silent once the device has been reset. */
    private final class Interrupt implements VirtioInterrupt {
        private final long activeEpoch;

        Interrupt(long activeEpoch) {
            this.activeEpoch = activeEpoch;
        }

        @Override
        public void queue(int queue) {
            if (activeEpoch == epoch && queue >= 0 && queue < numQueues) {
                queueInterrupt(queue);
            }
        }

        @Override
        public void config() {
            config(() -> {});
        }

        @Override
        public void config(Runnable change) {
            synchronized (configLock) {
                change.run();
                configGeneration = (configGeneration + 1) & 0xFF;
            }
            if (activeEpoch == epoch && (status.get() & STATUS_DRIVER_OK) != 0) {
                configInterrupt();
            }
        }
    }

    // --- reset ------------------------------------------------------------------------------------

    /** Device reset (§2.4): waits for queue processing to finish, then clears everything. Transport lock held. */
    private void resetLocked() {
        for (ReentrantLock l : queueLocks) {
            l.lock();
        }
        try {
            epoch++;
            try {
                device.reset();
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, name + ": device reset failed", e);
            }
            for (int q = 0; q < numQueues; q++) {
                queues[q].reset();
                queueState[q].clear();
                queueVectors.set(q, NO_VECTOR);
            }
            deviceFeatureSelect = 0;
            driverFeatureSelect = 0;
            driverFeatures = 0;
            unknownFeaturesWritten = false;
            queueSelect = 0;
            configVector = NO_VECTOR;
            isr.set(0);
            status.set(0);
        } finally {
            for (int q = numQueues - 1; q >= 0; q--) {
                queueLocks[q].unlock();
            }
        }
    }

    // --- status -----------------------------------------------------------------------------------

    private void writeStatus(int value) {
        value &= 0xFF;
        if (value == 0) {
            resetLocked();
            return;
        }
        int old = status.get();
        int next = old | (value & STATUS_DRIVER_BITS);
        if ((next & STATUS_FEATURES_OK) != 0 && (old & STATUS_FEATURES_OK) == 0 && !featuresAcceptable()) {
            next &= ~STATUS_FEATURES_OK; // §3.1.1 step 6: the driver re-reads status and sees it refused
        }
        if ((next & STATUS_DRIVER_OK) != 0 && (old & STATUS_DRIVER_OK) == 0) {
            if ((next & STATUS_FEATURES_OK) == 0) {
                next &= ~STATUS_DRIVER_OK; // a 1.x device cannot run without negotiated features
            } else if ((old & STATUS_DEVICE_NEEDS_RESET) == 0) {
                try {
                    device.activate(driverFeatures, List.of(queues), new Interrupt(epoch));
                } catch (RuntimeException e) {
                    next |= STATUS_DEVICE_NEEDS_RESET;
                    LOG.log(Level.WARNING, name + ": activation failed", e);
                }
            }
        }
        int set = next;
        status.getAndUpdate(s -> set | (s & STATUS_DEVICE_NEEDS_RESET));
    }

    private boolean featuresAcceptable() {
        return (driverFeatures & ~offeredFeatures) == 0 && !unknownFeaturesWritten && (driverFeatures & VERSION_1) != 0;
    }

    private boolean driverOk() {
        return (status.get() & STATUS_DRIVER_OK) != 0;
    }

    // --- common configuration ---------------------------------------------------------------------

    /** The natural width of the field at {@code offset}, 0 if no field starts there. */
    private static int fieldWidth(int offset) {
        return switch (offset) {
            case DEVICE_FEATURE_SELECT, DEVICE_FEATURE, DRIVER_FEATURE_SELECT, DRIVER_FEATURE -> 4;
            case CONFIG_MSIX_VECTOR,
                    NUM_QUEUES,
                    QUEUE_SELECT,
                    QUEUE_SIZE,
                    QUEUE_MSIX_VECTOR,
                    QUEUE_ENABLE,
                    QUEUE_NOTIFY_OFF -> 2;
            case DEVICE_STATUS, CONFIG_GENERATION -> 1;
            case QUEUE_DESC, QUEUE_DRIVER, QUEUE_DEVICE -> 8;
            default -> 0;
        };
    }

    /** §4.1.3.1: natural width, or a 32-bit half of a 64-bit field. */
    private static boolean naturalAccess(long offset, int size) {
        if (offset < 0 || offset + size > COMMON_CFG_LENGTH) {
            return false;
        }
        int o = (int) offset;
        if (size == 4 && o >= QUEUE_DESC && (o & 3) == 0) {
            return true;
        }
        return fieldWidth(o) == size;
    }

    private long commonRead(long offset, int size) {
        if (!naturalAccess(offset, size)) {
            guestErrors.log(Level.DEBUG, "%s: common config read of %d bytes at 0x%x dropped", name, size, offset);
            return 0;
        }
        int o = (int) offset;
        synchronized (lock) {
            QueueState qs = queueSelect < numQueues ? queueState[queueSelect] : null;
            return switch (o) {
                case DEVICE_FEATURE_SELECT -> Integer.toUnsignedLong(deviceFeatureSelect);
                case DEVICE_FEATURE -> featureWindow(offeredFeatures, deviceFeatureSelect);
                case DRIVER_FEATURE_SELECT -> Integer.toUnsignedLong(driverFeatureSelect);
                case DRIVER_FEATURE -> featureWindow(driverFeatures, driverFeatureSelect);
                case CONFIG_MSIX_VECTOR -> configVector;
                case NUM_QUEUES -> numQueues;
                case DEVICE_STATUS -> status.get();
                case CONFIG_GENERATION -> configGeneration;
                case QUEUE_SELECT -> queueSelect;
                case QUEUE_SIZE -> qs == null ? 0 : qs.size;
                case QUEUE_MSIX_VECTOR -> qs == null ? 0 : queueVectors.get(queueSelect);
                case QUEUE_ENABLE -> qs == null ? 0 : qs.enabled ? 1 : 0;
                case QUEUE_NOTIFY_OFF -> qs == null ? 0 : queueSelect;
                default -> {
                    long v = qs == null
                            ? 0
                            : switch (o & ~7) {
                                case QUEUE_DESC -> qs.desc;
                                case QUEUE_DRIVER -> qs.driver;
                                default -> qs.device;
                            };
                    yield size == 8 ? v : (v >>> (8 * (o & 4))) & 0xFFFF_FFFFL;
                }
            };
        }
    }

    private static long featureWindow(long features, int select) {
        return switch (select) {
            case 0 -> features & 0xFFFF_FFFFL;
            case 1 -> features >>> 32;
            default -> 0;
        };
    }

    private void commonWrite(long offset, int size, long value) {
        if (!naturalAccess(offset, size)) {
            guestErrors.log(Level.DEBUG, "%s: common config write of %d bytes at 0x%x dropped", name, size, offset);
            return;
        }
        int o = (int) offset;
        int v32 = (int) value;
        int v16 = (int) value & 0xFFFF;
        synchronized (lock) {
            switch (o) {
                case DEVICE_FEATURE_SELECT -> deviceFeatureSelect = v32;
                case DRIVER_FEATURE_SELECT -> driverFeatureSelect = v32;
                case DRIVER_FEATURE -> writeDriverFeatures(v32);
                case CONFIG_MSIX_VECTOR -> configVector = validVector(v16);
                case DEVICE_STATUS -> writeStatus(v32);
                case QUEUE_SELECT -> queueSelect = v16;
                case QUEUE_SIZE, QUEUE_MSIX_VECTOR, QUEUE_ENABLE -> writeQueueField(o, v16, 0, size);
                case DEVICE_FEATURE, NUM_QUEUES, CONFIG_GENERATION, QUEUE_NOTIFY_OFF -> {} // read-only
                default -> writeQueueField(o, 0, value, size);
            }
        }
    }

    private void writeDriverFeatures(int value) {
        if ((status.get() & STATUS_FEATURES_OK) != 0) {
            return; // §3.1.1 step 5: no new feature bits after FEATURES_OK
        }
        long v = Integer.toUnsignedLong(value);
        switch (driverFeatureSelect) {
            case 0 -> driverFeatures = (driverFeatures & 0xFFFF_FFFF_0000_0000L) | v;
            case 1 -> driverFeatures = (driverFeatures & 0xFFFF_FFFFL) | v << 32;
            default -> unknownFeaturesWritten |= v != 0;
        }
    }

    private int validVector(int vector) {
        return vector < msixVectors ? vector : NO_VECTOR;
    }

    private void writeQueueField(int o, int v16, long value, int size) {
        if (queueSelect >= numQueues || driverOk()) {
            return; // unknown queue, or DRIVER_OK set: the driver "MUST NOT" change queue fields any more
        }
        int q = queueSelect;
        QueueState qs = queueState[q];
        if (o == QUEUE_MSIX_VECTOR) {
            queueVectors.set(q, validVector(v16));
            return;
        }
        if (qs.enabled) {
            return; // size and rings are fixed once the queue is enabled
        }
        switch (o) {
            case QUEUE_SIZE -> {
                if (v16 >= 1 && v16 <= qs.maxSize && Sizes.isPowerOfTwo(v16)) {
                    qs.size = v16;
                }
            }
            case QUEUE_ENABLE -> {
                if (v16 == 1) {
                    enableQueue(q); // writing 0 is not allowed (§4.1.4.3.2): ignored
                }
            }
            default -> {
                int field = o & ~7;
                long old = switch (field) {
                    case QUEUE_DESC -> qs.desc;
                    case QUEUE_DRIVER -> qs.driver;
                    default -> qs.device;
                };
                long updated;
                if (size == 8) {
                    updated = value;
                } else if ((o & 4) == 0) {
                    updated = (old & 0xFFFF_FFFF_0000_0000L) | (value & 0xFFFF_FFFFL);
                } else {
                    updated = (old & 0xFFFF_FFFFL) | (value & 0xFFFF_FFFFL) << 32;
                }
                switch (field) {
                    case QUEUE_DESC -> qs.desc = updated;
                    case QUEUE_DRIVER -> qs.driver = updated;
                    default -> qs.device = updated;
                }
            }
        }
    }

    /** queue_enable = 1: hand the driver's settings to the queue and validate them. Transport lock held. */
    private void enableQueue(int q) {
        QueueState qs = queueState[q];
        SplitQueue queue = queues[q];
        ReentrantLock l = queueLocks[q];
        l.lock();
        try {
            queue.setSize(qs.size);
            queue.setDescriptorTable(qs.desc);
            queue.setAvailRing(qs.driver);
            queue.setUsedRing(qs.device);
            queue.enable((driverFeatures & EVENT_IDX) != 0, (driverFeatures & INDIRECT_DESC) != 0);
            qs.enabled = true;
        } catch (VirtqueueException | RuntimeException e) {
            queue.reset();
            deviceFailed("enabling queue " + q, e);
        } finally {
            l.unlock();
        }
    }

    // --- ISR, device configuration, notify ---------------------------------------------------------

    private long isrRead(long offset, int size) {
        if (offset != ISR_OFFSET || size != 1) {
            return 0;
        }
        return isr.getAndSet(0); // §4.1.4.5: reading resets the ISR to 0
    }

    private boolean deviceConfigAccess(long at, int size) {
        return (size == 1 || size == 2 || size == 4 || size == 8)
                && at >= 0
                && at + size <= configSize
                && (at & (size - 1)) == 0;
    }

    private long deviceConfigRead(long offset, int size) {
        long at = offset - DEVICE_CFG_OFFSET;
        if (!deviceConfigAccess(at, size)) {
            return 0;
        }
        synchronized (configLock) {
            long v = device.readConfig((int) at, size);
            return v & Sizes.sizeMask(size);
        }
    }

    private void deviceConfigWrite(long offset, int size, long value) {
        long at = offset - DEVICE_CFG_OFFSET;
        if (!deviceConfigAccess(at, size)) {
            return;
        }
        synchronized (configLock) {
            device.writeConfig((int) at, size, value & Sizes.sizeMask(size));
        }
    }

    private void notifyWrite(long offset) {
        long at = offset - NOTIFY_OFFSET;
        if (at >= 0 && at < (long) numQueues * NOTIFY_OFF_MULTIPLIER) {
            notifyQueue((int) (at / NOTIFY_OFF_MULTIPLIER));
        }
    }

    /** BAR 4's registers (the MSI-X table and PBA in BAR 1 are served by the function itself). */
    private final class Registers implements BarHandler {
        @Override
        public long read(int bar, long offset, int size) {
            if (bar != REGS_BAR) {
                return 0;
            }
            try {
                if (offset < ISR_OFFSET) {
                    return commonRead(offset, size);
                } else if (offset < DEVICE_CFG_OFFSET) {
                    return isrRead(offset, size);
                } else if (offset < NOTIFY_OFFSET) {
                    return deviceConfigRead(offset, size);
                }
                return 0; // notify: write-only
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, name + ": read at 0x" + Long.toHexString(offset) + " failed", e);
                return 0;
            }
        }

        @Override
        public void write(int bar, long offset, int size, long value) {
            if (bar != REGS_BAR) {
                return;
            }
            try {
                if (offset < ISR_OFFSET) {
                    commonWrite(offset, size, value);
                } else if (offset >= DEVICE_CFG_OFFSET && offset < NOTIFY_OFFSET) {
                    deviceConfigWrite(offset, size, value);
                } else if (offset >= NOTIFY_OFFSET) {
                    notifyWrite(offset);
                }
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, name + ": write at 0x" + Long.toHexString(offset) + " failed", e);
            }
        }

        /** Function reset (FLR, hot reset): the virtio device is reset too. */
        @Override
        public void reset() {
            synchronized (lock) {
                resetLocked();
            }
        }
    }

    // --- PCI_CFG window (§4.1.4.9) ------------------------------------------------------------------

    /**
     * A window access the device executes: BAR 0-5, length 1, 2 or 4 and offset a multiple of it (the driver's
     * obligations in §4.1.4.9.2); anything else is not executed: a write is dropped, a read leaves pci_cfg_data
     * as it was.
     */
    private record Window(int bar, long offset, int length) {
        boolean valid() {
            return bar >= 0 && bar < 6 && (length == 1 || length == 2 || length == 4) && offset % length == 0;
        }
    }

    private Window window() {
        ConfigSpace cs = function.configSpace();
        int cap = pciCfgCap.offset();
        return new Window(cs.getInt(cap + CAP_BAR, 1), cs.get(cap + CAP_OFFSET, 4), cs.getInt(cap + CAP_LENGTH, 4));
    }

    /**
     * Driver write to pci_cfg_data: write the first cap.length bytes at cap.offset in cap.bar. Runs under the
     * configuration space lock, also after a function reset (when cap.length is 0 and nothing happens).
     */
    private void pciCfgWrite() {
        Window w = window();
        if (!w.valid()) {
            return;
        }
        long data = function.configSpace().get(pciCfgCap.offset() + PCI_CFG_CAP_DATA, w.length());
        function.barWrite(w.bar(), w.offset(), w.length(), data);
    }

    /** Driver read of pci_cfg_data: read cap.length bytes at cap.offset in cap.bar into it first. */
    private void pciCfgRead() {
        Window w = window();
        if (!w.valid()) {
            return;
        }
        long data = function.barRead(w.bar(), w.offset(), w.length());
        function.configSpace().set(pciCfgCap.offset() + PCI_CFG_CAP_DATA, w.length(), data);
    }
}
