package dev.jvmm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.pci.PcieConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code --pcie-*}: parsing into a {@link PcieConfig}, and bad hierarchies refused with one line and status 2. */
class PcieOptionsTest {
    @TempDir
    Path dir;

    private static PcieOptions options(String... args) {
        PcieOptions o = new PcieOptions();
        for (int i = 0; i < args.length; i += 2) {
            List<String> list = switch (args[i]) {
                case "--pcie-root-complex" -> o.rootComplexes;
                case "--pcie-root-port" -> o.rootPorts;
                case "--pcie-switch" -> o.switches;
                case "--pcie-endpoint" -> o.endpoints;
                case "--rng" -> o.rngs;
                default -> throw new AssertionError(args[i]);
            };
            list.add(args[i + 1]);
        }
        return o;
    }

    private String[] run(String... pcie) throws Exception {
        Path kernel = Files.write(dir.resolve("Image"), new byte[4096]);
        List<String> args = new ArrayList<>(List.of("run", "--kernel", kernel.toString()));
        args.addAll(List.of(pcie));
        return args.toArray(String[]::new);
    }

    private void assertUsage(String expectedLine, String... pcie) throws Exception {
        CliRunner r = CliRunner.run(run(pcie));
        assertEquals(ExitStatus.USAGE.code(), r.status(), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertEquals("jvmm: " + expectedLine, r.err().strip());
    }

    /** Through picocli: a bare --rng, before another option, at the end, and twice, each make a device. */
    @Test
    void aBareRngMakesADeviceWhereverItStands() throws Exception {
        for (String[] args : new String[][] {{"--rng", "--cpus", "1"}, {"--cpus", "1", "--rng"}, {"--rng", "--rng"}}) {
            RunCommand cmd = new RunCommand();
            String[] all = run(args);
            new picocli.CommandLine(cmd).parseArgs(java.util.Arrays.copyOfRange(all, 1, all.length)); // without "run"
            long rngs = cmd.pcie.toConfig().devices().stream()
                    .filter(d -> d.kind() == PcieConfig.DeviceKind.VIRTIO_RNG)
                    .count();
            assertEquals(args[0].equals(args[1]) ? 2 : 1, rngs, String.join(" ", args));
        }
    }

    @Test
    void anRngWithoutAPortGetsARootPortOfItsOwnAndARootComplexWhenThereIsNone() {
        PcieConfig c = options("--rng", "", "--rng", "id=entropy").toConfig();
        assertEquals(List.of(new PcieConfig.RootComplexSpec("pcie0", 0, 256)), c.rootComplexes());
        assertEquals(
                List.of(
                        new PcieConfig.RootPortSpec("pcie0", "rng0-port", false),
                        new PcieConfig.RootPortSpec("pcie0", "entropy-port", false)),
                c.rootPorts());
        assertEquals(
                List.of(
                        new PcieConfig.DeviceSpec(PcieConfig.DeviceKind.VIRTIO_RNG, "rng0", null),
                        new PcieConfig.DeviceSpec(PcieConfig.DeviceKind.VIRTIO_RNG, "entropy", null)),
                c.devices());
    }

    @Test
    void anRngGoesBelowANamedPortOrOnARootBus() {
        PcieConfig c = options(
                        "--pcie-root-complex",
                        "rc0",
                        "--pcie-root-port",
                        "rc0:rp0",
                        "--rng",
                        "port=rp0",
                        "--rng",
                        "port=rc0,id=onbus")
                .toConfig();
        assertEquals(1, c.rootPorts().size(), "no extra port: " + c.rootPorts());
        var t = c.buildTopology();
        assertTrue(t.port("rp0").orElseThrow().linkedDevice().isPresent(), "rng0 below rp0");
        assertTrue(
                t.rootComplex("rc0")
                        .orElseThrow()
                        .integratedEndpoints()
                        .contains(t.endpoint("onbus").orElseThrow()),
                "onbus is an integrated endpoint on rc0's root bus");
    }

    @Test
    void badRngArgumentsAreOneLineUsageErrors() throws Exception {
        assertUsage("--rng 'speed=9': unknown setting 'speed' (known: id, port)", "--rng=speed=9");
        assertUsage("--rng 'port': 'port' needs a value (port=...)", "--rng=port");
        assertUsage("invalid PCIe topology: endpoint 'rng0': port 'nowhere' does not exist", "--rng=port=nowhere");
        assertUsage("invalid PCIe topology: device name 'x' is used twice", "--rng=id=x", "--rng=id=x");
    }

    @Test
    void theEndToEndHierarchyParses() {
        PcieConfig c = options(
                        "--pcie-root-complex", "rc0",
                        "--pcie-root-complex", "rc1,segment=1,buses=16",
                        "--pcie-root-port", "rc0:rp0",
                        "--pcie-root-port", "rc0:rp1",
                        "--pcie-root-port", "rc1:rp2,hotplug",
                        "--pcie-root-port", "rc1:rp3",
                        "--pcie-switch", "rp1:sw0,ports=3",
                        "--pcie-endpoint", "sw0.dp1:ep0,functions=2",
                        "--pcie-endpoint", "rp3:ep1,vendor=0x1234,device=0x5678,class=0x058000,bar64")
                .toConfig();
        assertEquals(
                List.of(new PcieConfig.RootComplexSpec("rc0", 0, 256), new PcieConfig.RootComplexSpec("rc1", 1, 16)),
                c.rootComplexes());
        assertEquals(
                List.of(
                        new PcieConfig.RootPortSpec("rc0", "rp0", false),
                        new PcieConfig.RootPortSpec("rc0", "rp1", false),
                        new PcieConfig.RootPortSpec("rc1", "rp2", true),
                        new PcieConfig.RootPortSpec("rc1", "rp3", false)),
                c.rootPorts());
        assertEquals(List.of(new PcieConfig.SwitchSpec("rp1", "sw0", 3, false)), c.switches());
        assertEquals(
                List.of(
                        new PcieConfig.EndpointSpec("sw0.dp1", "ep0", 2, 0x1B36, 0x0005, 0xFF0000, false),
                        new PcieConfig.EndpointSpec("rp3", "ep1", 1, 0x1234, 0x5678, 0x058000, true)),
                c.endpoints());
    }

    @Test
    void defaultSegmentsSkipTheOnesNamedExplicitly() {
        PcieConfig c = options(
                        "--pcie-root-complex",
                        "a",
                        "--pcie-root-complex",
                        "b,segment=0",
                        "--pcie-root-complex",
                        "c",
                        "--pcie-root-complex",
                        "d,segment=2")
                .toConfig();
        assertEquals(
                List.of(1, 0, 3, 2),
                c.rootComplexes().stream()
                        .map(PcieConfig.RootComplexSpec::segment)
                        .toList());
    }

    @Test
    void nothingGivenMeansNoPcie() {
        assertTrue(options().toConfig().isEmpty());
    }

    @Test
    void decimalAndHexNumbers() {
        PcieConfig c = options(
                        "--pcie-root-complex",
                        "rc,buses=0x10",
                        "--pcie-root-port",
                        "rc:rp",
                        "--pcie-endpoint",
                        "rp:ep,vendor=4660,functions=0x3")
                .toConfig();
        assertEquals(16, c.rootComplexes().getFirst().buses());
        assertEquals(0x1234, c.endpoints().getFirst().vendorId());
        assertEquals(3, c.endpoints().getFirst().functions());
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "--pcie-root-port|rp0|--pcie-root-port 'rp0': expected PARENT:NAME before the first ','",
                "--pcie-root-port|rc0:|--pcie-root-port 'rc0:': expected PARENT:NAME before the first ','",
                "--pcie-root-port|rc0:rp0,hotplug=yes|--pcie-root-port 'rc0:rp0,hotplug=yes': 'hotplug' takes no value",
                "--pcie-switch|rp0:sw,ports=three|--pcie-switch 'rp0:sw,ports=three': ports=three is not a number",
                "--pcie-switch|rp0:sw,ports|--pcie-switch 'rp0:sw,ports': 'ports' needs a value (ports=N)",
                "--pcie-switch|rp0:sw,port=2|--pcie-switch 'rp0:sw,port=2': unknown setting 'port' (known: hotplug, ports)",
                "--pcie-endpoint|rp0:ep,functions=2,functions=3|--pcie-endpoint 'rp0:ep,functions=2,functions=3': 'functions' is given twice",
                "--pcie-root-complex|a:b|--pcie-root-complex 'a:b': a root complex has no parent; expected NAME",
            })
    void malformedArgumentsNameTheOptionAndTheArgument(String option, String arg, String message) {
        PcieOptions o = options("--pcie-root-complex", "rc0", "--pcie-root-port", "rc0:rp0", option, arg);
        assertEquals(
                message,
                assertThrows(IllegalArgumentException.class, o::toConfig).getMessage());
    }

    @Test
    void aPortOnAMissingRootComplexIsRefusedWithStatus2() throws Exception {
        assertUsage(
                "invalid PCIe topology: root port 'rp3': root complex 'rc9' does not exist",
                "--pcie-root-complex",
                "rc0",
                "--pcie-root-port",
                "rc9:rp3");
    }

    @Test
    void everyProblemIsListedOnOneLine() throws Exception {
        assertUsage(
                "invalid PCIe topology: switch 'sw0': port 'rp7' does not exist; endpoint 'ep0': port 'sw0.dp5' does not exist",
                "--pcie-root-complex",
                "rc0",
                "--pcie-switch",
                "rp7:sw0,ports=2",
                "--pcie-endpoint",
                "sw0.dp5:ep0");
    }

    @Test
    void twoDevicesOnOnePortAreRefused() throws Exception {
        assertUsage(
                "invalid PCIe topology: endpoint 'b': port 'rp0' already has endpoint 'a'",
                "--pcie-root-complex",
                "rc0",
                "--pcie-root-port",
                "rc0:rp0",
                "--pcie-endpoint",
                "rp0:a",
                "--pcie-endpoint",
                "rp0:b");
    }

    @Test
    void segmentBeyondTheEcamAreaIsRefused() throws Exception {
        assertUsage(
                "invalid PCIe topology: root complex 'rc0': segment=16 out of range 0-15 (the memory map has ECAM for 16 segments)",
                "--pcie-root-complex",
                "rc0,segment=16");
    }

    @Test
    void tooFewBusesForTheHierarchy() throws Exception {
        assertUsage(
                "invalid PCIe topology: root complex 'rc0': buses=2 is too small, the root bus, the ports and the switches"
                        + " below it need at least 6",
                "--pcie-root-complex",
                "rc0,buses=2",
                "--pcie-root-port",
                "rc0:rp0",
                "--pcie-switch",
                "rp0:sw0,ports=3");
    }

    @Test
    void portsWithoutARootComplex() throws Exception {
        assertUsage("PCIe ports, switches and endpoints need a --pcie-root-complex", "--pcie-root-port", "rc0:rp0");
    }

    @Test
    void helpDocumentsThePcieOptions() {
        CliRunner r = CliRunner.run("run", "--help");
        assertEquals(0, r.status());
        for (String opt : new String[] {
            "--pcie-root-complex=NAME[,segment=N][,buses=N]",
            "--pcie-root-port=RC:NAME[,hotplug]",
            "--pcie-switch=PORT:NAME[,ports=N][,hotplug]",
            "--pcie-endpoint=PORT:NAME[,functions=N]"
        }) {
            assertTrue(r.out().contains(opt), "help lacks " + opt + ":\n" + r.out());
        }
    }
}
