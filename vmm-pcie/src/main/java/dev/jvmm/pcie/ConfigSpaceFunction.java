package dev.jvmm.pcie;

import dev.jvmm.pcie.config.ConfigSpace;

/**
 * A function whose configuration space is a {@link ConfigSpace}: configuration reads and writes go straight to
 * it (its registers' masks and write hooks give them their effects).
 */
abstract sealed class ConfigSpaceFunction implements PciFunction permits BridgeFunction, EndpointFunction {
    final ConfigSpace config = new ConfigSpace();

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
}
