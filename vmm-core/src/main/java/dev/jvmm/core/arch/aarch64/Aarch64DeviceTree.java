package dev.jvmm.core.arch.aarch64;

import dev.jvmm.core.boot.InitrdRange;
import dev.jvmm.core.bus.BusRange;
import dev.jvmm.core.fdt.FdtBuilder;

import java.util.List;
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
 *   <li>the GICv3 ({@code arm,gic-v3}, interrupt-controller/arm,gic-v3.yaml) with the ITS
 *       ({@code arm,gic-v3-its}) or a GICv2m frame ({@code arm,gic-v2m-frame},
 *       interrupt-controller/arm,gic.yaml, which Linux's GICv3 driver drives when the GIC has no LPIs) as child,
 *       or no MSI controller;</li>
 *   <li>{@code apb-pclk}: a 24 MHz {@code fixed-clock} the PrimeCells name as {@code apb_pclk} (the AMBA bus
 *       enables it before reading the peripheral ids);</li>
 *   <li>PL011 ({@code arm,pl011}, serial/arm,pl011.yaml) and optionally PL031 ({@code arm,pl031});</li>
 *   <li>{@code /chosen}: bootargs, stdout-path, linux,initrd-start/end (u64); {@code /aliases}: serial0.</li>
 * </ul>
 * Interrupt specifiers are the GIC's 3 cells (arm,gic-v3.yaml): type (0 SPI, 1 PPI), number within the type,
 * flags (1 edge rising, 4 level high).
 */
public final class Aarch64DeviceTree {
    /** MSI controller offered to PCIe host bridges. */
    public enum MsiController { NONE, ITS, GICV2M }

    /** Phandles of nodes other nodes refer to; {@code msiController} is 0 when there is none. */
    public record Phandles(int gic, int msiController, int apbClock) { }

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
     */
    public record Config(MemoryMap map, String bootargs, InitrdRange initrd, MsiController msi, boolean rtc,
                         List<NodeWriter> extraNodes) {
        public Config {
            Objects.requireNonNull(map, "map");
            Objects.requireNonNull(bootargs, "bootargs");
            Objects.requireNonNull(msi, "msi");
            extraNodes = List.copyOf(extraNodes);
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
    public static final String RTC_NODE = "pl031@" + Long.toHexString(MemoryMap.RTC.base());
    public static final String UART_PATH = "/" + UART_NODE;

    private Aarch64DeviceTree() { }

    /** Builds the DTB. */
    public static byte[] build(Config c) {
        MemoryMap map = c.map();
        FdtBuilder fdt = new FdtBuilder();
        int gic = fdt.allocatePhandle();
        int apb = fdt.allocatePhandle();
        int msi = c.msi() == MsiController.NONE ? 0 : fdt.allocatePhandle();
        Phandles ph = new Phandles(gic, msi, apb);
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
        fdt.beginNode("timer")
                .propertyString("compatible", "arm,armv8-timer")
                .property("interrupts",
                        GIC_PPI, PPI_TIMER_SECURE, IRQ_TYPE_LEVEL_HIGH,
                        GIC_PPI, PPI_TIMER_NONSECURE, IRQ_TYPE_LEVEL_HIGH,
                        GIC_PPI, PPI_TIMER_VIRTUAL, IRQ_TYPE_LEVEL_HIGH,
                        GIC_PPI, PPI_TIMER_HYP, IRQ_TYPE_LEVEL_HIGH)
                .propertyEmpty("always-on")
                .endNode();
        fdt.beginNode("apb-pclk")
                .propertyString("compatible", "fixed-clock")
                .property("#clock-cells", 0)
                .property("clock-frequency", APB_PCLK_HZ)
                .propertyString("clock-output-names", "clk24mhz")
                .phandle(apb)
                .endNode();
        gic(fdt, map, c.msi(), ph);
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

    private static void memory(FdtBuilder fdt, BusRange ram) {
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

    private static void gic(FdtBuilder fdt, MemoryMap map, MsiController msi, Phandles ph) {
        BusRange redist = map.redistributors();
        fdt.beginNode("intc@" + Long.toHexString(MemoryMap.GIC_DIST.base()));
        fdt.propertyString("compatible", "arm,gic-v3");
        fdt.property("#interrupt-cells", 3);
        fdt.propertyEmpty("interrupt-controller");
        fdt.propertyU64s("reg", MemoryMap.GIC_DIST.base(), MemoryMap.GIC_DIST.size(), redist.base(), redist.size());
        fdt.property("#redistributor-regions", 1);
        fdt.phandle(ph.gic());
        // Children (ITS, v2m frame) use the parent's address space 1:1. Present even without children, as in
        // QEMU: an interrupt provider needs #address-cells for interrupt-map parsing (dtc's interrupt_provider).
        fdt.property("#address-cells", 2);
        fdt.property("#size-cells", 2);
        fdt.propertyEmpty("ranges");
        switch (msi) {
            case ITS -> fdt.beginNode("its@" + Long.toHexString(MemoryMap.GIC_ITS.base()))
                    .propertyString("compatible", "arm,gic-v3-its")
                    .propertyEmpty("msi-controller")
                    .property("#msi-cells", 1)
                    .propertyU64s("reg", MemoryMap.GIC_ITS.base(), MemoryMap.GIC_ITS.size())
                    .phandle(ph.msiController())
                    .endNode();
            case GICV2M -> fdt.beginNode("v2m@" + Long.toHexString(MemoryMap.GIC_V2M.base()))
                    .propertyString("compatible", "arm,gic-v2m-frame")
                    .propertyEmpty("msi-controller")
                    .propertyU64s("reg", MemoryMap.GIC_V2M.base(), MemoryMap.GIC_V2M.size())
                    // Linux takes these as GIC INTIDs (irq-gic-v2m.c: spi_start must be >= 32).
                    .property("arm,msi-base-spi", MemoryMap.spiIntid(MemoryMap.SPI_V2M_BASE))
                    .property("arm,msi-num-spis", MemoryMap.V2M_SPI_COUNT)
                    .phandle(ph.msiController())
                    .endNode();
            case NONE -> { }
        }
        fdt.endNode();
    }
}
