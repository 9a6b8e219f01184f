package dev.jvmm.pcie;

import dev.jvmm.pcie.config.BarDefinition;
import dev.jvmm.pcie.config.BarListener;
import dev.jvmm.pcie.config.BaseAddressRegisters;
import dev.jvmm.pcie.config.Capability;
import dev.jvmm.pcie.config.CapabilityChain;
import dev.jvmm.pcie.config.MsiCapability;
import dev.jvmm.pcie.config.MsixCapability;
import dev.jvmm.pcie.config.PciExpressCapability;
import dev.jvmm.pcie.config.PowerManagementCapability;
import dev.jvmm.pcie.config.Type0Header;
import dev.jvmm.pcie.config.VendorSpecificCapability;
import dev.jvmm.pcie.msi.MsiTarget;
import dev.jvmm.pcie.spec.PciSpec;
import dev.jvmm.pcie.util.Sizes;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A PCI Express endpoint function built from parts: a Type 0 header, BARs, and a capability list of
 * [Power Management], PCI Express, [MSI], [MSI-X] and vendor-specific capabilities, with the device's own
 * registers behind a {@link BarHandler}. This is the function later virtio devices are made of.
 *
 * <p>Interrupts: {@link #signal} uses MSI-X when enabled, else MSI when enabled, else nothing (INTx is not
 * modelled). Both capabilities hold messages back while Bus Master Enable is clear (PCIe Base 6.0 §7.5.1.1.3).
 */
public final class EndpointFunction extends ConfigSpaceFunction {
    private final BaseAddressRegisters bars;
    private final PciExpressCapability pcie;
    private final MsiCapability msi;
    private final MsixCapability msix;
    private final BarHandler handler;

    private EndpointFunction(Builder b) {
        this.handler = b.handler;
        b.header().install(config);
        this.bars = new BaseAddressRegisters(config, b.bars);
        this.pcie = b.integrated ? PciExpressCapability.integratedEndpoint() : PciExpressCapability.endpoint();
        this.msi = b.msiVectors > 0 ? new MsiCapability(b.msiVectors, b.msiPerVectorMask, target) : null;
        this.msix = b.msix == null ? null : b.msix.create(target);
        if (msix != null) {
            checkMsixPlacement(msix, b.bars);
        }
        List<Capability> caps = new ArrayList<>();
        if (b.powerManagement) {
            caps.add(new PowerManagementCapability());
        }
        caps.add(pcie);
        if (msi != null) {
            caps.add(msi);
        }
        if (msix != null) {
            caps.add(msix);
        }
        caps.addAll(b.vendorCapabilities);
        CapabilityChain.install(config, caps);
    }

    private static void checkMsixPlacement(MsixCapability msix, BarDefinition[] bars) {
        checkRegion("table", bars, msix.tableBar(), msix.tableOffset(), msix.tableLength());
        checkRegion("PBA", bars, msix.pbaBar(), msix.pbaOffset(), msix.pbaLength());
        if (msix.tableBar() == msix.pbaBar()
                && msix.tableOffset() < msix.pbaOffset() + msix.pbaLength()
                && msix.pbaOffset() < msix.tableOffset() + msix.tableLength()) {
            throw new IllegalArgumentException("MSI-X table and PBA overlap in BAR " + msix.tableBar());
        }
    }

    private static void checkRegion(String what, BarDefinition[] bars, int bar, long offset, long length) {
        BarDefinition d = bars[bar];
        if (d == null || !d.kind().isMemory()) {
            throw new IllegalArgumentException("MSI-X " + what + " is in BAR " + bar + ", which is not a memory BAR");
        }
        if (offset + length > d.size()) {
            throw new IllegalArgumentException(
                    "MSI-X " + what + " [0x" + Long.toHexString(offset) + ", +0x" + Long.toHexString(length)
                            + ") does not fit in BAR " + bar + " of 0x" + Long.toHexString(d.size()) + " bytes");
        }
    }

    public static Builder builder(int vendorId, int deviceId, int classCode) {
        return new Builder(vendorId, deviceId, classCode);
    }

    public BaseAddressRegisters bars() {
        return bars;
    }

    public PciExpressCapability pcieCapability() {
        return pcie;
    }

    public Optional<MsiCapability> msi() {
        return Optional.ofNullable(msi);
    }

    public Optional<MsixCapability> msix() {
        return Optional.ofNullable(msix);
    }

    /**
     * Raises interrupt vector {@code vector}. Returns whether a message was sent or latched pending; false
     * when dropped (bus mastering off, no interrupt mode enabled, vector out of range, no requester id).
     */
    public boolean signal(int vector) {
        if (msix != null && msix.isEnabled()) {
            return msix.signal(vector);
        }
        if (msi != null && msi.isEnabled()) {
            return msi.signal(vector);
        }
        return false;
    }

    @Override
    public Optional<BarDefinition> barDefinition(int bar) {
        return bars.definition(bar);
    }

    @Override
    public long barRead(int bar, long offset, int size) {
        BarDefinition d = bars.definition(bar).orElse(null);
        if (d == null || size < 1 || size > 8 || offset < 0 || offset > d.size() - size) {
            return Sizes.sizeMask(size);
        }
        if (msix != null) {
            if (bar == msix.tableBar() && inside(offset, msix.tableOffset(), msix.tableLength())) {
                return msix.tableRead(offset - msix.tableOffset(), size);
            }
            if (bar == msix.pbaBar() && inside(offset, msix.pbaOffset(), msix.pbaLength())) {
                return msix.pbaRead(offset - msix.pbaOffset(), size);
            }
        }
        return handler.read(bar, offset, size);
    }

    @Override
    public void barWrite(int bar, long offset, int size, long value) {
        BarDefinition d = bars.definition(bar).orElse(null);
        if (d == null || size < 1 || size > 8 || offset < 0 || offset > d.size() - size) {
            return;
        }
        if (msix != null) {
            if (bar == msix.tableBar() && inside(offset, msix.tableOffset(), msix.tableLength())) {
                msix.tableWrite(offset - msix.tableOffset(), size, value);
                return;
            }
            if (bar == msix.pbaBar() && inside(offset, msix.pbaOffset(), msix.pbaLength())) {
                msix.pbaWrite(offset - msix.pbaOffset(), size, value);
                return;
            }
        }
        handler.write(bar, offset, size, value);
    }

    private static boolean inside(long offset, long start, long length) {
        return offset >= start && offset - start < length;
    }

    @Override
    public void setBarListener(BarListener listener) {
        bars.setListener(listener);
    }

    @Override
    public void reset() {
        config.reset();
        if (msix != null) {
            msix.resetTable();
        }
        handler.reset();
    }

    /** Collects the parts of an endpoint function; {@link #build} checks them and lays out config space. */
    public static final class Builder {
        private final int vendorId;
        private final int deviceId;
        private final int classCode;
        private int revisionId;
        private int subsystemVendorId;
        private int subsystemId;
        private int interruptPin;
        private final BarDefinition[] bars = new BarDefinition[PciSpec.BAR_COUNT_TYPE0];
        private boolean powerManagement;
        private boolean integrated;
        private int msiVectors;
        private boolean msiPerVectorMask;
        private MsixPlacement msix;
        private final List<VendorSpecificCapability> vendorCapabilities = new ArrayList<>();
        private BarHandler handler = BarHandler.NONE;

        private record MsixPlacement(int vectors, int tableBar, long tableOffset, int pbaBar, long pbaOffset) {
            MsixCapability create(MsiTarget target) {
                return new MsixCapability(vectors, tableBar, tableOffset, pbaBar, pbaOffset, target);
            }
        }

        private Builder(int vendorId, int deviceId, int classCode) {
            this.vendorId = vendorId;
            this.deviceId = deviceId;
            this.classCode = classCode;
            this.subsystemVendorId = vendorId;
        }

        public Builder revision(int revisionId) {
            this.revisionId = revisionId;
            return this;
        }

        public Builder subsystem(int subsystemVendorId, int subsystemId) {
            this.subsystemVendorId = subsystemVendorId;
            this.subsystemId = subsystemId;
            return this;
        }

        /** 0 = no INTx (the default), 1..4 = INTA..INTD. */
        public Builder interruptPin(int pin) {
            this.interruptPin = pin;
            return this;
        }

        public Builder bar(int index, BarDefinition definition) {
            if (index < 0 || index >= bars.length) {
                throw new IllegalArgumentException("BAR index " + index + " out of range 0-5");
            }
            if (bars[index] != null) {
                throw new IllegalArgumentException("BAR " + index + " defined twice");
            }
            bars[index] = Objects.requireNonNull(definition);
            return this;
        }

        public Builder powerManagement() {
            this.powerManagement = true;
            return this;
        }

        /** Makes the function a Root Complex Integrated Endpoint (Device/Port Type 1001b, no link). */
        public Builder rootComplexIntegrated() {
            this.integrated = true;
            return this;
        }

        /** An MSI capability with {@code vectors} (power of two, 1..32) vectors and 64-bit addresses. */
        public Builder msi(int vectors, boolean perVectorMask) {
            this.msiVectors = vectors;
            this.msiPerVectorMask = perVectorMask;
            return this;
        }

        /** An MSI-X capability; the table and PBA must lie inside memory BARs defined on this builder. */
        public Builder msix(int vectors, int tableBar, long tableOffset, int pbaBar, long pbaOffset) {
            this.msix = new MsixPlacement(vectors, tableBar, tableOffset, pbaBar, pbaOffset);
            msix.create(new MsiTarget()); // checks the numbers now, where the caller made the mistake
            return this;
        }

        public Builder vendorCapability(VendorSpecificCapability capability) {
            vendorCapabilities.add(Objects.requireNonNull(capability));
            return this;
        }

        public Builder barHandler(BarHandler handler) {
            this.handler = Objects.requireNonNull(handler);
            return this;
        }

        private Type0Header header() {
            return new Type0Header(
                    vendorId, deviceId, classCode, revisionId, subsystemVendorId, subsystemId, interruptPin);
        }

        public EndpointFunction build() {
            return new EndpointFunction(this);
        }
    }
}
