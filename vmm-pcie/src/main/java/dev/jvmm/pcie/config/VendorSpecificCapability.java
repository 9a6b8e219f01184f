package dev.jvmm.pcie.config;

import dev.jvmm.pcie.spec.PciSpec;

/**
 * A Vendor-Specific capability (PCIe Base 6.0 §7.9.4): ID 09h, next pointer, a length byte, then registers
 * whose meaning belongs to the device (virtio-pci describes its register blocks this way). The body starts
 * at byte 3; the device chooses which body bits are RW and may hook writes through {@link #config()}.
 */
public final class VendorSpecificCapability implements Capability {
    private final byte[] body;
    private final byte[] writableMask;
    private ConfigSpace config;
    private int offset = -1;

    /**
     * @param body         bytes from capability offset 3 on
     * @param writableMask same length as {@code body}; 1 bits are RW
     */
    public VendorSpecificCapability(byte[] body, byte[] writableMask) {
        if (body.length != writableMask.length) {
            throw new IllegalArgumentException(
                    "body and mask differ in length: " + body.length + " vs " + writableMask.length);
        }
        if (body.length + 3 > 0xFF) {
            throw new IllegalArgumentException(
                    "vendor-specific capability of " + (body.length + 3) + " bytes exceeds 255");
        }
        this.body = body.clone();
        this.writableMask = writableMask.clone();
    }

    @Override
    public int id() {
        return PciSpec.CAP_ID_VENDOR_SPECIFIC;
    }

    @Override
    public int length() {
        return body.length + 3;
    }

    public int offset() {
        return offset;
    }

    /** The configuration space it lives in, for devices that hook their registers. */
    public ConfigSpace config() {
        if (config == null) {
            throw new IllegalStateException("vendor-specific capability not installed");
        }
        return config;
    }

    @Override
    public void install(ConfigSpace config, int offset) {
        if (this.config != null) {
            throw new IllegalStateException("vendor-specific capability already installed");
        }
        this.config = config;
        this.offset = offset;
        config.defineReadOnly(offset + 2, 1, length());
        for (int i = 0; i < body.length; i++) {
            config.define(offset + 3 + i, 1, Byte.toUnsignedInt(body[i]), Byte.toUnsignedInt(writableMask[i]), 0);
        }
    }
}
