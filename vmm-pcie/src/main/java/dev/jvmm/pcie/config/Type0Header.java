package dev.jvmm.pcie.config;

import dev.jvmm.pcie.spec.PciSpec;

/**
 * The identity of an endpoint function and the layout of its Type 0 header (PCIe Base 6.0 §7.5.1.1 and
 * §7.5.1.2), without the BARs ({@link BaseAddressRegisters}) and the capability pointer
 * ({@link CapabilityChain}).
 *
 * <table>
 *   <caption>Register attributes installed</caption>
 *   <tr><th>Register</th><th>Attribute</th><th>Spec</th></tr>
 *   <tr><td>Vendor, Device, Revision ID, Class Code, Subsystem IDs</td><td>RO</td><td>§7.5.1.1.1-6, §7.5.1.2.3</td></tr>
 *   <tr><td>Command: I/O, Memory, Bus Master, Parity Error Response, SERR#, Interrupt Disable</td><td>RW</td><td>§7.5.1.1.3</td></tr>
 *   <tr><td>Status: Capabilities List</td><td>RO 1</td><td>§7.5.1.1.4</td></tr>
 *   <tr><td>Status: bits 8, 11, 12, 13, 14, 15</td><td>RW1C</td><td>§7.5.1.1.4</td></tr>
 *   <tr><td>Cache Line Size, Interrupt Line</td><td>RW</td><td>§7.5.1.1.7, §7.5.1.1.12</td></tr>
 *   <tr><td>Latency Timer, BIST, Cardbus CIS, Expansion ROM, Min_Gnt, Max_Lat</td><td>RO 0</td><td>§7.5.1.1.8, .10, §7.5.1.2.2, .4, .5</td></tr>
 *   <tr><td>Header Type</td><td>RO 00h (bit 7 is set by the device for a multi-function device)</td><td>§7.5.1.1.9</td></tr>
 * </table>
 *
 * @param vendorId          16 bits, not FFFFh (that value means "no function")
 * @param deviceId          16 bits
 * @param classCode         24 bits: base class, sub-class, programming interface
 * @param revisionId        8 bits
 * @param subsystemVendorId 16 bits
 * @param subsystemId       16 bits
 * @param interruptPin      0 (no INTx) or 1..4 for INTA..INTD
 */
public record Type0Header(
        int vendorId,
        int deviceId,
        int classCode,
        int revisionId,
        int subsystemVendorId,
        int subsystemId,
        int interruptPin) {
    public Type0Header {
        checkIdentity(vendorId, deviceId, classCode, revisionId);
        checkBits("subsystem vendor id", subsystemVendorId, 16);
        checkBits("subsystem id", subsystemId, 16);
        if (interruptPin < 0 || interruptPin > 4) {
            throw new IllegalArgumentException("interrupt pin " + interruptPin + " out of range 0-4");
        }
    }

    /** Writes the header registers and their masks into {@code config}. */
    public void install(ConfigSpace config) {
        installCommon(config, vendorId, deviceId, classCode, revisionId, PciSpec.HEADER_TYPE_0, interruptPin);
        config.defineReadOnly(PciSpec.SUBSYSTEM_VENDOR_ID, 2, subsystemVendorId);
        config.defineReadOnly(PciSpec.SUBSYSTEM_ID, 2, subsystemId);
    }

    /** The registers that Type 0 and Type 1 headers share (§7.5.1.1). */
    static void installCommon(
            ConfigSpace config,
            int vendorId,
            int deviceId,
            int classCode,
            int revisionId,
            int headerType,
            int interruptPin) {
        config.defineReadOnly(PciSpec.VENDOR_ID, 2, vendorId);
        config.defineReadOnly(PciSpec.DEVICE_ID, 2, deviceId);
        config.define(PciSpec.COMMAND, 2, 0, PciSpec.COMMAND_RW_BITS, 0);
        config.define(PciSpec.STATUS, 2, PciSpec.STATUS_CAPABILITIES_LIST, 0, PciSpec.STATUS_RW1C_BITS);
        config.defineReadOnly(PciSpec.REVISION_ID, 1, revisionId);
        config.defineReadOnly(PciSpec.CLASS_CODE, 3, classCode);
        config.define(PciSpec.CACHE_LINE_SIZE, 1, 0, 0xFF, 0);
        config.defineReadOnly(PciSpec.HEADER_TYPE, 1, headerType);
        config.define(PciSpec.INTERRUPT_LINE, 1, 0, 0xFF, 0);
        config.defineReadOnly(PciSpec.INTERRUPT_PIN, 1, interruptPin);
    }

    static void checkIdentity(int vendorId, int deviceId, int classCode, int revisionId) {
        checkBits("vendor id", vendorId, 16);
        if (vendorId == PciSpec.INVALID_VENDOR_ID) {
            throw new IllegalArgumentException("vendor id FFFFh is what an absent function reads");
        }
        checkBits("device id", deviceId, 16);
        checkBits("class code", classCode, 24);
        checkBits("revision id", revisionId, 8);
    }

    static void checkBits(String what, int value, int bits) {
        if (value < 0 || value >>> bits != 0) {
            throw new IllegalArgumentException(
                    what + " 0x" + Integer.toHexString(value) + " is wider than " + bits + " bits");
        }
    }
}
