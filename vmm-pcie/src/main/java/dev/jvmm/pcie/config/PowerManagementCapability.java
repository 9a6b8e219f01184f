package dev.jvmm.pcie.config;

import dev.jvmm.pcie.spec.PciSpec;

/**
 * The PCI Power Management capability (PCIe Base 6.0 §7.5.2), version 1.2, supporting D0 and D3hot, without
 * PME. No_Soft_Reset is 1: a function keeps its configuration when it comes back from D3hot, so the guest
 * need not restore it (§7.5.2.2).
 *
 * <p>PowerState (PMCSR bits 1:0) is RW, but "if software attempts to write an unsupported, optional state to
 * this field, the write operation must complete normally; however, the data is discarded and no state
 * change occurs" (§7.5.2.2); a hook puts the previous state back when D1 or D2 is written.
 */
public final class PowerManagementCapability implements Capability {
    private ConfigSpace config;
    private int offset = -1;
    private int lastState = PciSpec.PM_STATE_D0;

    @Override
    public int id() {
        return PciSpec.CAP_ID_POWER_MANAGEMENT;
    }

    @Override
    public int length() {
        return PciSpec.PM_CAPABILITY_LENGTH;
    }

    public int offset() {
        return offset;
    }

    @Override
    public void install(ConfigSpace config, int offset) {
        if (this.config != null) {
            throw new IllegalStateException("power management capability already installed");
        }
        this.config = config;
        this.offset = offset;
        config.defineReadOnly(offset + PciSpec.PM_PMC, 2, PciSpec.PM_PMC_VERSION_1_2);
        config.define(
                offset + PciSpec.PM_PMCSR, 2, PciSpec.PM_PMCSR_NO_SOFT_RESET, PciSpec.PM_PMCSR_POWER_STATE_MASK, 0);
        config.defineReadOnly(offset + PciSpec.PM_PMCSR_BSE, 1, 0);
        config.defineReadOnly(offset + PciSpec.PM_DATA, 1, 0);
        config.onWrite(offset + PciSpec.PM_PMCSR, 2, this::onPmcsrWrite);
    }

    /** Current power state, {@code PciSpec.PM_STATE_D0} or {@code PM_STATE_D3_HOT}. */
    public int powerState() {
        return config.getInt(offset + PciSpec.PM_PMCSR, 2) & PciSpec.PM_PMCSR_POWER_STATE_MASK;
    }

    private void onPmcsrWrite() {
        int pmcsr = config.getInt(offset + PciSpec.PM_PMCSR, 2);
        int state = pmcsr & PciSpec.PM_PMCSR_POWER_STATE_MASK;
        if (state == PciSpec.PM_STATE_D1 || state == PciSpec.PM_STATE_D2) {
            config.set(offset + PciSpec.PM_PMCSR, 2, (pmcsr & ~PciSpec.PM_PMCSR_POWER_STATE_MASK) | lastState);
        } else {
            lastState = state;
        }
    }
}
