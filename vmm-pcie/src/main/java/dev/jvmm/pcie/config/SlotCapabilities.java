package dev.jvmm.pcie.config;

import dev.jvmm.pcie.spec.PcieCapSpec;

/**
 * The Slot Capabilities register of a Root Port or Switch Downstream Port (PCIe Base 6.0 §7.5.3.9): which
 * hot-plug elements the slot has (§6.7.1). The element set decides which Slot Control and Slot Status bits
 * are implemented (§6.7.2).
 *
 * <p>Two styles matter for VMMs: {@link #surpriseHotPlug} (presence detect and link state only; removal takes
 * effect at once; OpenVMM's ports) and {@link #attentionButtonHotPlug} (button, indicators and power controller,
 * so removal is a request the guest acknowledges by powering the slot off; QEMU's pcie-root-port).
 *
 * @param physicalSlotNumber 0..8191, unique in the chassis; Linux names the hot-plug slot after it
 */
public record SlotCapabilities(
        boolean attentionButton,
        boolean powerController,
        boolean mrlSensor,
        boolean attentionIndicator,
        boolean powerIndicator,
        boolean hotPlugSurprise,
        boolean hotPlugCapable,
        boolean noCommandCompleted,
        int physicalSlotNumber) {
    public SlotCapabilities {
        if (physicalSlotNumber < 0 || physicalSlotNumber > PcieCapSpec.SLTCAP_PHYSICAL_SLOT_MAX) {
            throw new IllegalArgumentException("physical slot number " + physicalSlotNumber + " out of range 0-8191");
        }
    }

    /** Presence detect and Data Link Layer state only; no command-completed interrupts. */
    public static SlotCapabilities surpriseHotPlug(int physicalSlotNumber) {
        return new SlotCapabilities(false, false, false, false, false, true, true, true, physicalSlotNumber);
    }

    /** Attention button, attention and power indicators, power controller (the pcie-root-port style). */
    public static SlotCapabilities attentionButtonHotPlug(int physicalSlotNumber) {
        return new SlotCapabilities(true, true, false, true, true, false, true, false, physicalSlotNumber);
    }

    /** A slot that is not hot-plug capable. */
    public static SlotCapabilities fixed(int physicalSlotNumber) {
        return new SlotCapabilities(false, false, false, false, false, false, false, true, physicalSlotNumber);
    }

    public int bits() {
        int v = 0;
        v |= attentionButton ? PcieCapSpec.SLTCAP_ATTENTION_BUTTON : 0;
        v |= powerController ? PcieCapSpec.SLTCAP_POWER_CONTROLLER : 0;
        v |= mrlSensor ? PcieCapSpec.SLTCAP_MRL_SENSOR : 0;
        v |= attentionIndicator ? PcieCapSpec.SLTCAP_ATTENTION_INDICATOR : 0;
        v |= powerIndicator ? PcieCapSpec.SLTCAP_POWER_INDICATOR : 0;
        v |= hotPlugSurprise ? PcieCapSpec.SLTCAP_HOT_PLUG_SURPRISE : 0;
        v |= hotPlugCapable ? PcieCapSpec.SLTCAP_HOT_PLUG_CAPABLE : 0;
        v |= noCommandCompleted ? PcieCapSpec.SLTCAP_NO_COMMAND_COMPLETED : 0;
        return v | physicalSlotNumber << PcieCapSpec.SLTCAP_PHYSICAL_SLOT_SHIFT;
    }

    /** Decodes a register value; slot power limit and interlock fields are ignored. */
    public static SlotCapabilities fromBits(int bits) {
        return new SlotCapabilities(
                (bits & PcieCapSpec.SLTCAP_ATTENTION_BUTTON) != 0,
                (bits & PcieCapSpec.SLTCAP_POWER_CONTROLLER) != 0,
                (bits & PcieCapSpec.SLTCAP_MRL_SENSOR) != 0,
                (bits & PcieCapSpec.SLTCAP_ATTENTION_INDICATOR) != 0,
                (bits & PcieCapSpec.SLTCAP_POWER_INDICATOR) != 0,
                (bits & PcieCapSpec.SLTCAP_HOT_PLUG_SURPRISE) != 0,
                (bits & PcieCapSpec.SLTCAP_HOT_PLUG_CAPABLE) != 0,
                (bits & PcieCapSpec.SLTCAP_NO_COMMAND_COMPLETED) != 0,
                bits >>> PcieCapSpec.SLTCAP_PHYSICAL_SLOT_SHIFT);
    }

    /** Slot Control bits that are RW for this set of elements (§7.5.3.10; absent elements are RO 0). */
    public int slotControlWritableBits() {
        int w = 0;
        if (attentionButton) {
            w |= PcieCapSpec.SLTCTL_ATTENTION_BUTTON_PRESSED_ENABLE;
        }
        if (powerController) {
            w |= PcieCapSpec.SLTCTL_POWER_FAULT_DETECTED_ENABLE | PcieCapSpec.SLTCTL_POWER_CONTROLLER_CONTROL;
        }
        if (mrlSensor) {
            w |= PcieCapSpec.SLTCTL_MRL_SENSOR_CHANGED_ENABLE;
        }
        if (attentionIndicator) {
            w |= PcieCapSpec.SLTCTL_ATTENTION_INDICATOR_CONTROL;
        }
        if (powerIndicator) {
            w |= PcieCapSpec.SLTCTL_POWER_INDICATOR_CONTROL;
        }
        if (hotPlugCapable) {
            w |= PcieCapSpec.SLTCTL_PRESENCE_DETECT_CHANGED_ENABLE
                    | PcieCapSpec.SLTCTL_HOT_PLUG_INTERRUPT_ENABLE
                    | PcieCapSpec.SLTCTL_DLL_STATE_CHANGED_ENABLE;
            if (!noCommandCompleted) {
                w |= PcieCapSpec.SLTCTL_COMMAND_COMPLETED_INTERRUPT_ENABLE;
            }
        }
        return w;
    }

    /** Power-on Slot Control: indicators that exist start Off (11b), the slot powered (§7.5.3.10). */
    public int slotControlDefault() {
        int v = 0;
        if (attentionIndicator) {
            v |= PcieCapSpec.SLTCTL_ATTENTION_INDICATOR_CONTROL;
        }
        if (powerIndicator) {
            v |= PcieCapSpec.SLTCTL_POWER_INDICATOR_CONTROL;
        }
        return v;
    }

    /** Slot Status bits that are RW1C for this set of elements (§7.5.3.11). */
    public int slotStatusRw1cBits() {
        int c = PcieCapSpec.SLTSTA_PRESENCE_DETECT_CHANGED;
        if (attentionButton) {
            c |= PcieCapSpec.SLTSTA_ATTENTION_BUTTON_PRESSED;
        }
        if (powerController) {
            c |= PcieCapSpec.SLTSTA_POWER_FAULT_DETECTED;
        }
        if (mrlSensor) {
            c |= PcieCapSpec.SLTSTA_MRL_SENSOR_CHANGED;
        }
        if (hotPlugCapable) {
            c |= PcieCapSpec.SLTSTA_DLL_STATE_CHANGED;
            if (!noCommandCompleted) {
                c |= PcieCapSpec.SLTSTA_COMMAND_COMPLETED;
            }
        }
        return c;
    }
}
