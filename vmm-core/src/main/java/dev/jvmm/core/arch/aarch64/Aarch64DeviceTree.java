package dev.jvmm.core.arch.aarch64;

import dev.jvmm.core.boot.InitrdRange;
import dev.jvmm.core.bus.AddressRange;
import dev.jvmm.core.fdt.FdtBuilder;
import dev.jvmm.core.irq.DeviceIdMapping;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Builds the devicetree blob the aarch64 guest kernel boots with (Documentation/arch/arm64/booting.rst §2, §4:
 * its address goes in x0). Node for node it follows what QEMU's {@code virt} board gives a Linux guest under KVM
 * (hw/arm/virt.c), with the bindings in the kernel's Documentation/devicetree/bindings:
 * <ul>
 *   <li>root: {@code #address-cells = #size-cells = 2}, {@code interrupt-parent} = the GIC;</li>
 *   <li>{@code /cpus}: one {@code arm,armv8} cpu per vCPU, reg = the MPIDR affinity KVM assigns,
 *       {@code enable-method = "psci"} (arm/cpus.yaml);</li>
 *   <li>{@code /psci}: {@code arm,psci-0.2}, method {@code hvc} (arm/psci.yaml; PSCI calls go to KVM via HVC,
 *       KVM_ARM_VCPU_PSCI_0_2);</li>
 *   <li>{@code /timer}: {@code arm,armv8-timer} with the secure, non-secure, virtual and hypervisor PPIs 13, 14,
 *       11, 10 (INTIDs 29, 30, 27, 26), level-high as QEMU's virt (fdt_add_timer_nodes) and Firecracker
 *       describe them under KVM; Linux >= 4.8-rc6 programs them level-triggered whatever the flags say.
 *       {@code always-on}: the virtual timer never loses state in a CPU idle state under KVM;</li>
 *   <li>the GICv3 ({@code arm,gic-v3}, interrupt-controller/arm,gic-v3.yaml) with one ITS per PCIe segment
 *       ({@code arm,gic-v3-its}, {@link DeviceIdMapping}) or a GICv2m frame ({@code arm,gic-v2m-frame},
 *       interrupt-controller/arm,gic.yaml, which Linux's GICv3 driver drives when the GIC has no LPIs) as child,
 *       or no MSI controller; on a GICv2-only host a GICv2 ({@code arm,cortex-a15-gic}, distributor + CPU
 *       interface, as QEMU's virt with gic-version=2) with the v2m frame as child;</li>
 *   <li>{@code apb-pclk}: a 24 MHz {@code fixed-clock} the PrimeCells name as {@code apb_pclk} (the AMBA bus
 *       enables it before reading the peripheral ids);</li>
 *   <li>PL011 ({@code arm,pl011}, serial/arm,pl011.yaml) and optionally PL031 ({@code arm,pl031});</li>
 *   <li>pvpanic ({@code qemu,pvpanic-mmio}, misc/qemu,pvpanic-mmio: the driver is drivers/misc/pvpanic);</li>
 *   <li>{@code /chosen}: bootargs, stdout-path, linux,initrd-start/end (u64); {@code /aliases}: serial0.</li>
 * </ul>
 * Interrupt specifiers are the GIC's 3 cells (arm,gic-v3.yaml): type (0 SPI, 1 PPI), number within the type,
 * flags (1 edge rising, 4 level high).
 */
public final class Aarch64DeviceTree {
    /** MSI controller offered to PCIe host bridges. */
    public enum MsiController {
        NONE,
        ITS,
        GICV2M
    }

    /** Which GIC the machine has. */
    public enum Gic {
        V2,
        V3
    }

    /**
     * Phandles of nodes other nodes refer to. {@code msiController} is the v2m frame or segment 0's ITS, 0 when there
     * is none; {@code itsBySegment} holds every ITS by PCIe segment (empty unless the MSI controller is the ITS).
     */
    public record Phandles(int gic, int msiController, int apbClock, Map<Integer, Integer> itsBySegment) {
        public Phandles {
            itsBySegment = Map.copyOf(itsBySegment);
        }

        /** The MSI controller of a host bridge on {@code segment}: its ITS, or the v2m frame; 0 for none. */
        public int msiControllerFor(int segment) {
            return itsBySegment.isEmpty() ? msiController : itsBySegment.getOrDefault(segment, 0);
        }
    }

    /**
     * Adds nodes at the root level (e.g. a PCIe host bridge with {@code msi-parent} = the MSI controller). Called
     * with the root node open, after the machine's own nodes; it must leave the root open.
     */
    @FunctionalInterface
    public interface NodeWriter {
        void write(FdtBuilder fdt, Phandles phandles, MemoryMap map);
    }

    /**
     * What the device tree describes.
     *
     * @param map        layout (vCPU count, RAM, GIC, UART, RTC addresses)
     * @param bootargs   kernel command line for /chosen (its length is checked by the kernel loader)
     * @param initrd     where the initrd was loaded, or null for none
     * @param msi        MSI controller node under the GIC
     * @param rtc        whether to describe the PL031
     * @param extraNodes more root-level nodes, in order
     * @param gic        GICv3 or GICv2 (a GICv2 has no ITS: {@code msi} must not be ITS then)
     * @param its        the ITSes (one per PCIe segment) when {@code msi} is ITS
     */
    public record Config(
            MemoryMap map,
            String bootargs,
            InitrdRange initrd,
            MsiController msi,
            boolean rtc,
            List<NodeWriter> extraNodes,
            Gic gic,
            DeviceIdMapping its) {
        public Config {
            Objects.requireNonNull(map, "map");
            Objects.requireNonNull(bootargs, "bootargs");
            Objects.requireNonNull(msi, "msi");
            Objects.requireNonNull(gic, "gic");
            Objects.requireNonNull(its, "its");
            extraNodes = List.copyOf(extraNodes);
            if (gic == Gic.V2 && msi == MsiController.ITS) {
                throw new IllegalArgumentException("a GICv2 has no ITS");
            }
        }

        /** A GICv3 machine with the ITS of segment 0 only. */
        public Config(
                MemoryMap map,
                String bootargs,
                InitrdRange initrd,
                MsiController msi,
                boolean rtc,
                List<NodeWriter> extraNodes) {
            this(map, bootargs, initrd, msi, rtc, extraNodes, Gic.V3, DeviceIdMapping.forSegments(List.of()));
        }

        public Config(MemoryMap map, String bootargs, InitrdRange initrd, MsiController msi, boolean rtc) {
            this(map, bootargs, initrd, msi, rtc, List.of());
        }
    }

    // GIC interrupt specifier cells (interrupt-controller/arm,gic-v3.yaml).
    static final int GIC_SPI = 0;
    static final int GIC_PPI = 1;
    static final int IRQ_TYPE_LEVEL_HIGH = 4;
    // Architected timer PPIs (Arm ARM D11.2.4; Server Base System Architecture): INTID - 16.
    static final int PPI_TIMER_SECURE = 13, PPI_TIMER_NONSECURE = 14, PPI_TIMER_VIRTUAL = 11, PPI_TIMER_HYP = 10;
    static final int APB_PCLK_HZ = 24_000_000;

    public static final String UART_NODE = "pl011@" + Long.toHexString(MemoryMap.UART.base());
    public static final String PVPANIC_NODE = "pvpanic@" + Long.toHexString(MemoryMap.PVPANIC.base());
    public static final String RTC_NODE = "pl031@" + Long.toHexString(MemoryMap.RTC.base());
    public static final String UART_PATH = "/" + UART_NODE;

    private Aarch64DeviceTree() {}

    /** Builds the DTB. */
    public static byte[] build(Config c) {
        MemoryMap map = c.map();
        FdtBuilder fdt = new FdtBuilder();
        int gic = fdt.allocatePhandle();
        int apb = fdt.allocatePhandle();
        Map<Integer, Integer> its = new LinkedHashMap<>();
        int msi = 0;
        switch (c.msi()) {
            case ITS -> {
                for (DeviceIdMapping.Its i : c.its().its()) its.put(i.segment(), fdt.allocatePhandle());
                msi = its.get(0);
            }
            case GICV2M -> msi = fdt.allocatePhandle();
            case NONE -> {}
        }
        Phandles ph = new Phandles(gic, msi, apb, its);
        fdt.bootCpuidPhys((int) MemoryMap.mpidr(0));

        fdt.beginNode("");
        fdt.propertyString("compatible", "linux,dummy-virt");
        fdt.propertyString("model", "jvmm aarch64 virt");
        fdt.property("#address-cells", 2);
        fdt.property("#size-cells", 2);
        fdt.property("interrupt-parent", gic);

        chosen(fdt, c);
        fdt.beginNode("aliases").propertyString("serial0", UART_PATH).endNode();
        memory(fdt, map.ram());
        cpus(fdt, map.vcpus());
        fdt.beginNode("psci")
                .propertyString("compatible", "arm,psci-0.2")
                .propertyString("method", "hvc")
                .endNode();
        // A GICv2's PPI specifier also names the CPUs the PPI is wired to (arm,gic.yaml: bits 15:8 of the flags
        // cell), as QEMU's virt sets for gic-version=2; GICv3 has no such field.
        int ppiFlags = IRQ_TYPE_LEVEL_HIGH | (c.gic() == Gic.V2 ? ((1 << Math.min(map.vcpus(), 8)) - 1) << 8 : 0);
        fdt.beginNode("timer")
                .propertyString("compatible", "arm,armv8-timer")
                .property(
                        "interrupts",
                        GIC_PPI,
                        PPI_TIMER_SECURE,
                        ppiFlags,
                        GIC_PPI,
                        PPI_TIMER_NONSECURE,
                        ppiFlags,
                        GIC_PPI,
                        PPI_TIMER_VIRTUAL,
                        ppiFlags,
                        GIC_PPI,
                        PPI_TIMER_HYP,
                        ppiFlags)
                .propertyEmpty("always-on")
                .endNode();
        fdt.beginNode("apb-pclk")
                .propertyString("compatible", "fixed-clock")
                .property("#clock-cells", 0)
                .property("clock-frequency", APB_PCLK_HZ)
                .propertyString("clock-output-names", "clk24mhz")
                .phandle(apb)
                .endNode();
        gic(fdt, c, ph);
        fdt.beginNode(UART_NODE)
                .propertyStrings("compatible", "arm,pl011", "arm,primecell")
                .propertyU64s("reg", MemoryMap.UART.base(), MemoryMap.UART.size())
                .property("interrupts", GIC_SPI, MemoryMap.SPI_UART, IRQ_TYPE_LEVEL_HIGH)
                .property("clocks", apb, apb)
                .propertyStrings("clock-names", "uartclk", "apb_pclk")
                .endNode();
        if (c.rtc()) {
            fdt.beginNode(RTC_NODE)
                    .propertyStrings("compatible", "arm,pl031", "arm,primecell")
                    .propertyU64s("reg", MemoryMap.RTC.base(), MemoryMap.RTC.size())
                    .property("interrupts", GIC_SPI, MemoryMap.SPI_RTC, IRQ_TYPE_LEVEL_HIGH)
                    .property("clocks", apb)
                    .propertyStrings("clock-names", "apb_pclk")
                    .endNode();
        }
        // Where the guest kernel has the pvpanic driver, its panic notifier tells jvmm of a panic directly.
        fdt.beginNode(PVPANIC_NODE)
                .propertyStrings("compatible", "qemu,pvpanic-mmio")
                .propertyU64s("reg", MemoryMap.PVPANIC.base(), MemoryMap.PVPANIC.size())
                .endNode();
        for (NodeWriter w : c.extraNodes()) w.write(fdt, ph, map);
        fdt.endNode();
        return fdt.finish();
    }

    private static void chosen(FdtBuilder fdt, Config c) {
        fdt.beginNode("chosen");
        fdt.propertyString("bootargs", c.bootargs());
        fdt.propertyString("stdout-path", UART_PATH);
        if (c.initrd() != null) {
            // chosen.yaml: either 32- or 64-bit values; u64 always works with #address-cells = 2.
            fdt.propertyU64s("linux,initrd-start", c.initrd().start());
            fdt.propertyU64s("linux,initrd-end", c.initrd().end());
        }
        fdt.endNode();
    }

    private static void memory(FdtBuilder fdt, AddressRange ram) {
        fdt.beginNode("memory@" + Long.toHexString(ram.base()))
                .propertyString("device_type", "memory")
                .propertyU64s("reg", ram.base(), ram.size())
                .endNode();
    }

    private static void cpus(FdtBuilder fdt, int vcpus) {
        fdt.beginNode("cpus");
        fdt.property("#address-cells", 1);
        fdt.property("#size-cells", 0);
        for (int i = 0; i < vcpus; i++) {
            long mpidr = MemoryMap.mpidr(i);
            fdt.beginNode("cpu@" + Long.toHexString(mpidr))
                    .propertyString("device_type", "cpu")
                    .propertyString("compatible", "arm,armv8")
                    .property("reg", (int) mpidr)
                    .propertyString("enable-method", "psci")
                    .endNode();
        }
        fdt.endNode();
    }

    private static void gic(FdtBuilder fdt, Config c, Phandles ph) {
        fdt.beginNode("intc@" + Long.toHexString(MemoryMap.GIC_DIST.base()));
        if (c.gic() == Gic.V3) {
            AddressRange redist = c.map().redistributors();
            fdt.propertyString("compatible", "arm,gic-v3");
            fdt.property("#interrupt-cells", 3);
            fdt.propertyEmpty("interrupt-controller");
            fdt.propertyU64s("reg", MemoryMap.GIC_DIST.base(), MemoryMap.GIC_DIST.size(), redist.base(), redist.size());
            fdt.property("#redistributor-regions", 1);
        } else {
            // KVM's vGICv2 distributor is 4 KiB and its CPU interface 8 KiB (KVM_VGIC_V2_DIST_SIZE, _CPU_SIZE).
            fdt.propertyString("compatible", "arm,cortex-a15-gic");
            fdt.property("#interrupt-cells", 3);
            fdt.propertyEmpty("interrupt-controller");
            fdt.propertyU64s(
                    "reg",
                    MemoryMap.GIC_DIST.base(),
                    MemoryMap.GIC_V2_DIST_SIZE,
                    MemoryMap.GIC_CPU.base(),
                    MemoryMap.GIC_V2_CPU_SIZE);
        }
        fdt.phandle(ph.gic());
        // Children (ITS, v2m frame) use the parent's address space 1:1. Present even without children, as in
        // QEMU: an interrupt provider needs #address-cells for interrupt-map parsing (dtc's interrupt_provider).
        fdt.property("#address-cells", 2);
        fdt.property("#size-cells", 2);
        fdt.propertyEmpty("ranges");
        switch (c.msi()) {
            case ITS -> {
                for (DeviceIdMapping.Its i : c.its().its()) {
                    fdt.beginNode(i.nodeName())
                            .propertyString("compatible", "arm,gic-v3-its")
                            .propertyEmpty("msi-controller")
                            .property("#msi-cells", 1)
                            .propertyU64s("reg", i.base(), DeviceIdMapping.ITS_SIZE)
                            .phandle(ph.itsBySegment().get(i.segment()))
                            .endNode();
                }
            }
            case GICV2M ->
                fdt.beginNode("v2m@" + Long.toHexString(MemoryMap.GIC_V2M.base()))
                        .propertyString("compatible", "arm,gic-v2m-frame")
                        .propertyEmpty("msi-controller")
                        .propertyU64s("reg", MemoryMap.GIC_V2M.base(), MemoryMap.GIC_V2M.size())
                        // Linux takes these as GIC INTIDs (irq-gic-v2m.c: spi_start must be >= 32).
                        .property("arm,msi-base-spi", MemoryMap.spiIntid(MemoryMap.SPI_V2M_BASE))
                        .property("arm,msi-num-spis", MemoryMap.V2M_SPI_COUNT)
                        .phandle(ph.msiController())
                        .endNode();
            case NONE -> {}
        }
        fdt.endNode();
    }
}
