package dev.jvmm.pcie;

import dev.jvmm.pcie.config.ConfigSpace;
import dev.jvmm.pcie.msi.MsiTarget;

/**
 * A function whose configuration space is a {@link ConfigSpace}: configuration reads and writes go straight to
 * it (its registers' masks and write hooks give them their effects). Its MSI or MSI-X capability sends through
 * {@link #target}.
 */
abstract sealed class ConfigSpaceFunction implements PciFunction permits BridgeFunction, EndpointFunction {
    final ConfigSpace config = new ConfigSpace();
    final MsiTarget target = new MsiTarget();

    /** The function's configuration space, for the device model and for tests. */
    public ConfigSpace configSpace() {
        return config;
    }

    @Override
    public int configRead(int offset, int size) {
        return config.read(offset, size);
    }

    @Override
    public void configWrite(int offset, int size, int value) {
        config.write(offset, size, value);
    }

    @Override
    public MsiTarget msiTarget() {
        return target;
    }
}
