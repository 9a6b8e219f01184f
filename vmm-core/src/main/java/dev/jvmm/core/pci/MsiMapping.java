package dev.jvmm.core.pci;

import dev.jvmm.core.arch.aarch64.Aarch64DeviceTree.MsiController;
import dev.jvmm.pcie.msi.DeviceIdScheme;
import dev.jvmm.pcie.msi.RequesterId;

/**
 * How a host bridge's device tree node names its MSI controller, so the DeviceID the guest's ITS driver computes
 * for a requester equals the one jvmm injects (ARCHITECTURE.md §3).
 *
 * <p>The rule:
 * <ul>
 *   <li><b>ITS</b>: jvmm passes {@code devid = (segment << 16) | RID} ({@link DeviceIdScheme}). A segment whose whole
 *       RID space fits the scheme gets {@code msi-map = <0 &its (segment << 16) 0x10000>} (pci/pci-msi.txt: rid-base,
 *       msi-controller, msi-base, length), so Linux computes the same devid. With KVM's 16-bit vITS only segment 0
 *       fits; other segments get <em>no</em> MSI description at all rather than a map that would disagree with jvmm
 *       (their functions enumerate, but have no MSI until a per-segment vITS exists).</li>
 *   <li><b>GICv2m</b>: MSIs are SPI doorbell writes that carry no DeviceID, so every segment gets
 *       {@code msi-parent = <&v2m>}.</li>
 *   <li><b>none</b>: nothing.</li>
 * </ul>
 */
public sealed interface MsiMapping {
    /** No MSI description: the guest sees no MSI controller for this host bridge. */
    record None(String why) implements MsiMapping { }

    /** {@code msi-parent = <phandle>}: the controller needs no DeviceID (GICv2m). */
    record Parent(int phandle) implements MsiMapping { }

    /** {@code msi-map = <0 phandle deviceIdBase 0x10000>}: RID r becomes DeviceID {@code deviceIdBase + r}. */
    record IdMap(int phandle, int deviceIdBase) implements MsiMapping {
        /** Every 16-bit RID maps (PCIe Base 6.0 §2.2.6.2: bus, device, function). */
        public static final int RID_COUNT = 0x1_0000;
    }

    /** The mapping for a host bridge on {@code segment}; {@code phandle} is the MSI controller's node. */
    static MsiMapping forSegment(int segment, MsiController controller, int phandle, DeviceIdScheme scheme) {
        return switch (controller) {
            case NONE -> new None("the machine has no MSI controller");
            case GICV2M -> new Parent(phandle);
            case ITS -> {
                var first = scheme.deviceId(segment, RequesterId.of(0));
                var last = scheme.deviceId(segment, RequesterId.of(IdMap.RID_COUNT - 1));
                if (first.isEmpty() || last.isEmpty()) {
                    yield new None("segment %d: DeviceIDs (segment << 16 | RID) do not fit the ITS's %d bits"
                            .formatted(segment, scheme.deviceIdBits()));
                }
                yield new IdMap(phandle, first.getAsInt());
            }
        };
    }
}
