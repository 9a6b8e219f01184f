package dev.jvmm.pcie.config;

import dev.jvmm.pcie.spec.PciSpec;

/**
 * The Type 1 (PCI-to-PCI bridge) header of a Root Port or Switch Port (PCIe Base 6.0 §7.5.1.3), which is how
 * a port shows the guest its bus numbers and address windows.
 *
 * <table>
 *   <caption>Register attributes installed (beyond the common ones of {@link Type0Header})</caption>
 *   <tr><th>Register</th><th>Attribute</th><th>Spec</th></tr>
 *   <tr><td>BAR 0/1, Secondary Latency Timer, Expansion ROM</td><td>RO 0 (not implemented)</td><td>§7.5.1.3.1, .5, .12</td></tr>
 *   <tr><td>Primary, Secondary, Subordinate Bus Number</td><td>RW</td><td>§7.5.1.3.2-4</td></tr>
 *   <tr><td>I/O Base/Limit bits 7:4</td><td>RW; bits 3:0 RO 0 = 16-bit I/O decode</td><td>§7.5.1.3.6</td></tr>
 *   <tr><td>Secondary Status bits 8, 11, 12, 13, 14, 15</td><td>RW1C</td><td>§7.5.1.3.7</td></tr>
 *   <tr><td>Memory Base/Limit bits 15:4</td><td>RW; bits 3:0 RO 0</td><td>§7.5.1.3.8</td></tr>
 *   <tr><td>Prefetchable Base/Limit bits 15:4</td><td>RW; bits 3:0 RO 1h = 64-bit</td><td>§7.5.1.3.9</td></tr>
 *   <tr><td>Prefetchable Base/Limit Upper 32 Bits</td><td>RW</td><td>§7.5.1.3.10</td></tr>
 *   <tr><td>I/O Base/Limit Upper 16 Bits</td><td>RO 0 (16-bit I/O decode)</td><td>§7.5.1.3.11</td></tr>
 *   <tr><td>Bridge Control bits 0, 1, 2, 3, 4, 6</td><td>RW; the rest RO 0</td><td>§7.5.1.3.13</td></tr>
 * </table>
 *
 * <p>The bus number registers are plain RW storage: the guest owns bus numbers, the port only reads them
 * back to route configuration requests (§7.3.3).
 *
 * @param vendorId   16 bits
 * @param deviceId   16 bits
 * @param classCode  24 bits, normally {@link #CLASS_PCI_TO_PCI_BRIDGE}
 * @param revisionId 8 bits
 */
public record Type1Header(int vendorId, int deviceId, int classCode, int revisionId) {
    /** Base class 06h (bridge), sub-class 04h (PCI-to-PCI), programming interface 00h. */
    public static final int CLASS_PCI_TO_PCI_BRIDGE = 0x060400;

    public Type1Header {
        Type0Header.checkIdentity(vendorId, deviceId, classCode, revisionId);
    }

    /** Writes the header registers and their masks into {@code config}. Ports use MSI, so the interrupt pin is 0. */
    public void install(ConfigSpace config) {
        Type0Header.installCommon(config, vendorId, deviceId, classCode, revisionId, PciSpec.HEADER_TYPE_1, 0);
        config.define(PciSpec.PRIMARY_BUS, 1, 0, 0xFF, 0);
        config.define(PciSpec.SECONDARY_BUS, 1, 0, 0xFF, 0);
        config.define(PciSpec.SUBORDINATE_BUS, 1, 0, 0xFF, 0);
        config.define(PciSpec.IO_BASE, 1, 0, 0xF0, 0);
        config.define(PciSpec.IO_LIMIT, 1, 0, 0xF0, 0);
        config.define(PciSpec.SECONDARY_STATUS, 2, 0, 0, PciSpec.SECONDARY_STATUS_RW1C_BITS);
        config.define(PciSpec.MEMORY_BASE, 2, 0, 0xFFF0, 0);
        config.define(PciSpec.MEMORY_LIMIT, 2, 0, 0xFFF0, 0);
        config.define(PciSpec.PREFETCHABLE_MEMORY_BASE, 2, PciSpec.PREFETCHABLE_64BIT, 0xFFF0, 0);
        config.define(PciSpec.PREFETCHABLE_MEMORY_LIMIT, 2, PciSpec.PREFETCHABLE_64BIT, 0xFFF0, 0);
        config.define(PciSpec.PREFETCHABLE_BASE_UPPER_32, 4, 0, 0xFFFF_FFFFL, 0);
        config.define(PciSpec.PREFETCHABLE_LIMIT_UPPER_32, 4, 0, 0xFFFF_FFFFL, 0);
        config.define(PciSpec.BRIDGE_CONTROL, 2, 0, PciSpec.BRIDGE_CONTROL_RW_BITS, 0);
    }

    public static int primaryBus(ConfigSpace config) {
        return config.getInt(PciSpec.PRIMARY_BUS, 1);
    }

    public static int secondaryBus(ConfigSpace config) {
        return config.getInt(PciSpec.SECONDARY_BUS, 1);
    }

    public static int subordinateBus(ConfigSpace config) {
        return config.getInt(PciSpec.SUBORDINATE_BUS, 1);
    }
}
