package dev.jvmm.core.arch.aarch64;

import dev.jvmm.core.arch.aarch64.Aarch64DeviceTree.MsiController;
import dev.jvmm.core.bus.AddressRange;
import dev.jvmm.core.fdt.FdtBuilder;
import dev.jvmm.core.pci.PcieHost;
import dev.jvmm.core.pci.PcieHostBridge;
import dev.jvmm.core.pci.PcieWindows;
import java.util.List;
import java.util.Objects;

/**
 * The device tree nodes of the host bridges: one {@code pcie@<ECAM base>} node each, per the Linux binding
 * Documentation/devicetree/bindings/pci/host-generic-pci.yaml and the PCI bus binding (IEEE 1275 PCI, as used by
 * pci-bus-common.yaml), laid out as QEMU's {@code virt} board does it (hw/arm/virt.c {@code create_pcie}):
 *
 * <pre>
 * pcie@4010000000 {
 *     compatible = "pci-host-ecam-generic";   device_type = "pci";
 *     #address-cells = &lt;3&gt;;  #size-cells = &lt;2&gt;;
 *     reg = &lt;ECAM base, size&gt;;              bus-range = &lt;first last&gt;;
 *     linux,pci-domain = &lt;segment&gt;;          dma-coherent;
 *     ranges = &lt;0x01000000 0 pci-io   cpu size&gt;,    I/O
 *              &lt;0x02000000 0 mmio32   mmio32 size&gt;, 32-bit memory, non-prefetchable
 *              &lt;0x03000000 hi lo      hi lo size&gt;;  64-bit memory
 *     msi-map = &lt;0 &amp;its-of-the-segment 0 0x10000&gt;;  or msi-parent = &lt;&amp;v2m&gt;;  or nothing ({@link MsiMapping})
 * };
 * </pre>
 *
 * A {@code ranges} entry's PCI address is three cells, {@code phys.hi} = {@code npt000ss bbbbbbbb dddddfff rrrrrrrr}
 * with ss = 01 I/O, 10 32-bit memory, 11 64-bit memory (IEEE 1275 PCI binding §2.2.1.1). The 64-bit window is
 * marked non-prefetchable as QEMU's is: Linux places prefetchable BARs in a non-prefetchable host window but never
 * the reverse, so this serves both kinds. {@code linux,pci-domain} is given on every bridge (Linux wants it on all or
 * none). No {@code interrupt-map}: jvmm's functions have no INTx pin; interrupts are MSI.
 */
public final class PcieDeviceTree implements Aarch64DeviceTree.NodeWriter {
    /** phys.hi space codes (IEEE 1275 PCI binding §2.2.1.1). */
    static final int SPACE_IO = 0x0100_0000, SPACE_MMIO32 = 0x0200_0000, SPACE_MMIO64 = 0x0300_0000;

    private final List<PcieHostBridge> bridges;
    private final MsiController msi;

    public PcieDeviceTree(List<PcieHostBridge> bridges, MsiController msi) {
        this.bridges = List.copyOf(bridges);
        this.msi = Objects.requireNonNull(msi);
    }

    /** The host bridge nodes of {@code host}, with MSI described per {@link MsiMapping}; none without bridges. */
    public static List<Aarch64DeviceTree.NodeWriter> of(PcieHost host, MsiController msi) {
        if (host.isEmpty()) return List.of();
        return List.of(new PcieDeviceTree(host.bridges(), msi));
    }

    /** The node name of a host bridge: its first {@code reg} address as the unit address (DT spec §2.2.1). */
    public static String nodeName(PcieHostBridge bridge) {
        return "pcie@" + Long.toHexString(bridge.ecam().base());
    }

    @Override
    public void write(FdtBuilder fdt, Aarch64DeviceTree.Phandles phandles, MemoryMap map) {
        for (PcieHostBridge b : bridges) {
            fdt.beginNode(nodeName(b));
            fdt.propertyString("compatible", "pci-host-ecam-generic");
            fdt.propertyString("device_type", "pci");
            fdt.property("#address-cells", 3);
            fdt.property("#size-cells", 2);
            fdt.propertyU64s("reg", b.ecam().base(), b.ecam().size());
            fdt.property(
                    "bus-range", b.rootComplex().firstBus(), b.rootComplex().lastBus());
            fdt.property("linux,pci-domain", b.segment());
            fdt.propertyEmpty("dma-coherent");
            PcieWindows w = b.windows();
            fdt.property(
                    "ranges",
                    concat(
                            range(SPACE_IO, w.ioPciBase(), w.io()),
                            range(SPACE_MMIO32, w.mmio32().base(), w.mmio32()),
                            range(SPACE_MMIO64, w.mmio64().base(), w.mmio64())));
            switch (MsiMapping.forSegment(b.segment(), msi, phandles)) {
                case MsiMapping.IdMap m ->
                    fdt.property("msi-map", 0, m.phandle(), m.deviceIdBase(), MsiMapping.IdMap.RID_COUNT);
                case MsiMapping.Parent p -> fdt.property("msi-parent", p.phandle());
                case MsiMapping.None n -> {}
            }
            fdt.endNode();
        }
    }

    /** One {@code ranges} entry: PCI address (3 cells), CPU address (2 cells), size (2 cells). */
    private static int[] range(int space, long pciAddress, AddressRange cpu) {
        return new int[] {
            space,
            (int) (pciAddress >>> 32),
            (int) pciAddress,
            (int) (cpu.base() >>> 32),
            (int) cpu.base(),
            (int) (cpu.size() >>> 32),
            (int) cpu.size()
        };
    }

    private static int[] concat(int[]... parts) {
        int n = 0;
        for (int[] p : parts) n += p.length;
        int[] out = new int[n];
        int i = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, i, p.length);
            i += p.length;
        }
        return out;
    }
}
