package dev.jvmm.pcie;

import dev.jvmm.pcie.config.SlotCapabilities;
import dev.jvmm.pcie.spec.PciSpec;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * A PCIe hierarchy described by names, the way the command line describes it
 * ({@code --pcie-root-complex NAME[,segment=N][,buses=N]}, {@code --pcie-root-port RC:NAME[,hotplug]},
 * {@code --pcie-switch PORT:NAME[,ports=N]}, endpoints on a port), and the live objects built from it.
 *
 * <p>Names share one namespace and are 1-64 letters, digits, {@code _} or {@code -}. Switch downstream
 * ports are named {@code SWITCH.dpN} ({@link Switch#downstreamPortName}); the dot keeps them apart from
 * user names. Root Ports and RCiEPs take device numbers 0, 1, 2... on the root bus in declaration order;
 * hot-plug slots get physical slot numbers 1, 2, 3... in declaration order across the topology (Linux names
 * slots after them, so they must not repeat).
 *
 * <p>{@link Builder#build} checks everything before building anything and reports every problem at once,
 * each naming the part at fault.
 */
public final class Topology {
    private final List<RootComplex> rootComplexes;
    private final Map<String, RootComplex> rootComplexByName;
    private final Map<String, DownstreamPort> portByName;
    private final Map<String, Switch> switchByName;
    private final Map<String, Endpoint> endpointByName;

    private Topology(
            Map<String, RootComplex> rcs,
            Map<String, DownstreamPort> ports,
            Map<String, Switch> switches,
            Map<String, Endpoint> endpoints) {
        this.rootComplexes = List.copyOf(rcs.values());
        this.rootComplexByName = Collections.unmodifiableMap(rcs);
        this.portByName = Collections.unmodifiableMap(ports);
        this.switchByName = Collections.unmodifiableMap(switches);
        this.endpointByName = Collections.unmodifiableMap(endpoints);
    }

    public static Builder builder() {
        return new Builder();
    }

    public List<RootComplex> rootComplexes() {
        return rootComplexes;
    }

    public Optional<RootComplex> rootComplex(String name) {
        return Optional.ofNullable(rootComplexByName.get(name));
    }

    /** A Root Port or Switch Downstream Port by name. */
    public Optional<DownstreamPort> port(String name) {
        return Optional.ofNullable(portByName.get(name));
    }

    public Optional<Switch> pcieSwitch(String name) {
        return Optional.ofNullable(switchByName.get(name));
    }

    public Optional<Endpoint> endpoint(String name) {
        return Optional.ofNullable(endpointByName.get(name));
    }

    /** Every port by name, in declaration order. */
    public Map<String, DownstreamPort> ports() {
        return portByName;
    }

    /** Every endpoint (including RCiEPs) by name, in declaration order. */
    public Map<String, Endpoint> endpoints() {
        return endpointByName;
    }

    // --- declarations ---------------------------------------------------------------------------

    private sealed interface Declaration permits RootComplexDecl, RootPortDecl, SwitchDecl, EndpointDecl {
        String name();

        String kind();

        default String label() {
            return kind() + " '" + name() + "'";
        }
    }

    private record RootComplexDecl(String name, int segment, int firstBus, int busCount) implements Declaration {
        public String kind() {
            return "root complex";
        }

        int lastBus() {
            return firstBus + busCount - 1;
        }
    }

    private record RootPortDecl(String rootComplex, String name, boolean hotplug) implements Declaration {
        public String kind() {
            return "root port";
        }
    }

    private record SwitchDecl(String port, String name, int ports, boolean hotplug) implements Declaration {
        public String kind() {
            return "switch";
        }
    }

    /** {@code parent} is a port name, or a root complex name when {@code integrated}. */
    private record EndpointDecl(String parent, String name, Map<Integer, PciFunction> functions, boolean integrated)
            implements Declaration {
        public String kind() {
            return integrated ? "integrated endpoint" : "endpoint";
        }
    }

    /** Collects declarations; nothing is checked until {@link #build}, so the builder never throws. */
    public static final class Builder {
        private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");
        private final List<Declaration> declarations = new ArrayList<>();

        private Builder() {}

        /** A root complex whose root bus is 0. */
        public Builder rootComplex(String name, int segment, int busCount) {
            return rootComplex(name, segment, 0, busCount);
        }

        /** A root complex for {@code segment} with an ECAM window over {@code busCount} buses from {@code firstBus}. */
        public Builder rootComplex(String name, int segment, int firstBus, int busCount) {
            declarations.add(new RootComplexDecl(name, segment, firstBus, busCount));
            return this;
        }

        public Builder rootPort(String rootComplex, String name, boolean hotplug) {
            declarations.add(new RootPortDecl(rootComplex, name, hotplug));
            return this;
        }

        /** A switch on {@code port} with {@code downstreamPorts} ports named {@code NAME.dp0...}. */
        public Builder pcieSwitch(String port, String name, int downstreamPorts, boolean hotplug) {
            declarations.add(new SwitchDecl(port, name, downstreamPorts, hotplug));
            return this;
        }

        /** An endpoint on {@code port}, functions numbered 0, 1, 2... in argument order. */
        public Builder endpoint(String port, String name, PciFunction... functions) {
            declarations.add(new EndpointDecl(port, name, numbered(functions), false));
            return this;
        }

        /** An endpoint on {@code port} with functions at the given numbers. */
        public Builder endpoint(String port, String name, Map<Integer, PciFunction> functions) {
            declarations.add(new EndpointDecl(port, name, new TreeMap<>(functions), false));
            return this;
        }

        /** A Root Complex Integrated Endpoint on the root bus of {@code rootComplex}. */
        public Builder integratedEndpoint(String rootComplex, String name, PciFunction... functions) {
            declarations.add(new EndpointDecl(rootComplex, name, numbered(functions), true));
            return this;
        }

        private static Map<Integer, PciFunction> numbered(PciFunction[] functions) {
            Map<Integer, PciFunction> map = new TreeMap<>();
            for (int i = 0; i < functions.length; i++) {
                map.put(i, functions[i]);
            }
            return map;
        }

        public Topology build() throws TopologyException {
            List<String> problems = new Validation(declarations).problems();
            if (!problems.isEmpty()) {
                throw new TopologyException(problems);
            }
            return construct();
        }

        private Topology construct() {
            Map<String, RootComplex> rcs = new LinkedHashMap<>();
            Map<String, DownstreamPort> ports = new LinkedHashMap<>();
            Map<String, Switch> switches = new LinkedHashMap<>();
            Map<String, Endpoint> endpoints = new LinkedHashMap<>();
            Map<String, Integer> nextDevice = new LinkedHashMap<>();
            int[] nextSlot = {1};

            for (Declaration d : declarations) {
                if (d instanceof RootComplexDecl rc) {
                    rcs.put(rc.name(), new RootComplex(rc.name(), rc.segment(), rc.firstBus(), rc.busCount()));
                    nextDevice.put(rc.name(), 0);
                }
            }
            for (Declaration d : declarations) {
                switch (d) {
                    case RootComplexDecl rc -> {}
                    case RootPortDecl rp -> {
                        int dev = nextDevice.merge(rp.rootComplex(), 1, Integer::sum) - 1;
                        Optional<SlotCapabilities> slot = rp.hotplug()
                                ? Optional.of(SlotCapabilities.surpriseHotPlug(nextSlot[0]++))
                                : Optional.empty();
                        RootPort port = new RootPort(rp.name(), dev, slot);
                        rcs.get(rp.rootComplex()).addRootPort(port);
                        ports.put(rp.name(), port);
                    }
                    case SwitchDecl sw -> {
                        Switch s = new Switch(sw.name(), sw.ports(), sw.hotplug(), () -> nextSlot[0]++);
                        switches.put(sw.name(), s);
                        for (SwitchDownstreamPort p : s.downstreamPorts()) {
                            ports.put(p.name(), p);
                        }
                    }
                    case EndpointDecl ep -> {
                        Endpoint e = Endpoint.of(ep.name(), ep.functions());
                        endpoints.put(ep.name(), e);
                        if (ep.integrated()) {
                            int dev = nextDevice.merge(ep.parent(), 1, Integer::sum) - 1;
                            rcs.get(ep.parent()).addIntegratedEndpoint(dev, e);
                        }
                    }
                }
            }
            // Links last: a port binds what it links when it is itself bound, so the order does not matter.
            for (Declaration d : declarations) {
                if (d instanceof SwitchDecl sw) {
                    ports.get(sw.port()).connect(switches.get(sw.name()));
                } else if (d instanceof EndpointDecl ep && !ep.integrated()) {
                    ports.get(ep.parent()).connect(endpoints.get(ep.name()));
                }
            }
            return new Topology(rcs, ports, switches, endpoints);
        }
    }

    /** Every check, in declaration order; each problem names the part at fault. */
    private static final class Validation {
        private final List<Declaration> declarations;
        private final List<String> problems = new ArrayList<>();
        private final Map<String, Declaration> byName = new LinkedHashMap<>();
        /** Port name -> the root port or switch declaration that creates it. */
        private final Map<String, Declaration> portOwner = new LinkedHashMap<>();

        Validation(List<Declaration> declarations) {
            this.declarations = declarations;
        }

        List<String> problems() {
            checkNames();
            for (Declaration d : declarations) {
                switch (d) {
                    case RootComplexDecl rc -> checkRootComplex(rc);
                    case RootPortDecl rp -> checkParentRootComplex(rp, rp.rootComplex());
                    case SwitchDecl sw -> {
                        if (sw.ports() < 1 || sw.ports() > PciSpec.MAX_DEVICES_PER_BUS) {
                            problems.add(sw.label() + ": ports=" + sw.ports() + " out of range 1-32");
                        }
                        checkParentPort(sw, sw.port());
                    }
                    case EndpointDecl ep -> {
                        if (ep.integrated()) {
                            checkParentRootComplex(ep, ep.parent());
                        } else {
                            checkParentPort(ep, ep.parent());
                        }
                        checkFunctions(ep);
                    }
                }
            }
            checkFunctionReuse();
            checkPortOccupancy();
            if (problems.isEmpty()) {
                checkReachabilityAndBuses();
            }
            return problems;
        }

        private void checkNames() {
            for (Declaration d : declarations) {
                if (d.name() == null || !Builder.NAME.matcher(d.name()).matches()) {
                    problems.add(d.label() + ": a name is 1-64 letters, digits, '_' or '-'");
                    continue;
                }
                Declaration earlier = byName.putIfAbsent(d.name(), d);
                if (earlier != null) {
                    problems.add(d.label() + ": name already used by " + earlier.label());
                }
            }
            for (Declaration d : declarations) {
                if (d instanceof RootPortDecl rp && byName.get(rp.name()) == rp) {
                    portOwner.put(rp.name(), rp);
                } else if (d instanceof SwitchDecl sw
                        && byName.get(sw.name()) == sw
                        && sw.ports() >= 1
                        && sw.ports() <= PciSpec.MAX_DEVICES_PER_BUS) {
                    for (int i = 0; i < sw.ports(); i++) {
                        portOwner.put(Switch.downstreamPortName(sw.name(), i), sw);
                    }
                }
            }
        }

        private void checkRootComplex(RootComplexDecl rc) {
            if (rc.segment() < 0 || rc.segment() > 0xFFFF) {
                problems.add(rc.label() + ": segment=" + rc.segment() + " out of range 0-65535");
            }
            if (rc.firstBus() < 0 || rc.firstBus() > 0xFF) {
                problems.add(rc.label() + ": first bus " + rc.firstBus() + " out of range 0-255");
            } else if (rc.busCount() < 1 || rc.firstBus() + rc.busCount() > 256) {
                problems.add(rc.label() + ": buses=" + rc.busCount() + " out of range 1-" + (256 - rc.firstBus()));
            } else {
                for (Declaration d : declarations) {
                    if (d == rc) {
                        break;
                    }
                    if (d instanceof RootComplexDecl other
                            && other.segment() == rc.segment()
                            && other.firstBus() <= rc.lastBus()
                            && rc.firstBus() <= other.lastBus()) {
                        problems.add(String.format(
                                "%s: buses %02x-%02x of segment %d overlap %s",
                                rc.label(), rc.firstBus(), rc.lastBus(), rc.segment(), other.label()));
                    }
                }
            }
        }

        private void checkParentRootComplex(Declaration child, String rcName) {
            Declaration parent = rcName == null ? null : byName.get(rcName);
            if (parent == null) {
                problems.add(child.label() + ": root complex '" + rcName + "' does not exist");
            } else if (!(parent instanceof RootComplexDecl)) {
                problems.add(child.label() + ": '" + rcName + "' is a " + parent.kind() + ", not a root complex");
            }
        }

        private void checkParentPort(Declaration child, String portName) {
            if (portName != null && portOwner.containsKey(portName)) {
                return;
            }
            Declaration other = portName == null ? null : byName.get(portName);
            if (other == null) {
                problems.add(child.label() + ": port '" + portName + "' does not exist");
            } else {
                problems.add(child.label() + ": '" + portName + "' is a " + other.kind() + ", not a port");
            }
        }

        private void checkFunctions(EndpointDecl ep) {
            if (!ep.functions().containsKey(0)) {
                problems.add(ep.label() + ": has no function 0");
            }
            for (Map.Entry<Integer, PciFunction> e : ep.functions().entrySet()) {
                if (e.getKey() < 0 || e.getKey() >= PciSpec.MAX_FUNCTIONS_PER_DEVICE) {
                    problems.add(ep.label() + ": function number " + e.getKey() + " out of range 0-7");
                }
                if (e.getValue() == null) {
                    problems.add(ep.label() + ": function " + e.getKey() + " is null");
                }
            }
        }

        private void checkFunctionReuse() {
            Map<PciFunction, EndpointDecl> owner = new IdentityHashMap<>();
            for (Declaration d : declarations) {
                if (d instanceof EndpointDecl ep) {
                    for (Map.Entry<Integer, PciFunction> e : ep.functions().entrySet()) {
                        if (e.getValue() == null) {
                            continue;
                        }
                        EndpointDecl first = owner.putIfAbsent(e.getValue(), ep);
                        if (first != null) {
                            problems.add(ep.label() + ": function " + e.getKey()
                                    + " is the same object as a function of " + first.label());
                        }
                    }
                }
            }
        }

        private void checkPortOccupancy() {
            Map<String, Declaration> occupant = new LinkedHashMap<>();
            for (Declaration d : declarations) {
                String port = switch (d) {
                    case SwitchDecl sw -> sw.port();
                    case EndpointDecl ep when !ep.integrated() -> ep.parent();
                    default -> null;
                };
                if (port == null || !portOwner.containsKey(port)) {
                    continue;
                }
                Declaration first = occupant.putIfAbsent(port, d);
                if (first != null) {
                    problems.add(d.label() + ": port '" + port + "' already has " + first.label());
                }
            }
        }

        /**
         * Every switch must hang below a root complex (not below itself), and each root complex needs a bus
         * for its root bus, for the secondary bus of every Root Port and Switch Downstream Port, and for the
         * internal bus of every switch, as a depth-first enumeration assigns them.
         */
        private void checkReachabilityAndBuses() {
            Map<String, Integer> buses = new LinkedHashMap<>();
            Map<String, Integer> rootDevices = new LinkedHashMap<>();
            for (Declaration d : declarations) {
                switch (d) {
                    case RootComplexDecl rc -> {
                        buses.put(rc.name(), 1);
                        rootDevices.put(rc.name(), 0);
                    }
                    case RootPortDecl rp -> {
                        buses.merge(rp.rootComplex(), 1, Integer::sum);
                        rootDevices.merge(rp.rootComplex(), 1, Integer::sum);
                    }
                    case EndpointDecl ep when ep.integrated() -> rootDevices.merge(ep.parent(), 1, Integer::sum);
                    default -> {}
                }
            }
            for (Declaration d : declarations) {
                if (d instanceof SwitchDecl sw) {
                    String rc = rootComplexAbove(sw);
                    if (rc == null) {
                        problems.add(sw.label() + ": is attached below itself, not below a root complex");
                    } else {
                        buses.merge(rc, 1 + sw.ports(), Integer::sum);
                    }
                }
            }
            for (Declaration d : declarations) {
                if (d instanceof RootComplexDecl rc) {
                    int devices = rootDevices.get(rc.name());
                    if (devices > PciSpec.MAX_DEVICES_PER_BUS) {
                        problems.add(rc.label() + ": " + devices
                                + " root ports and integrated endpoints on the root bus," + " at most 32");
                    }
                    int needed = buses.get(rc.name());
                    if (needed > rc.busCount()) {
                        problems.add(rc.label() + ": buses=" + rc.busCount() + " is too small, the root bus, the ports"
                                + " and the switches below it need at least " + needed);
                    }
                }
            }
        }

        private String rootComplexAbove(SwitchDecl sw) {
            Set<Declaration> seen = new HashSet<>();
            Declaration d = sw;
            while (seen.add(d)) {
                String port = d instanceof SwitchDecl s ? s.port() : null;
                Declaration owner = portOwner.get(port);
                if (owner instanceof RootPortDecl rp) {
                    return rp.rootComplex();
                }
                if (owner == null) {
                    return null;
                }
                d = owner;
            }
            return null;
        }
    }
}
