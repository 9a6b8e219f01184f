package dev.jvmm.pcie;

import dev.jvmm.pcie.msi.MsiSink;
import dev.jvmm.pcie.spec.PciSpec;
import dev.jvmm.pcie.util.Sizes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A PCI Express Root Complex for one PCI segment, with an ECAM window over buses {@code firstBus..lastBus}
 * (PCIe Base 6.0 §7.2.2). Offset 0 of the window is bus {@code firstBus}, as a device tree {@code bus-range}
 * describes it; an ACPI MCFG entry names the base of bus 0, {@code window - (firstBus << 20)}.
 *
 * <pre>
 * ECAM offset:  27      20 19    15 14   12 11          0
 *              | bus-first | device | func |   register   |
 * </pre>
 *
 * <p>The root bus is {@code firstBus}. Root Ports and Root Complex Integrated Endpoints sit on it at fixed
 * device numbers; every other bus is reached through the first Root Port (by device number) whose
 * secondary..subordinate range holds it, following the bus numbers the guest programmed (§7.3.3). The root
 * complex never assigns bus numbers.
 *
 * <p>Whatever decodes to nothing (a hole in the root bus, an empty or unprogrammed port, a device number
 * other than 0 on a link, an absent function, an access ECAM cannot express) completes as an Unsupported
 * Request, which the root complex returns to the processor as all ones; writes are dropped (§7.3.1; PCI
 * Local Bus 3.0 §6.2.1 for the FFFFh Vendor ID). No guest access throws.
 *
 * <p>ECAM accesses are serialised on this object: vCPUs may call from several threads.
 */
public final class RootComplex {
    private final String name;
    private final int segment;
    private final int firstBus;
    private final int lastBus;
    private final RootPort[] portsByDevice = new RootPort[PciSpec.MAX_DEVICES_PER_BUS];
    private final Endpoint[] endpointsByDevice = new Endpoint[PciSpec.MAX_DEVICES_PER_BUS];
    private final List<RootPort> rootPorts = new ArrayList<>();
    private final InterruptDomain domain = new InterruptDomain();

    /**
     * @param segment  PCI segment (domain) number, 0..65535
     * @param firstBus root bus number, 0..255
     * @param busCount buses in the ECAM window, 1..256-firstBus
     */
    RootComplex(String name, int segment, int firstBus, int busCount) {
        this.name = Objects.requireNonNull(name);
        if (segment < 0 || segment > 0xFFFF) {
            throw new IllegalArgumentException("segment " + segment + " out of range 0-65535");
        }
        if (firstBus < 0 || firstBus > 0xFF || busCount < 1 || firstBus + busCount > 256) {
            throw new IllegalArgumentException("buses " + firstBus + "+" + busCount + " do not fit in 0-255");
        }
        this.segment = segment;
        this.firstBus = firstBus;
        this.lastBus = firstBus + busCount - 1;
    }

    public String name() {
        return name;
    }

    public int segment() {
        return segment;
    }

    public int firstBus() {
        return firstBus;
    }

    public int lastBus() {
        return lastBus;
    }

    /** Bytes of the ECAM window: 1 MiB per bus. */
    public long ecamSize() {
        return (long) (lastBus - firstBus + 1) * PciSpec.ECAM_BYTES_PER_BUS;
    }

    public List<RootPort> rootPorts() {
        return List.copyOf(rootPorts);
    }

    /** The RCiEPs with their device numbers. */
    public List<Endpoint> integratedEndpoints() {
        List<Endpoint> list = new ArrayList<>();
        for (Endpoint e : endpointsByDevice) {
            if (e != null) {
                list.add(e);
            }
        }
        return list;
    }

    /** Where this segment's MSIs go; before this is called they are dropped. */
    public void connectMsiSink(MsiSink sink) {
        domain.connect(sink);
    }

    /**
     * Runs {@code listener} whenever the guest changes any bus number below this root complex, so routes that
     * captured a devid can be rebuilt. It runs on the vCPU thread with configuration locks held and must not
     * access configuration space.
     */
    public void addBusNumberListener(Runnable listener) {
        domain.addBusNumberListener(listener);
    }

    synchronized void addRootPort(RootPort port) {
        int dev = port.deviceNumber();
        requireFree(dev);
        portsByDevice[dev] = port;
        rootPorts.add(port);
        rootPorts.sort(Comparator.comparingInt(RootPort::deviceNumber));
        port.bind(() -> firstBus, dev, domain);
    }

    synchronized void addIntegratedEndpoint(int deviceNumber, Endpoint endpoint) {
        requireFree(deviceNumber);
        endpointsByDevice[deviceNumber] = endpoint;
        endpoint.bind(() -> firstBus, deviceNumber, domain);
    }

    private void requireFree(int dev) {
        if (dev < 0 || dev >= PciSpec.MAX_DEVICES_PER_BUS) {
            throw new IllegalArgumentException("device number " + dev + " out of range 0-31");
        }
        if (portsByDevice[dev] != null || endpointsByDevice[dev] != null) {
            throw new IllegalArgumentException(
                    "root complex '" + name + "': device " + dev + " on the root bus is taken");
        }
    }

    /** An ECAM read of {@code size} bytes at {@code offset} into the window. */
    public long read(long offset, int size) {
        if (!isValidEcamAccess(offset, size)) {
            return Sizes.sizeMask(size);
        }
        int reg = (int) (offset & PciSpec.ECAM_REGISTER_MASK);
        synchronized (this) {
            PciFunction target = resolve(offset);
            if (target == null) {
                return Sizes.sizeMask(size);
            }
            return Integer.toUnsignedLong(target.configRead(reg, size)) & Sizes.sizeMask(size);
        }
    }

    /** An ECAM write; dropped when it reaches nothing. */
    public void write(long offset, int size, long value) {
        if (!isValidEcamAccess(offset, size)) {
            return;
        }
        int reg = (int) (offset & PciSpec.ECAM_REGISTER_MASK);
        synchronized (this) {
            PciFunction target = resolve(offset);
            if (target != null) {
                target.configWrite(reg, size, (int) value);
            }
        }
    }

    /** ECAM turns 1, 2 or 4-byte naturally aligned accesses inside the window into one request. */
    private boolean isValidEcamAccess(long offset, int size) {
        return (size == 1 || size == 2 || size == 4)
                && offset >= 0
                && offset <= ecamSize() - size
                && (offset & (size - 1)) == 0;
    }

    private PciFunction resolve(long offset) {
        int bus = firstBus + (int) (offset >>> PciSpec.ECAM_BUS_SHIFT);
        int device = (int) (offset >>> PciSpec.ECAM_DEVICE_SHIFT) & 0x1F;
        int function = (int) (offset >>> PciSpec.ECAM_FUNCTION_SHIFT) & 0x7;
        return resolve(bus, device, function);
    }

    /** The function that a configuration request for {@code bus:device.function} reaches now, or null. */
    synchronized PciFunction resolve(int bus, int device, int function) {
        if (bus == firstBus) {
            if (device < 0 || device >= PciSpec.MAX_DEVICES_PER_BUS) {
                return null;
            }
            RootPort port = portsByDevice[device];
            if (port != null) {
                return function == 0 ? port.function : null;
            }
            Endpoint endpoint = endpointsByDevice[device];
            return endpoint == null ? null : endpoint.type0(function);
        }
        if (bus < firstBus || bus > lastBus) {
            return null;
        }
        for (RootPort port : rootPorts) {
            if (port.claims(bus)) {
                return port.forward(bus, device, function);
            }
        }
        return null;
    }

    /** The function at {@code bus:device.function} as the guest's bus numbers place it now. */
    public Optional<PciFunction> functionAt(int bus, int device, int function) {
        return Optional.ofNullable(resolve(bus, device, function));
    }

    /** Conventional reset of the whole hierarchy (machine reset): every port, switch and endpoint. */
    public synchronized void reset() {
        for (RootPort port : rootPorts) {
            port.resetHierarchy();
        }
        for (Endpoint e : endpointsByDevice) {
            if (e != null) {
                e.reset();
            }
        }
    }

    @Override
    public String toString() {
        return String.format("RootComplex '%s' segment %04x buses %02x-%02x", name, segment, firstBus, lastBus);
    }
}
