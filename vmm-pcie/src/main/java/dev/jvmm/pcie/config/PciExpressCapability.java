package dev.jvmm.pcie.config;

import dev.jvmm.pcie.spec.PciSpec;
import dev.jvmm.pcie.spec.PcieCapSpec;
import java.util.Objects;
import java.util.Optional;

/**
 * The PCI Express Capability structure, version 2 (PCIe Base 6.0 §7.5.3), shaped by the Device/Port Type:
 *
 * <ul>
 *   <li>all types: Device Capabilities/Control/Status (§7.5.3.3-5), Device Capabilities 2/Control 2
 *       (§7.5.3.15-16, nothing optional implemented so they read 0);</li>
 *   <li>all types with a link: Link Capabilities/Control/Status and their "2" registers (§7.5.3.6-8,
 *       §7.5.3.18-20); one 2.5 GT/s lane, the only combination that needs no speed or width management;</li>
 *   <li>Root Ports and Switch Downstream Ports with a slot: Slot Capabilities/Control/Status (§7.5.3.9-11)
 *       with the RW and RW1C bits that the slot's hot-plug elements imply;</li>
 *   <li>Root Ports: Root Control/Capabilities/Status (§7.5.3.12-14).</li>
 * </ul>
 *
 * Registers a type does not have stay RO 0. Downstream Ports report Data Link Layer Link Active (required
 * for hot-plug capable ports, §7.5.3.6), and a port without a slot reads Presence Detect State as 1 as
 * §7.5.3.11 requires. The link state bits are hardware state: the owning port sets them with
 * {@link #setLinkActive} and {@link #setPresenceDetected}; the hot-plug controller latches events with
 * {@link #latchSlotEvents}.
 */
public final class PciExpressCapability implements Capability {
    private static final int LINK_WIDTH_X1 = 1;

    private final PcieDeviceType type;
    private final int portNumber;
    private final SlotCapabilities slot;
    private ConfigSpace config;
    private int offset = -1;

    /**
     * @param portNumber Link Capabilities Port Number (bits 31:24), 0..255
     * @param slot       present only for a Root Port or Switch Downstream Port with a slot
     */
    public PciExpressCapability(PcieDeviceType type, int portNumber, Optional<SlotCapabilities> slot) {
        this.type = Objects.requireNonNull(type);
        if (portNumber < 0 || portNumber > 0xFF) {
            throw new IllegalArgumentException("port number " + portNumber + " out of range 0-255");
        }
        if (slot.isPresent() && !type.isDownstreamPort()) {
            throw new IllegalArgumentException("only Root Ports and Switch Downstream Ports have slots, not " + type);
        }
        this.portNumber = portNumber;
        this.slot = slot.orElse(null);
    }

    public static PciExpressCapability endpoint() {
        return new PciExpressCapability(PcieDeviceType.ENDPOINT, 0, Optional.empty());
    }

    public static PciExpressCapability integratedEndpoint() {
        return new PciExpressCapability(PcieDeviceType.ROOT_COMPLEX_INTEGRATED_ENDPOINT, 0, Optional.empty());
    }

    @Override
    public int id() {
        return PciSpec.CAP_ID_PCI_EXPRESS;
    }

    @Override
    public int length() {
        return PcieCapSpec.LENGTH;
    }

    public PcieDeviceType type() {
        return type;
    }

    public Optional<SlotCapabilities> slot() {
        return Optional.ofNullable(slot);
    }

    /** Offset of the capability in configuration space; -1 before installation. */
    public int offset() {
        return offset;
    }

    @Override
    public void install(ConfigSpace config, int offset) {
        if (this.config != null) {
            throw new IllegalStateException("PCI Express capability already installed");
        }
        this.config = config;
        this.offset = offset;

        int capabilities = PcieCapSpec.CAP_VERSION_2
                | type.code() << PcieCapSpec.CAP_DEVICE_TYPE_SHIFT
                | (slot != null ? PcieCapSpec.CAP_SLOT_IMPLEMENTED : 0);
        config.defineReadOnly(offset + PcieCapSpec.CAPABILITIES, 2, capabilities);
        // Max_Payload_Size Supported 000b (128 bytes); nothing else optional.
        config.defineReadOnly(
                offset + PcieCapSpec.DEVICE_CAPABILITIES, 4, PcieCapSpec.DEVCAP_ROLE_BASED_ERROR_REPORTING);
        config.define(
                offset + PcieCapSpec.DEVICE_CONTROL, 2, PcieCapSpec.DEVCTL_DEFAULT, PcieCapSpec.DEVCTL_RW_BITS, 0);
        config.define(offset + PcieCapSpec.DEVICE_STATUS, 2, 0, 0, PcieCapSpec.DEVSTA_RW1C_BITS);

        if (type.hasLink()) {
            int linkCapabilities = PcieCapSpec.LNKCAP_SPEED_2_5GT
                    | LINK_WIDTH_X1 << PcieCapSpec.LNKCAP_WIDTH_SHIFT
                    | portNumber << PcieCapSpec.LNKCAP_PORT_NUMBER_SHIFT
                    | (type.isDownstreamPort() ? PcieCapSpec.LNKCAP_DLL_LINK_ACTIVE_REPORTING : 0);
            config.defineReadOnly(offset + PcieCapSpec.LINK_CAPABILITIES, 4, Integer.toUnsignedLong(linkCapabilities));
            int linkControlRw = PcieCapSpec.LNKCTL_ASPM_CONTROL
                    | PcieCapSpec.LNKCTL_COMMON_CLOCK
                    | PcieCapSpec.LNKCTL_EXTENDED_SYNCH
                    | (type.isDownstreamPort() ? PcieCapSpec.LNKCTL_LINK_DISABLE : 0);
            // Retrain Link (bit 5) always reads 0, so it is not storage.
            config.define(offset + PcieCapSpec.LINK_CONTROL, 2, 0, linkControlRw, 0);
            int linkStatus = PcieCapSpec.LNKCAP_SPEED_2_5GT | LINK_WIDTH_X1 << PcieCapSpec.LNKSTA_WIDTH_SHIFT;
            config.defineReadOnly(offset + PcieCapSpec.LINK_STATUS, 2, linkStatus);
            config.defineReadOnly(offset + PcieCapSpec.LINK_CAPABILITIES_2, 4, PcieCapSpec.LNKCAP2_SPEED_2_5GT);
            config.define(
                    offset + PcieCapSpec.LINK_CONTROL_2,
                    2,
                    PcieCapSpec.LNKCAP_SPEED_2_5GT,
                    PcieCapSpec.LNKCTL2_TARGET_LINK_SPEED,
                    0);
        }

        if (slot != null) {
            config.defineReadOnly(offset + PcieCapSpec.SLOT_CAPABILITIES, 4, Integer.toUnsignedLong(slot.bits()));
            config.define(
                    offset + PcieCapSpec.SLOT_CONTROL, 2, slot.slotControlDefault(), slot.slotControlWritableBits(), 0);
            config.define(offset + PcieCapSpec.SLOT_STATUS, 2, 0, 0, slot.slotStatusRw1cBits());
        } else if (type.isDownstreamPort()) {
            config.defineReadOnly(offset + PcieCapSpec.SLOT_STATUS, 2, PcieCapSpec.SLTSTA_PRESENCE_DETECT_STATE);
        }

        if (type == PcieDeviceType.ROOT_PORT) {
            config.define(offset + PcieCapSpec.ROOT_CONTROL, 2, 0, PcieCapSpec.RTCTL_RW_BITS, 0);
            config.defineReadOnly(offset + PcieCapSpec.ROOT_CAPABILITIES, 2, 0);
            config.define(offset + PcieCapSpec.ROOT_STATUS, 4, 0, 0, PcieCapSpec.RTSTA_PME_STATUS);
        }
    }

    /** Data Link Layer Link Active in Link Status (Downstream Ports only; others ignore it). */
    public void setLinkActive(boolean active) {
        requireInstalled();
        if (type.isDownstreamPort()) {
            config.setBits(offset + PcieCapSpec.LINK_STATUS, 2, PcieCapSpec.LNKSTA_DLL_LINK_ACTIVE, active);
        }
    }

    public boolean isLinkActive() {
        requireInstalled();
        return (config.getInt(offset + PcieCapSpec.LINK_STATUS, 2) & PcieCapSpec.LNKSTA_DLL_LINK_ACTIVE) != 0;
    }

    /** Presence Detect State in Slot Status; ignored without a slot, where it is hardwired to 1. */
    public void setPresenceDetected(boolean present) {
        requireInstalled();
        if (slot != null) {
            config.setBits(offset + PcieCapSpec.SLOT_STATUS, 2, PcieCapSpec.SLTSTA_PRESENCE_DETECT_STATE, present);
        }
    }

    /**
     * Sets event bits in Slot Status (for example PDC and DLLSC after a hot-add); only bits that are RW1C for
     * this slot are set, so a bit the guest could never clear is never raised. Returns the bits set.
     */
    public int latchSlotEvents(int events) {
        requireInstalled();
        if (slot == null) {
            return 0;
        }
        int bits = events & slot.slotStatusRw1cBits();
        config.setBits(offset + PcieCapSpec.SLOT_STATUS, 2, bits, true);
        return bits;
    }

    private void requireInstalled() {
        if (config == null) {
            throw new IllegalStateException("PCI Express capability not installed");
        }
    }
}
