package dev.jvmm.pcie;

import dev.jvmm.pcie.config.ConfigSpace;
import dev.jvmm.pcie.msi.RequesterId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Topologies for the randomized tests, plus a reference router written from PCIe Base 6.0 §7.3.1/§7.3.3 that
 * reads the bridges' raw Secondary/Subordinate registers (not {@link BusNumberRange}) to decide where a request
 * should land.
 */
final class FuzzFixture {
    enum Shape {
        ROOT_PORTS_ONLY,
        ENDPOINTS,
        TWO_LEVEL_SWITCHES,
        NONZERO_ROOT_BUS_WITH_RCIEP,
        WIDE_SWITCH
    }

    final Topology topology;
    final RootComplex rc;
    /** Every function's configuration space, ports included. */
    final List<ConfigSpace> spaces = new ArrayList<>();
    /** Endpoint functions and where they sit. */
    final Map<EndpointFunction, Placement> endpoints = new LinkedHashMap<>();
    /** RCiEPs by device number on the root bus. */
    private final Map<Integer, Endpoint> integrated = new LinkedHashMap<>();

    /** Where an endpoint function sits: below {@code port} (null for an RCiEP at {@code device}). */
    record Placement(DownstreamPort port, int device, int function) {}

    private FuzzFixture(Topology topology, Map<Integer, Endpoint> integrated) {
        this.topology = topology;
        this.rc = topology.rootComplexes().getFirst();
        this.integrated.putAll(integrated);
        for (DownstreamPort p : topology.ports().values()) {
            spaces.add(p.function.configSpace());
            if (p.linkedDevice().orElse(null) instanceof Switch s) {
                spaces.add(s.upstreamPort().function.configSpace());
            }
            if (p.linkedDevice().orElse(null) instanceof Endpoint e) {
                addFunctions(e, p, 0);
            }
        }
        integrated.forEach((dev, e) -> addFunctions(e, null, dev));
    }

    private void addFunctions(Endpoint e, DownstreamPort port, int device) {
        for (int fn = 0; fn < 8; fn++) {
            if (e.function(fn).orElse(null) instanceof EndpointFunction f) {
                spaces.add(f.configSpace());
                endpoints.put(f, new Placement(port, device, fn));
            }
        }
    }

    static FuzzFixture build(Shape shape) {
        try {
            Topology.Builder b = Topology.builder();
            Map<Integer, Endpoint> integrated = new LinkedHashMap<>();
            switch (shape) {
                case ROOT_PORTS_ONLY ->
                    b.rootComplex("rc", 0, 16)
                            .rootPort("rc", "rp0", false)
                            .rootPort("rc", "rp1", true)
                            .rootPort("rc", "rp2", false);
                case ENDPOINTS ->
                    b.rootComplex("rc", 0, 32)
                            .rootPort("rc", "rp0", false)
                            .rootPort("rc", "rp1", false)
                            .rootPort("rc", "rp2", true)
                            .endpoint("rp0", "mf", devices(4, 0x100))
                            .endpoint("rp1", "single", PcieTestSupport.device(0x200));
                case TWO_LEVEL_SWITCHES ->
                    b.rootComplex("rc", 0, 256)
                            .rootPort("rc", "rp0", true)
                            .rootPort("rc", "rp1", false)
                            .pcieSwitch("rp0", "sw0", 3, true)
                            .pcieSwitch("sw0.dp0", "sw1", 2, false)
                            .endpoint("sw1.dp0", "mf", devices(8, 0x300))
                            .endpoint("sw1.dp1", "plain", PcieTestSupport.plainDevice(0x400))
                            .endpoint("sw0.dp2", "dev", PcieTestSupport.device(0x500))
                            .endpoint("rp1", "ep", PcieTestSupport.device(0x600));
                case NONZERO_ROOT_BUS_WITH_RCIEP ->
                    b.rootComplex("rc", 2, 0x80, 24)
                            .rootPort("rc", "rp0", false)
                            .integratedEndpoint("rc", "rciep", rciep(0x700), rciep(0x701))
                            .rootPort("rc", "rp1", true)
                            .pcieSwitch("rp0", "sw0", 2, false)
                            .endpoint("sw0.dp1", "dev", PcieTestSupport.device(0x800));
                case WIDE_SWITCH -> {
                    b.rootComplex("rc", 0, 64).rootPort("rc", "rp0", false).pcieSwitch("rp0", "sw0", 32, true);
                    for (int i = 0; i < 32; i += 5) {
                        b.endpoint("sw0.dp" + i, "d" + i, PcieTestSupport.device(0x900 + i));
                    }
                }
            }
            Topology t = b.build();
            if (shape == Shape.NONZERO_ROOT_BUS_WITH_RCIEP) {
                integrated.put(1, t.endpoint("rciep").orElseThrow());
            }
            return new FuzzFixture(t, integrated);
        } catch (TopologyException e) {
            throw new AssertionError(e);
        }
    }

    private static PciFunction[] devices(int count, int firstId) {
        PciFunction[] fs = new PciFunction[count];
        for (int i = 0; i < count; i++) {
            fs[i] = PcieTestSupport.device(firstId + i);
        }
        return fs;
    }

    private static EndpointFunction rciep(int id) {
        return EndpointFunction.builder(PcieTestSupport.TEST_VENDOR, id, 0x088000)
                .rootComplexIntegrated()
                .msi(2, true)
                .build();
    }

    // --- reference router ------------------------------------------------------------------------

    /** What a request for bus:dev.fn reaches, with whether Header Type bit 7 is added on the way. */
    record Target(PciFunction function, boolean multiFunctionHeader) {}

    private static int secondary(ConfigSpace bridge) {
        return bridge.getInt(0x19, 1);
    }

    private static int subordinate(ConfigSpace bridge) {
        return bridge.getInt(0x1A, 1);
    }

    /** §7.3.3: a bridge forwards Type 1 for buses in [secondary, subordinate]; secondary 0 is unassigned. */
    private static boolean claims(ConfigSpace bridge, int bus) {
        int sec = secondary(bridge);
        return sec != 0 && sec <= bus && bus <= subordinate(bridge);
    }

    Optional<Target> route(int bus, int dev, int fn) {
        if (bus == rc.firstBus()) {
            for (RootPort rp : rc.rootPorts()) {
                if (rp.deviceNumber() == dev) {
                    return fn == 0 ? Optional.of(new Target(rp.function, false)) : Optional.empty();
                }
            }
            Endpoint e = integrated.get(dev);
            return e == null ? Optional.empty() : type0(e, fn);
        }
        if (bus < rc.firstBus() || bus > rc.lastBus()) {
            return Optional.empty();
        }
        for (RootPort rp : rc.rootPorts()) { // sorted by device number
            if (claims(rp.function.configSpace(), bus)) {
                return viaPort(rp, bus, dev, fn);
            }
        }
        return Optional.empty();
    }

    private Optional<Target> viaPort(DownstreamPort port, int bus, int dev, int fn) {
        LinkDevice linked = port.linkedDevice().orElse(null);
        if (linked == null) {
            return Optional.empty();
        }
        if (bus == secondary(port.function.configSpace())) {
            return dev == 0 ? type0(linked, fn) : Optional.empty(); // §7.3.1: only device 0 on a link
        }
        if (linked instanceof Switch s) {
            ConfigSpace up = s.upstreamPort().function.configSpace();
            if (!claims(up, bus)) {
                return Optional.empty();
            }
            if (bus == secondary(up)) {
                return dev < s.downstreamPorts().size() && fn == 0
                        ? Optional.of(new Target(s.downstreamPorts().get(dev).function, false))
                        : Optional.empty();
            }
            for (SwitchDownstreamPort dp : s.downstreamPorts()) {
                if (claims(dp.function.configSpace(), bus)) {
                    return viaPort(dp, bus, dev, fn);
                }
            }
        }
        return Optional.empty(); // endpoints answer Type 1 with UR
    }

    private static Optional<Target> type0(LinkDevice device, int fn) {
        return switch (device) {
            case Endpoint e -> e.function(fn).map(f -> new Target(f, fn == 0 && e.isMultiFunction()));
            case Switch s -> fn == 0 ? Optional.of(new Target(s.upstreamPort().function, false)) : Optional.empty();
        };
    }

    /** The value a read through the hierarchy must return. */
    static int expectedRead(Target t, int reg, int size) {
        int v = t.function().configRead(reg, size);
        if (t.multiFunctionHeader() && reg <= 0x0E && 0x0E < reg + size) {
            v |= 0x80 << (8 * (0x0E - reg));
        }
        return v;
    }

    /** The requester id a message from {@code f} must carry now, or empty if its bus is unassigned. */
    Optional<RequesterId> expectedRid(EndpointFunction f) {
        Placement p = endpoints.get(f);
        if (p.port() == null) {
            return Optional.of(new RequesterId(rc.firstBus(), p.device(), p.function()));
        }
        if (p.port().linkedDevice().isEmpty()) {
            return Optional.empty();
        }
        int bus = secondary(p.port().function.configSpace());
        return bus == 0 ? Optional.empty() : Optional.of(new RequesterId(bus, 0, p.function()));
    }
}
