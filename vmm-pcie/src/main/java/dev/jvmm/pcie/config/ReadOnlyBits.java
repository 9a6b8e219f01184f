package dev.jvmm.pcie.config;

/**
 * The bits of one function's configuration space that no guest write may change (neither RW nor RW1C, PCIe Base 6.0
 * §7.4), captured once and checked later: the invariant the randomized tests of both the PCIe model (EcamFuzzTest)
 * and the whole MMIO bus (MmioBusFuzzTest in vmm-core) hold every function to. In main code, not in a test jar:
 * a test jar's packages would split this module's on the module path.
 */
public final class ReadOnlyBits {
    private final ConfigSpace space;
    private final byte[] mask;
    private final byte[] bits;

    private ReadOnlyBits(ConfigSpace space, byte[] mask, byte[] bits) {
        this.space = space;
        this.mask = mask;
        this.bits = bits;
    }

    /** The read-only bits of {@code space} as they are now. */
    public static ReadOnlyBits of(ConfigSpace space) {
        byte[] mask = new byte[ConfigSpace.SIZE];
        for (int i = 0; i < mask.length; i++) {
            mask[i] = (byte) ~(space.writableMask(i, 1) | space.rw1cMask(i, 1));
        }
        byte[] bits = space.snapshot();
        for (int i = 0; i < bits.length; i++) {
            bits[i] &= mask[i];
        }
        return new ReadOnlyBits(space, mask, bits);
    }

    /**
     * Throws an {@link AssertionError} naming {@code context} and the first byte that differs, if any read-only bit
     * changed since {@link #of}.
     */
    public void check(String context) {
        byte[] now = space.snapshot();
        for (int i = 0; i < now.length; i++) {
            if ((now[i] & mask[i]) != bits[i]) {
                throw new AssertionError(String.format(
                        "%s: read-only bits at 0x%03x changed: 0x%02x -> 0x%02x (mask 0x%02x)",
                        context, i, bits[i] & 0xFF, now[i] & mask[i] & 0xFF, mask[i] & 0xFF));
            }
        }
    }
}
