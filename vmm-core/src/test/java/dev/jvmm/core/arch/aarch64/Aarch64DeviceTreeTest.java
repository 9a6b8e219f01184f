package dev.jvmm.core.arch.aarch64;

import static dev.jvmm.core.arch.aarch64.MemoryMap.GiB;
import static dev.jvmm.core.arch.aarch64.MemoryMap.MiB;
import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.core.arch.aarch64.Aarch64DeviceTree.Config;
import dev.jvmm.core.arch.aarch64.Aarch64DeviceTree.MsiController;
import dev.jvmm.core.boot.InitrdRange;
import dev.jvmm.core.fdt.Dtc;
import dev.jvmm.core.fdt.Dts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class Aarch64DeviceTreeTest {
    private static final String GIC = "/intc@8000000";
    private static final String UART = "/pl011@9000000";

    private static Dts decompile(Config c) throws Exception {
        Dtc.Result r = Dtc.decompile(Aarch64DeviceTree.build(c));
        // Every dtc check is on (Dtc.EXTRA_CHECKS); none may fire.
        assertEquals("", r.stderr(), "dtc warnings:\n" + r.stderr() + "\n" + r.stdout());
        return Dts.parse(r.stdout());
    }

    private static Config config(int vcpus, MsiController msi) {
        return new Config(
                MemoryMap.create(vcpus, GiB, 40),
                "console=ttyAMA0 earlycon=pl011,0x09000000",
                new InitrdRange(0x4800_0000L, 0x4812_3457L),
                msi,
                true);
    }

    @Test
    void rootCpusMemoryAndChosen() throws Exception {
        Dts dts = decompile(config(2, MsiController.ITS));
        assertEquals("<0x02>", dts.get("/", "#address-cells"));
        assertEquals("<0x02>", dts.get("/", "#size-cells"));
        assertEquals(dts.get(GIC, "phandle"), dts.get("/", "interrupt-parent"));

        assertEquals("\"memory\"", dts.get("/memory@40000000", "device_type"));
        assertArrayEquals(new long[] {0, 0x4000_0000L, 0, 0x4000_0000L}, Dts.cells(dts.get("/memory@40000000", "reg")));

        assertEquals("<0x01>", dts.get("/cpus", "#address-cells"));
        assertEquals("<0x00>", dts.get("/cpus", "#size-cells"));
        for (String cpu : List.of("/cpus/cpu@0", "/cpus/cpu@1")) {
            assertEquals("\"cpu\"", dts.get(cpu, "device_type"));
            assertEquals("\"arm,armv8\"", dts.get(cpu, "compatible"));
            assertEquals("\"psci\"", dts.get(cpu, "enable-method"));
        }
        assertEquals("<0x01>", dts.get("/cpus/cpu@1", "reg"));
        assertFalse(dts.has("/cpus/cpu@2"));

        assertEquals("\"console=ttyAMA0 earlycon=pl011,0x09000000\"", dts.get("/chosen", "bootargs"));
        assertEquals("\"" + UART + "\"", dts.get("/chosen", "stdout-path"));
        assertArrayEquals(new long[] {0, 0x4800_0000L}, Dts.cells(dts.get("/chosen", "linux,initrd-start")));
        assertArrayEquals(new long[] {0, 0x4812_3457L}, Dts.cells(dts.get("/chosen", "linux,initrd-end")));
        assertEquals("\"" + UART + "\"", dts.get("/aliases", "serial0"));
    }

    @Test
    void noInitrdMeansNoInitrdProperties() throws Exception {
        Dts dts = decompile(new Config(MemoryMap.create(1, 256 * MiB, 40), "", null, MsiController.ITS, false));
        assertFalse(dts.node("/chosen").containsKey("linux,initrd-start"));
        assertFalse(dts.node("/chosen").containsKey("linux,initrd-end"));
        assertFalse(dts.has("/pl031@9010000"), "no RTC when not asked for");
        assertArrayEquals(new long[] {0, 0x4000_0000L, 0, 0x1000_0000L}, Dts.cells(dts.get("/memory@40000000", "reg")));
    }

    @Test
    void cpuRegIsTheMpidrAffinityBeyondSixteenVcpus() throws Exception {
        Dts dts = decompile(config(18, MsiController.ITS));
        // KVM: vCPU 16 -> Aff1 = 1, Aff0 = 0.
        assertEquals("<0x100>", dts.get("/cpus/cpu@100", "reg"));
        assertEquals("<0x101>", dts.get("/cpus/cpu@101", "reg"));
        assertEquals("<0x0f>", dts.get("/cpus/cpu@f", "reg"));
        assertFalse(dts.has("/cpus/cpu@10"));
    }

    @Test
    void psciAndTimer() throws Exception {
        Dts dts = decompile(config(1, MsiController.ITS));
        assertEquals("\"arm,psci-0.2\"", dts.get("/psci", "compatible"));
        assertEquals("\"hvc\"", dts.get("/psci", "method"));
        assertEquals("\"arm,armv8-timer\"", dts.get("/timer", "compatible"));
        // Secure, non-secure, virtual, hypervisor physical timer: PPI 13, 14, 11, 10; level-high (4).
        assertArrayEquals(
                new long[] {1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4}, Dts.cells(dts.get("/timer", "interrupts")));
        assertEquals("", dts.get("/timer", "always-on"));
    }

    @Test
    void gicV3WithIts() throws Exception {
        Dts dts = decompile(config(3, MsiController.ITS));
        assertEquals("\"arm,gic-v3\"", dts.get(GIC, "compatible"));
        assertEquals("<0x03>", dts.get(GIC, "#interrupt-cells"));
        assertEquals("", dts.get(GIC, "interrupt-controller"));
        assertEquals("", dts.get(GIC, "ranges"));
        assertArrayEquals(
                new long[] {0, 0x0800_0000L, 0, 0x1_0000, 0, 0x080A_0000L, 0, 3 * 0x2_0000L},
                Dts.cells(dts.get(GIC, "reg")));
        String its = GIC + "/its@8080000";
        assertEquals("\"arm,gic-v3-its\"", dts.get(its, "compatible"));
        assertEquals("", dts.get(its, "msi-controller"));
        assertEquals("<0x01>", dts.get(its, "#msi-cells"));
        assertArrayEquals(new long[] {0, 0x0808_0000L, 0, 0x2_0000}, Dts.cells(dts.get(its, "reg")));
        assertFalse(dts.has(GIC + "/v2m@8020000"));
    }

    @Test
    void gicV2mFrame() throws Exception {
        Dts dts = decompile(config(2, MsiController.GICV2M));
        String v2m = GIC + "/v2m@8020000";
        assertEquals("\"arm,gic-v2m-frame\"", dts.get(v2m, "compatible"));
        assertEquals("", dts.get(v2m, "msi-controller"));
        assertArrayEquals(new long[] {0, 0x0802_0000L, 0, 0x1000}, Dts.cells(dts.get(v2m, "reg")));
        // INTIDs: SPI 48 = INTID 80, 64 of them.
        assertArrayEquals(new long[] {80}, Dts.cells(dts.get(v2m, "arm,msi-base-spi")));
        assertArrayEquals(new long[] {64}, Dts.cells(dts.get(v2m, "arm,msi-num-spis")));
        assertFalse(dts.has(GIC + "/its@8080000"));
    }

    @Test
    void noMsiControllerAtAll() throws Exception {
        Dts dts = decompile(config(1, MsiController.NONE));
        for (Map.Entry<String, Map<String, String>> node : dts.nodes().entrySet()) {
            assertFalse(node.getValue().containsKey("msi-controller"), node.getKey());
        }
        assertEquals(
                List.of(),
                dts.nodes().keySet().stream()
                        .filter(n -> n.startsWith(GIC + "/"))
                        .toList(),
                "no GIC children");
    }

    @Test
    void pl011AndPl031WithTheirClock() throws Exception {
        Dts dts = decompile(config(1, MsiController.ITS));
        String clk = dts.get("/apb-pclk", "phandle");
        assertEquals("\"fixed-clock\"", dts.get("/apb-pclk", "compatible"));
        assertArrayEquals(new long[] {24_000_000}, Dts.cells(dts.get("/apb-pclk", "clock-frequency")));
        assertEquals("<0x00>", dts.get("/apb-pclk", "#clock-cells"));

        assertEquals("\"arm,pl011\\0arm,primecell\"", dts.get(UART, "compatible"));
        assertArrayEquals(new long[] {0, 0x0900_0000L, 0, 0x1000}, Dts.cells(dts.get(UART, "reg")));
        assertArrayEquals(new long[] {0, 1, 4}, Dts.cells(dts.get(UART, "interrupts")), "SPI 1, level-high");
        long c = Dts.cells(clk)[0];
        assertArrayEquals(new long[] {c, c}, Dts.cells(dts.get(UART, "clocks")));
        assertEquals("\"uartclk\\0apb_pclk\"", dts.get(UART, "clock-names"));

        String rtc = "/pl031@9010000";
        assertEquals("\"arm,pl031\\0arm,primecell\"", dts.get(rtc, "compatible"));
        assertArrayEquals(new long[] {0, 0x0901_0000L, 0, 0x1000}, Dts.cells(dts.get(rtc, "reg")));
        assertArrayEquals(new long[] {0, 2, 4}, Dts.cells(dts.get(rtc, "interrupts")));
        assertEquals("\"apb_pclk\"", dts.get(rtc, "clock-names"));
    }

    /** Linux's pvpanic-mmio driver binds to this compatible and maps reg (drivers/misc/pvpanic/pvpanic-mmio.c). */
    @Test
    void pvpanicRegisterForTheGuestKernelsPanicNotifier() throws Exception {
        Dts dts = decompile(config(1, MsiController.ITS));
        assertEquals("\"qemu,pvpanic-mmio\"", dts.get("/pvpanic@9020000", "compatible"));
        assertArrayEquals(new long[] {0, 0x0902_0000L, 0, 2}, Dts.cells(dts.get("/pvpanic@9020000", "reg")));
    }

    @ParameterizedTest
    @EnumSource(MsiController.class)
    void extraNodesSeeTheMachinePhandles(MsiController msi) throws Exception {
        Config c = new Config(MemoryMap.create(1, GiB, 40), "", null, msi, false, List.of((fdt, ph, map) -> {
            fdt.beginNode("test-node");
            fdt.property("gic", ph.gic());
            if (ph.msiController() != 0) fdt.property("msi-ref", ph.msiController());
            fdt.endNode();
        }));
        Dts dts = decompile(c);
        assertEquals(dts.get(GIC, "phandle"), dts.get("/test-node", "gic"));
        switch (msi) {
            case ITS -> assertEquals(dts.get(GIC + "/its@8080000", "phandle"), dts.get("/test-node", "msi-ref"));
            case GICV2M -> assertEquals(dts.get(GIC + "/v2m@8020000", "phandle"), dts.get("/test-node", "msi-ref"));
            case NONE -> assertFalse(dts.node("/test-node").containsKey("msi-ref"));
        }
    }

    @Test
    void everySegmentsItsIsAChildOfTheGicWithItsOwnPhandle() throws Exception {
        var its = dev.jvmm.core.irq.DeviceIdMapping.forSegments(List.of(0, 1, 15));
        Config c = new Config(
                MemoryMap.create(2, GiB, 40),
                "",
                null,
                MsiController.ITS,
                false,
                List.of((fdt, ph, map) -> {
                    fdt.beginNode("test-node");
                    fdt.property("its1", ph.msiControllerFor(1));
                    fdt.property("its15", ph.msiControllerFor(15));
                    fdt.endNode();
                }),
                Aarch64DeviceTree.Gic.V3,
                its);
        Dts dts = decompile(c);
        System.out.println(Dtc.decompile(Aarch64DeviceTree.build(c)).stdout());
        for (var i : its.its()) {
            String node = GIC + "/its@" + Long.toHexString(i.base());
            assertEquals("\"arm,gic-v3-its\"", dts.get(node, "compatible"));
            assertTrue(dts.node(node).containsKey("msi-controller"));
            assertArrayEquals(new long[] {0, i.base(), 0, 0x20000}, Dts.cells(dts.get(node, "reg")));
        }
        assertEquals(dts.get(GIC + "/its@a000000", "phandle"), dts.get("/test-node", "its1"));
        assertEquals(dts.get(GIC + "/its@a1c0000", "phandle"), dts.get("/test-node", "its15"));
    }

    @Test
    void aGicV2MachineHasTheCortexA15GicWithTheV2mFrameAndCpuMasksOnThePpis() throws Exception {
        Config c = new Config(
                MemoryMap.create(2, GiB, 40),
                "",
                null,
                MsiController.GICV2M,
                false,
                List.of(),
                Aarch64DeviceTree.Gic.V2,
                dev.jvmm.core.irq.DeviceIdMapping.forSegments(List.of()));
        Dts dts = decompile(c);
        assertEquals("\"arm,cortex-a15-gic\"", dts.get(GIC, "compatible"));
        assertArrayEquals(
                new long[] {0, 0x0800_0000L, 0, 0x1000, 0, 0x0801_0000L, 0, 0x2000}, Dts.cells(dts.get(GIC, "reg")));
        assertEquals("\"arm,gic-v2m-frame\"", dts.get(GIC + "/v2m@8020000", "compatible"));
        // PPI flags: level-high (4) with CPUs 0 and 1 in bits 15:8, as QEMU's virt writes them for gic-version=2.
        assertArrayEquals(
                new long[] {1, 13, 0x304, 1, 14, 0x304, 1, 11, 0x304, 1, 10, 0x304},
                Dts.cells(dts.get("/timer", "interrupts")));
        assertThrows(
                IllegalArgumentException.class,
                () -> new Config(
                        MemoryMap.create(2, GiB, 40),
                        "",
                        null,
                        MsiController.ITS,
                        false,
                        List.of(),
                        Aarch64DeviceTree.Gic.V2,
                        dev.jvmm.core.irq.DeviceIdMapping.forSegments(List.of())));
    }

    @Test
    void phandlesAreUnique() throws Exception {
        Dts dts = decompile(config(2, MsiController.ITS));
        List<String> phandles = dts.nodes().values().stream()
                .map(n -> n.get("phandle"))
                .filter(p -> p != null)
                .toList();
        assertEquals(3, phandles.size());
        assertEquals(phandles.size(), phandles.stream().distinct().count());
    }

    /**
     * Cross-check against the reference VMM: QEMU's virt board (gic-version=3, its=on) under the same vCPU count
     * and RAM must describe the timer, GIC distributor, ITS, UART, RTC, RAM and CPUs the same way. Skipped when
     * qemu-system-aarch64 is not installed. (QEMU's redistributor region is the whole 0xF60000 area; ours is
     * exactly one frame pair per vCPU, so that cell differs on purpose.)
     */
    @Test
    void matchesQemuVirtForTheDevicesBothDescribe() throws Exception {
        Path qemu = Path.of("/usr/bin/qemu-system-aarch64");
        Assumptions.assumeTrue(
                Files.isExecutable(qemu), "qemu-system-aarch64 not installed: skipping the QEMU cross-check");
        Path dtb = Files.createTempFile("qemu-virt-", ".dtb");
        try {
            Process p = new ProcessBuilder(
                            qemu.toString(),
                            "-M",
                            "virt,gic-version=3,its=on,dumpdtb=" + dtb,
                            "-cpu",
                            "cortex-a57",
                            "-smp",
                            "2",
                            "-m",
                            "1G",
                            "-nographic",
                            "-nodefaults")
                    .redirectErrorStream(true)
                    .start();
            p.getInputStream().readAllBytes();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            Assumptions.assumeTrue(Files.size(dtb) > 0, "QEMU did not dump a DTB");
            Dts q = Dts.parse(Dtc.decompile(Files.readAllBytes(dtb)).stdout());
            Dts ours = decompile(config(2, MsiController.ITS));

            assertEquals(q.get("/timer", "interrupts"), ours.get("/timer", "interrupts"));
            assertEquals(q.get("/memory@40000000", "reg"), ours.get("/memory@40000000", "reg"));
            assertEquals(q.get("/cpus/cpu@0", "reg"), ours.get("/cpus/cpu@0", "reg"));
            assertEquals(q.get("/cpus/cpu@1", "reg"), ours.get("/cpus/cpu@1", "reg"));
            assertEquals(q.get("/cpus/cpu@1", "enable-method"), ours.get("/cpus/cpu@1", "enable-method"));
            assertEquals(q.get("/psci", "method"), ours.get("/psci", "method"));
            assertEquals(q.get(GIC, "compatible"), ours.get(GIC, "compatible"));
            assertEquals(q.get(GIC, "#interrupt-cells"), ours.get(GIC, "#interrupt-cells"));
            long[] qGicReg = Dts.cells(q.get(GIC, "reg"));
            long[] oGicReg = Dts.cells(ours.get(GIC, "reg"));
            for (int i = 0; i < 6; i++) assertEquals(qGicReg[i], oGicReg[i], "GIC reg cell " + i);
            for (String prop : List.of("compatible", "reg", "#msi-cells", "msi-controller")) {
                assertEquals(q.get(GIC + "/its@8080000", prop), ours.get(GIC + "/its@8080000", prop), prop);
            }
            for (String prop : List.of("compatible", "reg", "interrupts", "clock-names")) {
                assertEquals(q.get(UART, prop), ours.get(UART, prop), "pl011 " + prop);
                if (!prop.equals("clock-names")) {
                    assertEquals(q.get("/pl031@9010000", prop), ours.get("/pl031@9010000", prop), "pl031 " + prop);
                }
            }
            assertEquals(q.get("/apb-pclk", "clock-frequency"), ours.get("/apb-pclk", "clock-frequency"));
            assertEquals(q.get("/chosen", "stdout-path"), ours.get("/chosen", "stdout-path"));
        } finally {
            Files.deleteIfExists(dtb);
        }
    }
}
