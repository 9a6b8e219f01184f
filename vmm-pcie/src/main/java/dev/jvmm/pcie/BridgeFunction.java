package dev.jvmm.pcie;

import dev.jvmm.pcie.config.BarDefinition;
import dev.jvmm.pcie.config.BarListener;
import dev.jvmm.pcie.config.Capability;
import dev.jvmm.pcie.config.CapabilityChain;
import dev.jvmm.pcie.config.MsiCapability;
import dev.jvmm.pcie.config.PciExpressCapability;
import dev.jvmm.pcie.config.Type1Header;
import dev.jvmm.pcie.spec.PciSpec;
import dev.jvmm.pcie.util.Sizes;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The function of a Root Port or Switch Port: a Type 1 header, the PCI Express capability and, for ports that
 * raise hot-plug or PME interrupts, a one-vector MSI capability.
 *
 * <p>Two registers have effects beyond storage: writes to the Secondary/Subordinate Bus Number registers
 * update the port's {@link BusNumberRange} (and tell the interrupt domain that requester ids changed), and setting
 * Secondary Bus Reset in Bridge Control hot-resets everything below the port (PCIe Base 6.0 §7.5.1.3.13;
 * modelled on the 0-to-1 edge, since nothing here needs the reset to last).
 */
final class BridgeFunction extends ConfigSpaceFunction {
    /**
     * Identity of a Root Port: Red Hat's id for a generic PCIe root port, as QEMU's pcie-root-port uses;
     * guests bind port drivers by class code, so the ids only name the part.
     */
    static final Type1Header ROOT_PORT_IDENTITY =
            new Type1Header(0x1B36, 0x000C, Type1Header.CLASS_PCI_TO_PCI_BRIDGE, 0);
    /** Identity of a Switch Upstream Port (the ids QEMU's x3130-upstream uses). */
    static final Type1Header SWITCH_UPSTREAM_IDENTITY =
            new Type1Header(0x104C, 0x8232, Type1Header.CLASS_PCI_TO_PCI_BRIDGE, 0x02);
    /** Identity of a Switch Downstream Port (the ids QEMU's xio3130-downstream uses). */
    static final Type1Header SWITCH_DOWNSTREAM_IDENTITY =
            new Type1Header(0x104C, 0x8233, Type1Header.CLASS_PCI_TO_PCI_BRIDGE, 0x01);

    private final PciExpressCapability pcie;
    private final MsiCapability msi;
    private final BusNumberRange busNumberRange = new BusNumberRange();
    private volatile InterruptDomain domain;
    private volatile Runnable onSecondaryBusReset = () -> {};
    private volatile Runnable afterReset = () -> {};
    private boolean secondaryBusResetAsserted;

    BridgeFunction(Type1Header identity, PciExpressCapability pcie, boolean withMsi) {
        this.pcie = Objects.requireNonNull(pcie);
        this.msi = withMsi ? new MsiCapability(1, false, target) : null;
        identity.install(config);
        List<Capability> caps = new ArrayList<>();
        caps.add(pcie);
        if (msi != null) {
            caps.add(msi);
        }
        CapabilityChain.install(config, caps);
        config.onWrite(PciSpec.SECONDARY_BUS, 2, this::onBusNumbersWritten);
        config.onWrite(PciSpec.BRIDGE_CONTROL, 2, this::onBridgeControlWritten);
    }

    PciExpressCapability pcie() {
        return pcie;
    }

    Optional<MsiCapability> msi() {
        return Optional.ofNullable(msi);
    }

    BusNumberRange busNumberRange() {
        return busNumberRange;
    }

    void setDomain(InterruptDomain domain) {
        this.domain = domain;
    }

    void setOnSecondaryBusReset(Runnable action) {
        this.onSecondaryBusReset = Objects.requireNonNull(action);
    }

    void setAfterReset(Runnable action) {
        this.afterReset = Objects.requireNonNull(action);
    }

    /** A port interrupt (hot-plug, PME) on MSI vector {@code vector}; dropped unless bus mastering and MSI are on. */
    boolean signal(int vector) {
        return msi != null && msi.signal(vector);
    }

    private void onBusNumbersWritten() {
        boolean changed = busNumberRange.set(Type1Header.secondaryBus(config), Type1Header.subordinateBus(config));
        InterruptDomain d = domain;
        if (changed && d != null) {
            d.busNumbersChanged();
        }
    }

    private void onBridgeControlWritten() {
        boolean asserted = (config.getInt(PciSpec.BRIDGE_CONTROL, 2) & PciSpec.BRIDGE_CONTROL_SECONDARY_BUS_RESET) != 0;
        boolean rising = asserted && !secondaryBusResetAsserted;
        secondaryBusResetAsserted = asserted;
        if (rising) {
            onSecondaryBusReset.run();
        }
    }

    /** Type 1 BARs are not implemented (RO 0). */
    @Override
    public Optional<BarDefinition> barDefinition(int bar) {
        return Optional.empty();
    }

    @Override
    public long barRead(int bar, long offset, int size) {
        return Sizes.sizeMask(size);
    }

    @Override
    public void barWrite(int bar, long offset, int size, long value) {}

    @Override
    public void setBarListener(BarListener listener) {}

    /** Resets the port's own registers (the hierarchy below is the owner's business). */
    @Override
    public void reset() {
        config.reset();
        afterReset.run();
    }
}
