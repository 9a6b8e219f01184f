package dev.jvmm.core.arch.aarch64;

import dev.jvmm.core.arch.aarch64.Aarch64DeviceTree.MsiController;
import dev.jvmm.core.arch.aarch64.Aarch64DeviceTree.Phandles;
import dev.jvmm.core.irq.DeviceIdMapping;

/**
 * How a host bridge's device tree node names its MSI controller, so the DeviceID the guest's ITS driver computes
 * for a requester equals the one jvmm injects (Documentation/devicetree/bindings/pci/pci-msi.txt: without
 * {@code msi-map} Linux uses the raw requester id), both taken from {@link DeviceIdMapping}:
 * <ul>
 *   <li><b>ITS</b>: every segment has its own ITS and DeviceID = RID, so each host bridge gets
 *       {@code msi-map = <0 &its-of-its-segment 0 0x10000>} (pci/pci-msi.txt: rid-base, msi-controller, msi-base,
 *       length).</li>
 *   <li><b>GICv2m</b>: MSIs are SPI doorbell writes that carry no DeviceID, so every segment gets
 *       {@code msi-parent = <&v2m>}.</li>
 *   <li><b>none</b>: nothing.</li>
 * </ul>
 */
public sealed interface MsiMapping {
    /** No MSI description: the guest sees no MSI controller for this host bridge. */
    record None(String why) implements MsiMapping {}

    /** {@code msi-parent = <phandle>}: the controller needs no DeviceID (GICv2m). */
    record Parent(int phandle) implements MsiMapping {}

    /** {@code msi-map = <0 phandle deviceIdBase 0x10000>}: RID r becomes DeviceID {@code deviceIdBase + r}. */
    record IdMap(int phandle, int deviceIdBase) implements MsiMapping {
        public static final int RID_COUNT = DeviceIdMapping.RID_COUNT;
    }

    /** The mapping for a host bridge on {@code segment}. */
    static MsiMapping forSegment(int segment, MsiController controller, Phandles phandles) {
        return switch (controller) {
            case NONE -> new None("the machine has no MSI controller");
            case GICV2M -> new Parent(phandles.msiController());
            case ITS -> {
                int its = phandles.msiControllerFor(segment);
                yield its == 0 ? new None("segment %d has no ITS".formatted(segment)) : new IdMap(its, 0);
            }
        };
    }
}
