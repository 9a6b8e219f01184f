package dev.jvmm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A guest booted by jvmm in the emulated arm64 host with two root complexes, four root ports, a switch with three
 * downstream ports and endpoints below it enumerates exactly that hierarchy, and the BARs the guest assigns work.
 *
 * <p>The guest side is {@code 50-pcie.sh} (test resource), appended to the test guest's initramfs as
 * {@code /jvmm.d/50-pcie.sh} (tools/guest/init runs it); it prints what Linux found in /sys/bus/pci and /proc/iomem
 * and pokes each endpoint's BAR 0 with devmem. The expected tree below is written by hand from the topology and the
 * way Linux numbers buses when it assigns them itself (depth first, each bridge the next free bus).
 */
class PcieTopologyIT {
    private static final String JVMM = "/work/jvmm/bin/jvmm run --kernel /work/guest/Image"
            + " --initrd /work/guest/initramfs-pcie.cpio --cpus 2 --memory 256M";
    /** rc0: rp0 (empty), rp1 -> sw0 (3 ports) -> dp1 -> ep0 (2 functions); rc1: rp2 (hot-plug, empty), rp3 -> ep1. */
    static final String TOPOLOGY = String.join(
            " ",
            "--pcie-root-complex rc0",
            "--pcie-root-complex rc1,segment=1,buses=16",
            "--pcie-root-port rc0:rp0",
            "--pcie-root-port rc0:rp1",
            "--pcie-root-port rc1:rp2,hotplug",
            "--pcie-root-port rc1:rp3",
            "--pcie-switch rp1:sw0,ports=3",
            "--pcie-endpoint sw0.dp1:ep0,functions=2",
            "--pcie-endpoint rp3:ep1,vendor=0x1234,device=0x5678,class=0x058000,bar64");

    static EmulatedAarch64Host.Result result;

    @BeforeAll
    static void bootGuest(@TempDir Path tmp) throws Exception {
        EmulatedAarch64Host.skipIfAsked();
        Path share = GuestImage.share(tmp, PcieTopologyIT.class, "50-pcie.sh", "initramfs-pcie.cpio");
        String host = String.join(
                "\n",
                guest("pcie", TOPOLOGY + " --cmdline 'console=ttyAMA0 quiet panic=-1'"),
                guest("bad-topology", "--pcie-root-complex rc0 --pcie-root-port rc9:rp0"),
                "true");
        result = EmulatedAarch64Host.runShared(share, host, List.of(), 900);
    }

    private static String guest(String name, String args) {
        return EmulatedAarch64Host.marked(name, JVMM + " " + args);
    }

    static Map<String, String> fields(String line) {
        return EmulatedAarch64Host.fields(line);
    }

    @Test
    void theGuestEnumeratesExactlyTheHierarchy() {
        EmulatedAarch64Host.Section r = result.section("pcie");
        List<String> seen = r.lines("JVMM-PCI").stream()
                .map(PcieTopologyIT::fields)
                .map(f -> String.join(
                        " ",
                        f.get("dev"),
                        f.get("vendor") + ":" + f.get("device"),
                        f.get("class"),
                        "parent=" + f.get("parent"),
                        "buses=" + f.getOrDefault("buses", "-")))
                .toList();
        assertEquals(
                List.of(
                        // segment 0: rp0 empty (bus 1); rp1 -> switch upstream port on bus 2, internal bus 3, its
                        // downstream ports' buses 4, 5, 6; the two-function endpoint on bus 5.
                        "0000:00:00.0 0x1b36:0x000c 0x060400 parent=pci0000:00 buses=00,01,01",
                        "0000:00:01.0 0x1b36:0x000c 0x060400 parent=pci0000:00 buses=00,02,06",
                        "0000:02:00.0 0x104c:0x8232 0x060400 parent=0000:00:01.0 buses=02,03,06",
                        "0000:03:00.0 0x104c:0x8233 0x060400 parent=0000:02:00.0 buses=03,04,04",
                        "0000:03:01.0 0x104c:0x8233 0x060400 parent=0000:02:00.0 buses=03,05,05",
                        "0000:03:02.0 0x104c:0x8233 0x060400 parent=0000:02:00.0 buses=03,06,06",
                        "0000:05:00.0 0x1b36:0x0005 0xff0000 parent=0000:03:01.0 buses=-",
                        "0000:05:00.1 0x1b36:0x0005 0xff0000 parent=0000:03:01.0 buses=-",
                        // segment 1 (its own ECAM and domain): rp2 (hot-plug) empty on bus 1; rp3 -> ep1 on bus 2.
                        "0001:00:00.0 0x1b36:0x000c 0x060400 parent=pci0001:00 buses=00,01,01",
                        "0001:00:01.0 0x1b36:0x000c 0x060400 parent=pci0001:00 buses=00,02,02",
                        "0001:02:00.0 0x1234:0x5678 0x058000 parent=0001:00:01.0 buses=-"),
                seen,
                r.console());
        assertTrue(r.lines("JVMM-PCI-END").contains("functions=11"), r.console());
        assertTrue(r.console().contains("JVMM-GUEST script=50-pcie.sh rc=0"), r.console());
        assertEquals(0, r.status(), "the guest powered off:\n" + r.console());
    }

    @Test
    void eachHostBridgeHasTheEcamWindowOfItsSegment() {
        List<String> dmesg = result.section("pcie").lines("JVMM-PCI-DMESG");
        // 256 MiB of RAM from 1 GiB: the ECAM area starts at 4 GiB, 256 MiB per segment; rc1 has 16 buses.
        assertTrue(
                dmesg.stream().anyMatch(l -> l.contains("ECAM at [mem 0x100000000-0x10fffffff] for [bus 00-ff]")),
                dmesg.toString());
        assertTrue(
                dmesg.stream().anyMatch(l -> l.contains("ECAM at [mem 0x110000000-0x110ffffff] for [bus 00-0f]")),
                dmesg.toString());
        assertTrue(dmesg.stream().anyMatch(l -> l.contains("PCI host bridge to bus 0000:00")), dmesg.toString());
        assertTrue(dmesg.stream().anyMatch(l -> l.contains("PCI host bridge to bus 0001:00")), dmesg.toString());
    }

    /** A /proc/iomem line: range, name and nesting depth (two spaces per level). */
    record IomemEntry(long start, long end, String name, int depth) {
        boolean contains(long a, long b) {
            return Long.compareUnsigned(start, a) <= 0 && Long.compareUnsigned(b, end) <= 0;
        }
    }

    static List<IomemEntry> iomem(EmulatedAarch64Host.Section r) {
        Pattern p = Pattern.compile("^( *)([0-9a-f]+)-([0-9a-f]+) : (.+)$");
        List<IomemEntry> out = new ArrayList<>();
        for (String l : r.lines("JVMM-PCI-IOMEM")) {
            Matcher m = p.matcher(l);
            if (m.matches()) {
                out.add(new IomemEntry(
                        Long.parseUnsignedLong(m.group(2), 16),
                        Long.parseUnsignedLong(m.group(3), 16),
                        m.group(4).strip(),
                        m.group(1).length() / 2));
            }
        }
        return out;
    }

    @Test
    void everyBarLiesInsideItsOwnHostBridgesWindow() {
        EmulatedAarch64Host.Section r = result.section("pcie");
        List<IomemEntry> iomem = iomem(r);
        Map<String, String> windowOf = new LinkedHashMap<>();
        for (String line : r.lines("JVMM-PCI")) {
            Map<String, String> f = fields(line);
            if (!f.get("header").equals("00") && !f.get("header").equals("80")) continue;
            String[] bar = f.get("bar0").split("-");
            long start = Long.decode(bar[0]), end = Long.decode(bar[1]);
            assertEquals(4095, end - start, f.get("dev") + ": a 4 KiB BAR");
            // The host bridge windows are the top-level iomem entries named after the DT node (pcie@<ECAM base>).
            IomemEntry window = iomem.stream()
                    .filter(e -> e.depth() == 0 && e.name().startsWith("pcie@") && e.contains(start, end))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError(f.get("dev") + " BAR " + f.get("bar0")
                            + " lies in no host bridge window:\n" + String.join("\n", r.lines("JVMM-PCI-IOMEM"))));
            assertTrue(iomem.stream().anyMatch(e -> e.name().equals(f.get("dev")) && e.start() == start), f.get("dev"));
            windowOf.put(f.get("dev"), window.name() + " " + Long.toHexString(window.start()));
        }
        assertEquals(3, windowOf.size(), windowOf.toString());
        assertEquals(windowOf.get("0000:05:00.0"), windowOf.get("0000:05:00.1"));
        assertFalse(
                windowOf.get("0000:05:00.0").equals(windowOf.get("0001:02:00.0")),
                "segments have separate windows: " + windowOf);
        // ep1's BAR is 64-bit prefetchable: the guest placed it in the 64-bit window, above 4 GiB.
        String ep1 = fields(r.lines("JVMM-PCI").stream()
                        .filter(l -> l.startsWith("dev=0001:02:00.0"))
                        .findFirst()
                        .orElseThrow())
                .get("bar0");
        assertTrue(Long.decode(ep1.split("-")[0]) >= 1L << 32, ep1);
    }

    @Test
    void barsAreMappedWhereTheGuestPutsThem() {
        EmulatedAarch64Host.Section r = result.section("pcie");
        List<Map<String, String>> bars =
                r.lines("JVMM-PCI-BAR").stream().map(PcieTopologyIT::fields).toList();
        assertEquals(
                List.of("0000:05:00.0", "0000:05:00.1", "0001:02:00.0"),
                bars.stream().map(b -> b.get("dev")).toList(),
                r.console());
        for (Map<String, String> b : bars) {
            // Before the guest enables memory decoding the BAR is not on the bus: the window's background reads all
            // ones. Enabled: the scratch registers (0 at reset, each function its own); the write reads back.
            assertEquals("0xFFFFFFFF", b.get("before").toUpperCase().replace("0X", "0x"), b.toString());
            assertEquals("0x00000000", b.get("enabled").toUpperCase().replace("0X", "0x"), b.toString());
            assertEquals("0xCAFEF00D", b.get("readback").toUpperCase().replace("0X", "0x"), b.toString());
        }
    }

    @Test
    void anInvalidTopologyIsRefusedBeforeBooting() {
        EmulatedAarch64Host.Section r = result.section("bad-topology");
        assertEquals(2, r.status(), r.console());
        assertTrue(
                r.console().contains("jvmm: invalid PCIe topology: root port 'rp0': root complex 'rc9' does not exist"),
                r.console());
    }
}
