package dev.jvmm.cli;

import dev.jvmm.core.pci.PciTestDevice;
import dev.jvmm.core.pci.PcieConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine.Option;

/**
 * The {@code --pcie-*} options of {@code jvmm run} (a Picocli mixin): a PCIe hierarchy described part by part, each
 * option repeatable, parts named so others can hang below them. Syntax: a head ({@code NAME} or {@code PARENT:NAME})
 * and comma-separated {@code key=value} settings or bare flags. Parsing errors name the option and the argument;
 * the hierarchy itself is checked by {@link PcieConfig}, whose messages name the part at fault.
 */
final class PcieOptions {
    @Option(
            names = "--pcie-root-complex",
            paramLabel = "NAME[,segment=N][,buses=N]",
            description = "A PCIe host bridge (ECAM, pci-host-ecam-generic) for PCI segment N (0-15; default: the "
                    + "lowest one no other root complex uses) with buses 0..N-1 (1-256, default 256). Repeatable.")
    List<String> rootComplexes = new ArrayList<>();

    @Option(
            names = "--pcie-root-port",
            paramLabel = "RC:NAME[,hotplug]",
            description = "A PCIe root port on root complex RC, at the next device number of its root bus; hotplug "
                    + "gives it a hot-plug slot. Repeatable.")
    List<String> rootPorts = new ArrayList<>();

    @Option(
            names = "--pcie-switch",
            paramLabel = "PORT:NAME[,ports=N][,hotplug]",
            description = "A PCIe switch below PORT with N downstream ports (1-32, default 1) named NAME.dp0, NAME.dp1 "
                    + "...; hotplug gives each a hot-plug slot. Repeatable.")
    List<String> switches = new ArrayList<>();

    @Option(
            names = "--pcie-endpoint",
            paramLabel = "PORT:NAME[,functions=N][,vendor=ID][,device=ID][,class=CODE][,bar64]",
            description = "A test endpoint below PORT (like QEMU's pci-testdev: default 1b36:0005, class ff0000, "
                    + "no driver) with N functions (1-8, default 1) and one 4 KiB memory BAR per function that reads back "
                    + "what is written; bar64 makes it a 64-bit prefetchable BAR. IDs in hex (0x...) or decimal. "
                    + "Repeatable.")
    List<String> endpoints = new ArrayList<>();

    /**
     * What picocli stores for a bare {@code --rng}: not "", which picocli takes for "no fallback value" and then adds
     * nothing to the list (so {@code --rng --cmdline ...} silently made no device).
     */
    static final String NO_SETTINGS = "(no settings)";

    @Option(
            names = "--rng",
            arity = "0..1",
            fallbackValue = NO_SETTINGS,
            paramLabel = "[port=PORT][,id=NAME]",
            description = "A virtio-rng device (virtio 1.2 entropy device over modern virtio-pci, MSI-X) fed from the "
                    + "host's SecureRandom; the guest sees /dev/hwrng. port= names a PCIe port (root port or switch "
                    + "downstream port) or a root complex (the device then sits on its root bus); without it the device "
                    + "gets a root port of its own (and a root complex '" + PcieConfig.DEFAULT_ROOT_COMPLEX
                    + "' when none is given). id= names it (default rng0, rng1, ...). Repeatable.")
    List<String> rngs = new ArrayList<>();

    @Option(
            names = "--disk",
            paramLabel = "path=FILE[,readonly][,port=PORT][,id=NAME]",
            description = "A virtio-blk disk backed by FILE (an image file or a block device), flushed for real "
                    + "(fdatasync) when the guest flushes; readonly makes the guest see a read-only disk. port= and "
                    + "the default placement as for --rng; id= names it (default disk0, disk1, ...; it is also the "
                    + "serial the guest reads). Repeatable.")
    List<String> disks = new ArrayList<>();

    @Option(
            names = "--console",
            paramLabel = "pl011|virtio",
            defaultValue = "pl011",
            description = "The guest console on stdin/stdout: the PL011 UART (ttyAMA0), or a virtio-console "
                    + "(hvc0: give the guest console=hvc0; the PL011 stays for earlycon) (default: ${DEFAULT-VALUE}).")
    String console = "pl011";

    /** The virtio-console's device name. */
    static final String VIRTIO_CONSOLE_NAME = "console0";

    /**
     * The hierarchy these options describe.
     *
     * @throws IllegalArgumentException one line naming the bad option argument or the bad part of the hierarchy
     */
    PcieConfig toConfig() {
        List<PcieConfig.RootComplexSpec> rcs = rootComplexes();
        List<PcieConfig.RootPortSpec> rps = new ArrayList<>();
        for (String arg : rootPorts) {
            Parsed p = Parsed.of("--pcie-root-port", arg, true, Set.of("hotplug"));
            rps.add(new PcieConfig.RootPortSpec(p.parent(), p.name(), p.flag("hotplug")));
        }
        List<PcieConfig.SwitchSpec> sws = new ArrayList<>();
        for (String arg : switches) {
            Parsed p = Parsed.of("--pcie-switch", arg, true, Set.of("ports", "hotplug"));
            sws.add(new PcieConfig.SwitchSpec(p.parent(), p.name(), p.number("ports", 1), p.flag("hotplug")));
        }
        List<PcieConfig.EndpointSpec> eps = new ArrayList<>();
        for (String arg : endpoints) {
            Parsed p =
                    Parsed.of("--pcie-endpoint", arg, true, Set.of("functions", "vendor", "device", "class", "bar64"));
            eps.add(new PcieConfig.EndpointSpec(
                    p.parent(),
                    p.name(),
                    p.number("functions", 1),
                    p.number("vendor", PciTestDevice.VENDOR_ID),
                    p.number("device", PciTestDevice.DEVICE_ID),
                    p.number("class", PciTestDevice.CLASS_CODE),
                    p.flag("bar64")));
        }
        if (rcs.isEmpty() && !(rps.isEmpty() && sws.isEmpty() && eps.isEmpty())) {
            throw new IllegalArgumentException("PCIe ports, switches and endpoints need a --pcie-root-complex");
        }
        List<PcieConfig.DeviceSpec> devices = new ArrayList<>();
        for (String arg : rngs) {
            Parsed p = Parsed.settingsOnly("--rng", arg.equals(NO_SETTINGS) ? "" : arg, Set.of("port", "id"));
            String name = p.text("id", "rng" + devices.size());
            devices.add(new PcieConfig.DeviceSpec(PcieConfig.DeviceKind.VIRTIO_RNG, name, p.text("port", null)));
        }
        for (String arg : disks) {
            Parsed p = Parsed.settingsOnly("--disk", arg, Set.of("path", "readonly", "port", "id"));
            String path = p.text("path", null);
            if (path == null) throw new IllegalArgumentException("--disk '" + arg + "': path=FILE is required");
            String name = p.text(
                    "id",
                    "disk"
                            + devices.stream()
                                    .filter(d -> d.kind() == PcieConfig.DeviceKind.VIRTIO_BLK)
                                    .count());
            devices.add(new PcieConfig.DeviceSpec(
                    PcieConfig.DeviceKind.VIRTIO_BLK,
                    name,
                    p.text("port", null),
                    new PcieConfig.DiskOptions(Path.of(path), p.flag("readonly"))));
        }
        switch (console) {
            case "pl011" -> {}
            case "virtio" ->
                devices.add(new PcieConfig.DeviceSpec(PcieConfig.DeviceKind.VIRTIO_CONSOLE, VIRTIO_CONSOLE_NAME, null));
            default -> throw new IllegalArgumentException("--console must be pl011 or virtio (got '" + console + "')");
        }
        try {
            return new PcieConfig(rcs, rps, sws, eps, devices);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid PCIe topology: " + e.getMessage(), e);
        }
    }

    /** Root complexes with default segments: explicit ones first, then each default takes the lowest free one. */
    private List<PcieConfig.RootComplexSpec> rootComplexes() {
        List<Parsed> parsed = new ArrayList<>();
        Set<Integer> taken = new HashSet<>();
        for (String arg : rootComplexes) {
            Parsed p = Parsed.of("--pcie-root-complex", arg, false, Set.of("segment", "buses"));
            parsed.add(p);
            if (p.has("segment")) taken.add(p.number("segment", 0));
        }
        List<PcieConfig.RootComplexSpec> out = new ArrayList<>();
        for (Parsed p : parsed) {
            int segment;
            if (p.has("segment")) {
                segment = p.number("segment", 0);
            } else {
                segment = 0;
                while (taken.contains(segment)) segment++;
                taken.add(segment);
            }
            out.add(new PcieConfig.RootComplexSpec(p.name(), segment, p.number("buses", 256)));
        }
        return out;
    }

    /** One option argument: {@code [PARENT:]NAME[,key=value|flag]...}. */
    record Parsed(String option, String arg, String parent, String name, Map<String, String> settings) {
        private static final String FLAG = "\0flag";

        static Parsed of(String option, String arg, boolean withParent, Set<String> keys) {
            String[] parts = arg.split(",", -1);
            String head = parts[0];
            String parent = null;
            String name = head;
            if (withParent) {
                int colon = head.indexOf(':');
                if (colon <= 0 || colon == head.length() - 1 || head.indexOf(':', colon + 1) >= 0) {
                    throw bad(option, arg, "expected PARENT:NAME before the first ','");
                }
                parent = head.substring(0, colon);
                name = head.substring(colon + 1);
            } else if (head.contains(":")) {
                throw bad(option, arg, "a root complex has no parent; expected NAME");
            }
            if (name.isEmpty()) throw bad(option, arg, "the name is empty");
            return new Parsed(option, arg, parent, name, settings(option, arg, parts, 1, keys));
        }

        /** An argument of settings only, {@code key=value|flag[,...]}, possibly empty (a device's options). */
        static Parsed settingsOnly(String option, String arg, Set<String> keys) {
            String[] parts = arg.isEmpty() ? new String[0] : arg.split(",", -1);
            return new Parsed(option, arg, null, null, settings(option, arg, parts, 0, keys));
        }

        private static Map<String, String> settings(
                String option, String arg, String[] parts, int from, Set<String> keys) {
            Map<String, String> settings = new LinkedHashMap<>();
            for (int i = from; i < parts.length; i++) {
                String s = parts[i];
                int eq = s.indexOf('=');
                String key = eq < 0 ? s : s.substring(0, eq);
                if (!keys.contains(key)) {
                    throw bad(
                            option,
                            arg,
                            "unknown setting '" + key + "' (known: " + String.join(", ", sorted(keys)) + ")");
                }
                if (settings.put(key, eq < 0 ? FLAG : s.substring(eq + 1)) != null) {
                    throw bad(option, arg, "'" + key + "' is given twice");
                }
            }
            return settings;
        }

        boolean has(String key) {
            return settings.containsKey(key);
        }

        /** A bare flag such as {@code hotplug}; {@code hotplug=...} is refused. */
        boolean flag(String key) {
            String v = settings.get(key);
            if (v == null) return false;
            if (!v.equals(FLAG)) throw bad(option, arg, "'" + key + "' takes no value");
            return true;
        }

        /** A text value, {@code fallback} when absent; {@code key} alone (no value) is refused. */
        String text(String key, String fallback) {
            String v = settings.get(key);
            if (v == null) return fallback;
            if (v.equals(FLAG) || v.isEmpty()) throw bad(option, arg, "'" + key + "' needs a value (" + key + "=...)");
            return v;
        }

        /** A decimal or 0x-hex number, {@code fallback} when absent. */
        int number(String key, int fallback) {
            String v = settings.get(key);
            if (v == null) return fallback;
            if (v.equals(FLAG)) throw bad(option, arg, "'" + key + "' needs a value (" + key + "=N)");
            try {
                long n = v.startsWith("0x") || v.startsWith("0X")
                        ? Long.parseLong(v.substring(2), 16)
                        : Long.parseLong(v);
                if (n < 0 || n > Integer.MAX_VALUE) throw new NumberFormatException();
                return (int) n;
            } catch (NumberFormatException e) {
                throw bad(option, arg, key + "=" + v + " is not a number");
            }
        }

        private static List<String> sorted(Set<String> keys) {
            return keys.stream().sorted().toList();
        }

        private static IllegalArgumentException bad(String option, String arg, String why) {
            return new IllegalArgumentException(option + " '" + arg + "': " + why);
        }
    }
}
