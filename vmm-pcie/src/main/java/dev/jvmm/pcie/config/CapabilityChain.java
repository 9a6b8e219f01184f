package dev.jvmm.pcie.config;

import dev.jvmm.pcie.spec.PciSpec;
import java.util.List;

/**
 * Builds the capability list of a function (PCIe Base 6.0 §7.5.1.1.11): capabilities placed one after the
 * other from 40h, each on a DWORD boundary (the pointer's low two bits are reserved), the Capabilities
 * Pointer at 34h naming the first one, each Next pointer the following one, and 00h ending the list. All
 * of these are RO.
 *
 * <p>The extended capability list at 100h is left empty with an all-zero header: "Absence of any Extended
 * Capabilities is required to be indicated by an Extended Capability header with a Capability ID of 0000h,
 * a Capability Version of 0h, and a Next Capability Offset of 000h" (§7.6.3). Linux reads that as a 4 KiB
 * configuration space with no extended capabilities; an all-ones header would instead tell it that the
 * extended space is not reachable.
 */
public final class CapabilityChain {
    private CapabilityChain() {}

    /** Places {@code capabilities} in order and returns their offsets. */
    public static int[] install(ConfigSpace config, List<? extends Capability> capabilities) {
        int[] offsets = new int[capabilities.size()];
        int offset = PciSpec.CAPABILITIES_START;
        for (int i = 0; i < capabilities.size(); i++) {
            offsets[i] = offset;
            offset = align4(offset + capabilities.get(i).length());
        }
        if (offset > PciSpec.LEGACY_CONFIG_SPACE_SIZE) {
            throw new IllegalArgumentException(
                    "capabilities need " + (offset - PciSpec.CAPABILITIES_START) + " bytes, only "
                            + (PciSpec.LEGACY_CONFIG_SPACE_SIZE - PciSpec.CAPABILITIES_START) + " fit below 100h");
        }
        config.defineReadOnly(PciSpec.CAPABILITIES_POINTER, 1, offsets.length == 0 ? 0 : offsets[0]);
        for (int i = 0; i < capabilities.size(); i++) {
            Capability c = capabilities.get(i);
            int next = i + 1 < offsets.length ? offsets[i + 1] : 0;
            config.defineReadOnly(offsets[i], 1, c.id());
            config.defineReadOnly(offsets[i] + 1, 1, next);
            c.install(config, offsets[i]);
        }
        config.defineReadOnly(PciSpec.EXTENDED_CAPABILITIES_START, 4, 0);
        return offsets;
    }

    private static int align4(int v) {
        return (v + 3) & ~3;
    }
}
