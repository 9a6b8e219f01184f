package dev.jvmm.core.pci;

import dev.jvmm.core.acpi.Mcfg;
import dev.jvmm.core.bus.AddressRange;
import dev.jvmm.core.bus.BackgroundRegion;
import dev.jvmm.core.bus.Bus;
import dev.jvmm.pcie.DownstreamPort;
import dev.jvmm.pcie.Endpoint;
import dev.jvmm.pcie.PciFunction;
import dev.jvmm.pcie.RootComplex;
import dev.jvmm.pcie.Switch;
import dev.jvmm.pcie.Topology;
import dev.jvmm.pcie.msi.MsiSink;
import dev.jvmm.pcie.spec.PciSpec;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * The PCIe part of a machine: the live hierarchy built from a {@link PcieConfig}, placed in the memory map, and what
 * the guest is told about it.
 *
 * <ul>
 *   <li>{@link #attach(Bus)}: each root complex's ECAM window becomes an {@link EcamRegion} on the MMIO bus; the
 *       ECAM area and the machine's I/O, 32-bit and 64-bit windows get an all-ones {@link BackgroundRegion} (what
 *       an Unsupported Request returns, PCIe Base 6.0 §2.3.2), and a {@link BarMapper} on every endpoint function
 *       maps its BARs above that background wherever the guest puts them, sharing its host bridge's
 *       {@link BarSpace} with the other functions below it;</li>
 *   <li>{@link #mcfg()}: the same ECAM windows for ACPI;</li>
 *   <li>{@link #connectMsi}: the seam where MSI delivery plugs in. Until it is called every root complex keeps
 *       {@link MsiSink#DISCONNECTED}: messages are dropped.</li>
 * </ul>
 *
 * What the guest's firmware tables say about the host bridges is arch code's (on aarch64 the device tree's
 * {@code PcieDeviceTree}), built from {@link #bridges()}. With an empty config there are no host bridges and attach
 * adds nothing to the bus.
 */
public final class PcieHost {
    private final Topology topology;
    private final List<PcieHostBridge> bridges;
    private final PcieLayout layout;
    private final List<BarMapper> barMappers = new ArrayList<>();
    private final Map<PciFunction, BarMapper> mapperOf = new IdentityHashMap<>();
    private final Map<PciFunction, PcieHostBridge> bridgeOf = new IdentityHashMap<>();

    private PcieHost(Topology topology, List<PcieHostBridge> bridges, PcieLayout layout) {
        this.topology = topology;
        this.bridges = List.copyOf(bridges);
        this.layout = layout;
    }

    /** Builds the hierarchy and places every root complex: ECAM of its segment, an even share of each window. */
    public static PcieHost create(PcieConfig config, PcieLayout layout) {
        return create(config, layout, PcieConfig.TEST_FUNCTIONS);
    }

    /** As {@link #create(PcieConfig, PcieLayout)}, with {@code devices} making the functions of the config's devices. */
    public static PcieHost create(PcieConfig config, PcieLayout layout, PcieConfig.DeviceFactory devices) {
        Objects.requireNonNull(layout, "layout");
        Topology topology = config.buildTopology(devices);
        List<RootComplex> rcs = topology.rootComplexes();
        List<PcieWindows> windows = PcieWindows.allocate(layout, rcs.size());
        List<PcieHostBridge> bridges = new ArrayList<>();
        for (int i = 0; i < rcs.size(); i++) {
            RootComplex rc = rcs.get(i);
            AddressRange segment = layout.ecam(rc.segment());
            AddressRange ecam =
                    new AddressRange(segment.base() + rc.firstBus() * PciSpec.ECAM_BYTES_PER_BUS, rc.ecamSize());
            bridges.add(new PcieHostBridge(rc, ecam, windows.get(i)));
        }
        return new PcieHost(topology, bridges, layout);
    }

    public Topology topology() {
        return topology;
    }

    public List<PcieHostBridge> bridges() {
        return bridges;
    }

    public boolean isEmpty() {
        return bridges.isEmpty();
    }

    /**
     * Puts the host bridges on the MMIO bus: ECAM windows, all-ones backgrounds under the ECAM area and the
     * windows, and BAR tracking for every endpoint function. Call once, before the vCPUs run.
     */
    public void attach(Bus mmio) {
        if (bridges.isEmpty()) return;
        BackgroundRegion.map(mmio, "pcie-ecam (unassigned)", layout.ecamArea());
        BackgroundRegion.map(mmio, "pcie-pio (unassigned)", layout.pcieIo());
        BackgroundRegion.map(mmio, "pcie-mmio32 (unassigned)", layout.pcieMmio32());
        BackgroundRegion.map(mmio, "pcie-mmio64 (unassigned)", layout.pcieMmio64());
        for (PcieHostBridge b : bridges) {
            mmio.register("pcie-ecam " + b.name(), b.ecam(), Bus.PRIORITY_DEVICE, new EcamRegion(b.rootComplex()));
        }
        // One BAR space per host bridge: their windows are disjoint, so only BARs below one bridge can collide.
        Map<PcieHostBridge, BarSpace> spaces = new IdentityHashMap<>();
        for (PcieHostBridge b : bridges) spaces.put(b, new BarSpace(b.windows()));
        for (Map.Entry<String, Endpoint> e : topology.endpoints().entrySet()) {
            PcieHostBridge bridge = bridgeOf(e.getValue());
            for (int fn = 0; fn < PciSpec.MAX_FUNCTIONS_PER_DEVICE; fn++) {
                PciFunction f = e.getValue().function(fn).orElse(null);
                if (f == null) continue;
                String name = "%s/%s.%d".formatted(bridge.name(), e.getKey(), fn);
                BarMapper mapper = new BarMapper(mmio, name, f, spaces.get(bridge)).listen();
                barMappers.add(mapper);
                mapperOf.put(f, mapper);
                bridgeOf.put(f, bridge);
            }
        }
    }

    /** The BAR mappers {@link #attach} installed, one per endpoint function. */
    public List<BarMapper> barMappers() {
        return List.copyOf(barMappers);
    }

    /** The BAR mapper {@link #attach} gave {@code function}. */
    public Optional<BarMapper> barMapper(PciFunction function) {
        return Optional.ofNullable(mapperOf.get(function));
    }

    /** The host bridge {@code function} sits below (known after {@link #attach}). */
    public Optional<PcieHostBridge> bridgeOf(PciFunction function) {
        return Optional.ofNullable(bridgeOf.get(function));
    }

    /** The PCI segments of the root complexes. */
    public List<Integer> segments() {
        return bridges.stream().map(PcieHostBridge::segment).toList();
    }

    /** The MCFG table's allocations for the same ECAM windows. */
    public Mcfg mcfg() {
        return new Mcfg(bridges.stream()
                .map(b -> new Mcfg.Allocation(
                        b.ecamBaseOfBus0(),
                        b.segment(),
                        b.rootComplex().firstBus(),
                        b.rootComplex().lastBus()))
                .toList());
    }

    /**
     * Connects each root complex's MSIs to the sink {@code sinks} gives for its host bridge (the seam for the ITS
     * backend, KVM_SIGNAL_MSI with the devid of its segment's ITS, and for the emulated GICv2m frame).
     */
    public void connectMsi(Function<PcieHostBridge, MsiSink> sinks) {
        for (PcieHostBridge b : bridges) b.rootComplex().connectMsiSink(Objects.requireNonNull(sinks.apply(b)));
    }

    private PcieHostBridge bridgeOf(Endpoint endpoint) {
        for (PcieHostBridge b : bridges) {
            if (below(b.rootComplex(), endpoint)) return b;
        }
        throw new IllegalStateException("endpoint '" + endpoint.name() + "' is below no root complex");
    }

    /** Whether {@code endpoint} hangs below {@code rc}: through its root ports, switches and their ports. */
    private static boolean below(RootComplex rc, Endpoint endpoint) {
        if (rc.integratedEndpoints().contains(endpoint)) return true;
        for (var port : rc.rootPorts()) {
            if (reaches(port, endpoint)) return true;
        }
        return false;
    }

    private static boolean reaches(DownstreamPort port, Endpoint endpoint) {
        return switch (port.linkedDevice().orElse(null)) {
            case null -> false;
            case Endpoint e -> e == endpoint;
            case Switch s -> s.downstreamPorts().stream().anyMatch(p -> reaches(p, endpoint));
        };
    }
}
