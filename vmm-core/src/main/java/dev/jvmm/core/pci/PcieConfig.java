package dev.jvmm.core.pci;

import dev.jvmm.pcie.PciFunction;
import dev.jvmm.pcie.Topology;
import dev.jvmm.pcie.TopologyException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The PCIe hierarchy a machine gets, as the user described it ({@code --pcie-root-complex}, {@code --pcie-root-port},
 * {@code --pcie-switch}, {@code --pcie-endpoint}). A value: the live {@link Topology} is built from it by
 * {@link #buildTopology()}, once for the machine.
 *
 * <p>Validated on construction, so a machine never starts from a hierarchy that cannot be built: besides what
 * {@link Topology.Builder#build()} checks (names, parents, bus room), segments must have ECAM room in the memory map
 * (0..{@value PcieLayout#MAX_SEGMENTS}-1) and test endpoints need sane ids. The exception message is one line
 * listing every problem, each naming the part at fault.
 *
 * <p>Order matters the way the {@link Topology} says: root ports take device numbers 0, 1, 2... on their root bus in
 * list order, and hot-plug slots are numbered root ports first, then switches.
 *
 * @param rootComplexes host bridges, each with its own PCI segment
 * @param rootPorts     root ports, each on a root complex
 * @param switches      switches, each on a port
 * @param endpoints     test endpoints ({@link PciTestDevice}), each on a port
 * @param devices       devices the machine makes (virtio), each on a port, on a root bus, or on a root port of its own
 */
public record PcieConfig(
        List<RootComplexSpec> rootComplexes,
        List<RootPortSpec> rootPorts,
        List<SwitchSpec> switches,
        List<EndpointSpec> endpoints,
        List<DeviceSpec> devices) {
    /** No PCIe at all: the machine has no host bridge. */
    public static final PcieConfig NONE = new PcieConfig(List.of(), List.of(), List.of(), List.of());

    /** The root complex jvmm creates for a device placed on its own port when the user gave none. */
    public static final String DEFAULT_ROOT_COMPLEX = "pcie0";

    /** Kinds of device the machine makes; each becomes one PCIe function. */
    public enum DeviceKind {
        VIRTIO_RNG,
        VIRTIO_BLK,
        VIRTIO_CONSOLE
    }

    /**
     * What a disk is backed by ({@code --disk}).
     *
     * @param file     an image file or block device
     * @param readOnly the guest sees VIRTIO_BLK_F_RO and writes fail
     */
    public record DiskOptions(Path file, boolean readOnly) {
        public DiskOptions {
            Objects.requireNonNull(file, "file");
        }
    }

    /**
     * A device the machine makes.
     *
     * @param name  unique among all PCIe names (it names the endpoint)
     * @param port  a port name (the device is the endpoint below it), a root complex name (the device is an
     *              integrated endpoint on its root bus), or null: the device gets a root port of its own, named
     *              {@code NAME-port}, on the first root complex, which is created ({@value #DEFAULT_ROOT_COMPLEX},
     *              segment 0) when there is none
     */
    public record DeviceSpec(DeviceKind kind, String name, String port, DiskOptions disk) {
        public DeviceSpec {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(name, "name");
            if ((kind == DeviceKind.VIRTIO_BLK) != (disk != null)) {
                throw new IllegalArgumentException(
                        "device '" + name + "': disk options are for disks only, and needed there");
            }
        }

        /** A device without options (rng, console). */
        public DeviceSpec(DeviceKind kind, String name, String port) {
            this(kind, name, port, null);
        }

        /** The root port jvmm adds for a device without a port. */
        public String ownPortName() {
            return name + "-port";
        }
    }

    /** Makes the PCIe function of a device; {@code integrated}: it sits on a root bus (a Root Complex Integrated Endpoint). */
    @FunctionalInterface
    public interface DeviceFactory {
        PciFunction create(DeviceSpec spec, boolean integrated);
    }

    /** Stand-in functions: what a config without a machine builds (validation, tests). */
    public static final DeviceFactory TEST_FUNCTIONS = (spec, integrated) -> PciTestDevice.function();

    public PcieConfig(
            List<RootComplexSpec> rootComplexes,
            List<RootPortSpec> rootPorts,
            List<SwitchSpec> switches,
            List<EndpointSpec> endpoints) {
        this(rootComplexes, rootPorts, switches, endpoints, List.of());
    }

    /**
     * A host bridge with an ECAM window over buses 0..buses-1 of {@code segment}.
     *
     * @param buses 1..256 (PCIe Base 6.0 §7.2.2: the ECAM window holds 1 MiB per bus)
     */
    public record RootComplexSpec(String name, int segment, int buses) {}

    /** A Root Port on root complex {@code rootComplex}; {@code hotplug} gives it a hot-plug slot. */
    public record RootPortSpec(String rootComplex, String name, boolean hotplug) {}

    /** A switch on {@code port} with {@code ports} downstream ports, named {@code NAME.dp0...}. */
    public record SwitchSpec(String port, String name, int ports, boolean hotplug) {}

    /**
     * A test endpoint ({@link PciTestDevice}) on {@code port} with {@code functions} identical functions.
     *
     * @param functions 1..8; more than one makes a multi-function device
     * @param vendorId  0..0xFFFE (FFFFh reads as "no function", PCI Local Bus 3.0 §6.2.1)
     * @param deviceId  0..0xFFFF
     * @param classCode 24 bits: base class, sub-class, programming interface
     * @param bar64     BAR 0 is a 64-bit prefetchable BAR (placed in the 64-bit window) instead of a 32-bit one
     */
    public record EndpointSpec(
            String port, String name, int functions, int vendorId, int deviceId, int classCode, boolean bar64) {
        /** A pci-testdev-like endpoint with the default ids. */
        public EndpointSpec(String port, String name, int functions) {
            this(
                    port,
                    name,
                    functions,
                    PciTestDevice.VENDOR_ID,
                    PciTestDevice.DEVICE_ID,
                    PciTestDevice.CLASS_CODE,
                    false);
        }
    }

    /**
     * Validates, and gives every device without a port a root port of its own (and the machine a root complex when
     * it has none), so the record always holds the hierarchy as built.
     */
    public PcieConfig {
        rootComplexes = new ArrayList<>(rootComplexes);
        rootPorts = new ArrayList<>(rootPorts);
        devices = List.copyOf(devices);
        Set<String> seen = new HashSet<>();
        for (DeviceSpec d : devices) {
            // Before any own port is made: a repeated name would otherwise be reported as a clash of jvmm's ports.
            if (!seen.add(d.name())) throw new IllegalArgumentException("device name '" + d.name() + "' is used twice");
        }
        for (DeviceSpec d : devices) {
            if (d.port() != null) continue;
            if (rootComplexes.isEmpty()) rootComplexes.add(new RootComplexSpec(DEFAULT_ROOT_COMPLEX, 0, 256));
            rootPorts.add(new RootPortSpec(rootComplexes.getFirst().name(), d.ownPortName(), false));
        }
        rootComplexes = List.copyOf(rootComplexes);
        rootPorts = List.copyOf(rootPorts);
        switches = List.copyOf(switches);
        endpoints = List.copyOf(endpoints);
        List<String> problems = problems(rootComplexes, endpoints);
        if (problems.isEmpty()) {
            try {
                topology(rootComplexes, rootPorts, switches, endpoints, devices, TEST_FUNCTIONS);
            } catch (TopologyException e) {
                problems.addAll(e.problems());
            }
        }
        if (!problems.isEmpty()) throw new IllegalArgumentException(String.join("; ", problems));
    }

    public boolean isEmpty() {
        return rootComplexes.isEmpty();
    }

    /** Builds a fresh live hierarchy with test functions for the devices (no machine behind them). */
    public Topology buildTopology() {
        return buildTopology(TEST_FUNCTIONS);
    }

    /**
     * Builds a fresh live hierarchy (new functions every time: a function belongs to one machine); {@code factory}
     * makes the function of each device.
     */
    public Topology buildTopology(DeviceFactory factory) {
        try {
            return topology(rootComplexes, rootPorts, switches, endpoints, devices, factory);
        } catch (TopologyException e) {
            throw new IllegalStateException("a validated PCIe config failed to build: " + e.getMessage(), e);
        }
    }

    private static List<String> problems(List<RootComplexSpec> rootComplexes, List<EndpointSpec> endpoints) {
        List<String> problems = new ArrayList<>();
        for (RootComplexSpec rc : rootComplexes) {
            Objects.requireNonNull(rc, "root complex");
            if (rc.segment() < 0 || rc.segment() >= PcieLayout.MAX_SEGMENTS) {
                problems.add("root complex '%s': segment=%d out of range 0-%d (the memory map has ECAM for %d segments)"
                        .formatted(rc.name(), rc.segment(), PcieLayout.MAX_SEGMENTS - 1, PcieLayout.MAX_SEGMENTS));
            }
        }
        for (EndpointSpec ep : endpoints) {
            Objects.requireNonNull(ep, "endpoint");
            String label = "endpoint '" + ep.name() + "'";
            if (ep.functions() < 1 || ep.functions() > 8) {
                problems.add(label + ": functions=" + ep.functions() + " out of range 1-8");
            }
            if (ep.vendorId() < 0 || ep.vendorId() > 0xFFFE) {
                problems.add(label + ": vendor=0x%x out of range 0x0-0xfffe".formatted(ep.vendorId()));
            }
            if (ep.deviceId() < 0 || ep.deviceId() > 0xFFFF) {
                problems.add(label + ": device=0x%x out of range 0x0-0xffff".formatted(ep.deviceId()));
            }
            if (ep.classCode() < 0 || ep.classCode() > 0xFF_FFFF) {
                problems.add(label + ": class=0x%x out of range 0x0-0xffffff".formatted(ep.classCode()));
            }
        }
        return problems;
    }

    private static Topology topology(
            List<RootComplexSpec> rootComplexes,
            List<RootPortSpec> rootPorts,
            List<SwitchSpec> switches,
            List<EndpointSpec> endpoints,
            List<DeviceSpec> devices,
            DeviceFactory factory)
            throws TopologyException {
        Topology.Builder b = Topology.builder();
        for (RootComplexSpec rc : rootComplexes) b.rootComplex(rc.name(), rc.segment(), rc.buses());
        for (RootPortSpec rp : rootPorts) b.rootPort(rp.rootComplex(), rp.name(), rp.hotplug());
        for (SwitchSpec sw : switches) b.pcieSwitch(sw.port(), sw.name(), sw.ports(), sw.hotplug());
        for (EndpointSpec ep : endpoints) {
            PciFunction[] functions = new PciFunction[ep.functions()];
            for (int f = 0; f < functions.length; f++) {
                functions[f] = PciTestDevice.function(ep.vendorId(), ep.deviceId(), ep.classCode(), ep.bar64());
            }
            b.endpoint(ep.port(), ep.name(), functions);
        }
        Set<String> rcNames = new HashSet<>();
        for (RootComplexSpec rc : rootComplexes) rcNames.add(rc.name());
        for (DeviceSpec d : devices) {
            String port = d.port() == null ? d.ownPortName() : d.port();
            if (rcNames.contains(port)) b.integratedEndpoint(port, d.name(), factory.create(d, true));
            else b.endpoint(port, d.name(), factory.create(d, false));
        }
        return b.build();
    }
}
