package dev.jvmm.cli;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Tiny bare-metal arm64 "kernels" for end-to-end tests of jvmm's own error paths, hand-encoded (Arm ARM, A64
 * instruction encodings) behind a valid arm64 Image header (Documentation/arch/arm64/booting.rst).
 */
final class Aarch64Payloads {
    private Aarch64Payloads() { }

    /**
     * Loads a pair of registers from the PL011 at 0x09000000: {@code ldp} gives KVM no instruction syndrome (ESR
     * ISV = 0), so KVM cannot emulate the access and reports KVM_EXIT_ARM_NISV.
     */
    static byte[] loadPairFromDevice() {
        return image(
                0xD2A12002,   // movz x2, #0x0900, lsl #16     x2 = 0x09000000
                0xA9400440,   // ldp  x0, x1, [x2]
                0x14000000);  // b    .
    }

    private static byte[] image(int... code) {
        ByteBuffer b = ByteBuffer.allocate(0x1000).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0x00, 0x14000010);          // code0: b +0x40 (past the header)
        b.putLong(0x08, 0);                  // text_offset
        b.putLong(0x10, 0x1000);             // image_size
        b.putLong(0x18, 0b1010);             // flags: little-endian, 4K pages, anywhere in RAM
        b.putInt(0x38, 0x644d5241);          // magic "ARM\x64"
        for (int i = 0; i < code.length; i++) b.putInt(0x40 + 4 * i, code[i]);
        return b.array();
    }
}
