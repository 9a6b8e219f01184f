package dev.jvmm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * MSI end to end on a GICv3 host (the emulated arm64 host, GICv3 + ITS): four virtio-rng devices, one on a root
 * port, one behind a switch downstream port, one on a root bus and one on a second root complex (PCI segment 1),
 * booted once per
 * {@code --gic-msi} mode. The guest ({@code 60-msi.sh}) reads /dev/hwrng through each in turn and prints its
 * /proc/interrupts; every read must return data and make that device's MSI-X vector count grow, on the MSI domain
 * the mode promises: the ITS (one vITS per segment) or jvmm's GICv2m frame.
 */
class MsiIT {
    static final String JVMM = "/work/jvmm/bin/jvmm run --kernel /work/guest/Image"
            + " --initrd /work/guest/initramfs-msi.cpio --cpus 2 --memory 256M --stats"
            + " --cmdline 'console=ttyAMA0 quiet panic=-1'";
    /**
     * The hierarchy the device tests share: two root complexes (segments 0 and 1), root ports rp0 and rp1 on rc0, a
     * two-port switch sw0 below rp1, root port rp2 on rc1.
     */
    static final String TOPOLOGY = String.join(
            " ",
            "--pcie-root-complex rc0",
            "--pcie-root-complex rc1,segment=1",
            "--pcie-root-port rc0:rp0",
            "--pcie-root-port rc0:rp1",
            "--pcie-switch rp1:sw0,ports=2",
            "--pcie-root-port rc1:rp2");
    /**
     * rc0: rp0 -> rng-rp; rp1 -> sw0 (2 ports), dp1 -> rng-sw; rng-rc on rc0's root bus (an integrated endpoint);
     * rc1 (segment 1): rp2 -> rng-seg1.
     */
    static final String DEVICES = String.join(
            " ",
            TOPOLOGY,
            "--rng port=rp0,id=rng-rp",
            "--rng port=sw0.dp1,id=rng-sw",
            "--rng port=rp2,id=rng-seg1",
            "--rng port=rc0,id=rng-rc");
    /**
     * Where Linux puts them (it numbers buses depth first): rp0's bus 1, the switch's dp1 bus 5, rc0's root bus
     * device 2 (after the two root ports), segment 1 bus 1.
     */
    static final Set<String> PCI_ADDRESSES = Set.of("0000:01:00.0", "0000:05:00.0", "0000:00:02.0", "0001:01:00.0");

    static EmulatedAarch64Host.Result result;

    @BeforeAll
    static void bootGuests(@TempDir Path tmp) throws Exception {
        EmulatedAarch64Host.skipIfAsked();
        Path share = guestShare(tmp);
        String host = String.join(
                "\n",
                EmulatedAarch64Host.marked("its", JVMM + " --gic-msi=its " + DEVICES),
                EmulatedAarch64Host.marked("v2m", JVMM + " --gic-msi=v2m " + DEVICES),
                EmulatedAarch64Host.marked("auto", JVMM + " --gic-msi=auto " + DEVICES),
                EmulatedAarch64Host.marked("bad-port", JVMM + " --rng port=nowhere"),
                "true");
        result = EmulatedAarch64Host.runShared(share, host, List.of(), 1200);
    }

    /** The test guest with {@code 60-msi.sh} appended as /jvmm.d/60-msi.sh. */
    static Path guestShare(Path tmp) throws Exception {
        return GuestImage.share(tmp, MsiIT.class, "60-msi.sh", "initramfs-msi.cpio");
    }

    @ParameterizedTest
    @ValueSource(strings = {"its", "v2m", "auto"})
    void everyRngDeliversDataThroughItsOwnMsixVector(String mode) {
        checkGuest(result.section(mode), mode.equals("v2m") ? "GICv2m" : "ITS");
    }

    @Test
    void autoChoosesTheItsOnAGicV3HostAndSaysWhy() {
        EmulatedAarch64Host.Section auto = result.section("auto");
        assertTrue(
                auto.console()
                        .contains("jvmm-stats msi-controller=its gic=v3 reason: the host's KVM can create a GICv3 ITS"),
                auto.console());
    }

    @Test
    void aDeviceOnAPortThatDoesNotExistIsRefusedBeforeBooting() {
        EmulatedAarch64Host.Section bad = result.section("bad-port");
        assertEquals(2, bad.status(), bad.console());
        assertTrue(
                bad.console().contains("jvmm: invalid PCIe topology: endpoint 'rng0': port 'nowhere' does not exist"),
                bad.console());
    }

    /**
     * What every mode must show: four virtio-rng functions bound to the driver at the expected addresses, each with
     * MSI-X vectors on {@code domain}; each read of /dev/hwrng returned 64 bytes; each device's requests vector
     * grew during the read through it; no two reads returned the same bytes; the guest powered off; and jvmm
     * delivered through irqfds.
     */
    static void checkGuest(EmulatedAarch64Host.Section run, String domain) {
        String console = run.console();
        assertEquals(0, run.status(), "the guest powered off cleanly:\n" + console);
        assertTrue(console.contains("JVMM-GUEST script=60-msi.sh rc=0"), console);

        List<Map<String, String>> devs = run.lines("JVMM-MSI-DEV").stream()
                .map(EmulatedAarch64Host::fields)
                .toList();
        assertEquals(
                PCI_ADDRESSES,
                new HashSet<>(devs.stream().map(d -> d.get("pci")).toList()),
                console);
        for (Map<String, String> d : devs) {
            assertEquals("0x1044", d.get("device"), "virtio 1.0 entropy device id (0x1040 + 4): " + d);
            assertEquals("virtio_rng", d.get("driver"), "the virtio device is bound to virtio_rng: " + d);
            assertTrue(d.get("msi-irqs").split(",").length >= 2, "config + request vectors: " + d);
        }

        List<String> irqLines = run.lines("JVMM-MSI-IRQ");
        for (String pci : PCI_ADDRESSES) {
            // Linux names per-device MSI domains after the parent domain and the device (e.g.
            // ITS-PCI-MSIX-0001:01:00.0).
            assertTrue(
                    irqLines.stream().anyMatch(l -> l.contains(pci) && l.contains(domain) && l.contains("MSI")),
                    pci + " has no MSI line on " + domain + ":\n" + String.join("\n", irqLines));
        }

        List<Map<String, String>> reads = run.lines("JVMM-MSI-READ").stream()
                .map(EmulatedAarch64Host::fields)
                .toList();
        assertEquals(PCI_ADDRESSES.size(), reads.size(), console);
        Set<String> grew = new HashSet<>();
        Set<String> data = new HashSet<>();
        for (Map<String, String> r : reads) {
            assertEquals(r.get("rng"), r.get("current"), "rng_current switched: " + r);
            assertEquals(128, r.get("data").length(), "64 bytes from /dev/hwrng through " + r.get("rng") + ": " + r);
            assertNotEquals("0".repeat(128), r.get("data"));
            data.add(r.get("data"));
            Map<String, Long> before = counts(r.get("before")), after = counts(r.get("after"));
            for (String v : after.keySet()) {
                if (after.get(v) > before.getOrDefault(v, 0L)) grew.add(v);
            }
        }
        assertEquals(PCI_ADDRESSES.size(), data.size(), "every read returned fresh bytes: " + data);
        Set<String> virtio =
                new HashSet<>(devs.stream().map(d -> d.get("virtio")).toList());
        assertEquals(virtio, grew, "every device's requests vector counted interrupts during a read through it");

        Matcher stats = Pattern.compile(
                        "jvmm-stats msi: (\\w+): delivered=(\\d+) blocked=(\\d+) failed=(\\d+) rejected=(\\d+); (.*)")
                .matcher(console);
        assertTrue(stats.find(), console);
        assertEquals("0", stats.group(5), "no message went to a wrong doorbell: " + stats.group());
        for (String dev : List.of("rng-rp", "rng-sw", "rng-seg1", "rng-rc")) {
            Matcher m = Pattern.compile(dev + " irqfd=(\\d+) direct=(\\d+)").matcher(stats.group(6));
            assertTrue(m.find(), stats.group(6));
            assertTrue(Long.parseLong(m.group(1)) > 0, dev + " delivered through its irqfd: " + stats.group(6));
        }
        assertFalse(console.contains("Exception"), console);
    }

    /** {@code virtio0=5,virtio1=7} as a map. */
    static Map<String, Long> counts(String list) {
        Map<String, Long> out = new java.util.LinkedHashMap<>();
        for (String kv : list.split(",")) {
            int eq = kv.indexOf('=');
            if (eq > 0 && !kv.substring(eq + 1).isEmpty())
                out.put(kv.substring(0, eq), Long.parseLong(kv.substring(eq + 1)));
        }
        return out;
    }
}
