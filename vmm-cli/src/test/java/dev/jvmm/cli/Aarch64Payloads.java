package dev.jvmm.cli;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Tiny bare-metal arm64 "kernels" for end-to-end tests of jvmm's own error paths, hand-encoded (Arm ARM, A64
 * instruction encodings) behind a valid arm64 Image header (Documentation/arch/arm64/booting.rst).
 */
final class Aarch64Payloads {
    private Aarch64Payloads() {}

    /**
     * Loads a pair of registers from the PL011 at 0x09000000: {@code ldp} gives KVM no instruction syndrome (ESR
     * ISV = 0), so KVM cannot emulate the access and reports KVM_EXIT_ARM_NISV. jvmm answers with an external data
     * abort; the payload's vector table checks that it took one (ESR_EL1.EC = 0x25 data abort at EL1, DFSC = 0x10
     * synchronous external abort, FAR_EL1 = the device address), prints {@code SEA} and powers off (PSCI
     * SYSTEM_OFF); if anything differs it prints {@code F} and resets (SYSTEM_RESET), so the exit status tells.
     */
    static byte[] loadPairFromDevice() {
        ByteBuffer b = image(
                0x10000003, // adr  x3, .                    x3 = image + 0x40
                0x911f0063, // add  x3, x3, #0x7c0           x3 = image + 0x800 (VBAR must be 2 KiB aligned)
                0xd518c003, // msr  vbar_el1, x3
                0xd5033fdf, // isb
                0xD2A12002, // movz x2, #0x0900, lsl #16     x2 = 0x09000000
                0xA9400440, // ldp  x0, x1, [x2]
                0x14000000); // b    .                        (never reached: the abort is taken)
        // VBAR + 0x200: synchronous exception from the current EL with SP_ELx (Arm ARM D1.10.2, table D1-7).
        int[] handler = {
            0xd5385204, // mrs  x4, esr_el1
            0xd35afc85, // lsr  x5, x4, #26
            0xf10094bf, // cmp  x5, #0x25                 EC: data abort without a change in EL
            0x54000261, // b.ne fail
            0x92401485, // and  x5, x4, #0x3f
            0xf10040bf, // cmp  x5, #0x10                 DFSC: synchronous external abort
            0x54000201, // b.ne fail
            0xd5386006, // mrs  x6, far_el1
            0xeb0200df, // cmp  x6, x2
            0x540001a1, // b.ne fail
            0x52800a67,
            0xb9000047, // mov w7, #'S'; str w7, [x2]   (a plain str: KVM decodes it)
            0x528008a7,
            0xb9000047, // 'E'
            0x52800827,
            0xb9000047, // 'A'
            0x52800147,
            0xb9000047, // '\n'
            0xd2800100,
            0xf2b08000, // x0 = 0x84000008 PSCI SYSTEM_OFF
            0xd4000002, // hvc  #0
            0x14000000, // b    .
            // fail:
            0x528008c7,
            0xb9000047, // 'F'
            0x52800147,
            0xb9000047, // '\n'
            0xd2800120,
            0xf2b08000, // x0 = 0x84000009 PSCI SYSTEM_RESET
            0xd4000002, // hvc  #0
            0x14000000, // b    .
        };
        for (int i = 0; i < handler.length; i++) b.putInt(0xA00 + 4 * i, handler[i]);
        return b.array();
    }

    private static ByteBuffer image(int... code) {
        ByteBuffer b = ByteBuffer.allocate(0x1000).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0x00, 0x14000010); // code0: b +0x40 (past the header)
        b.putLong(0x08, 0); // text_offset
        b.putLong(0x10, 0x1000); // image_size
        b.putLong(0x18, 0b1010); // flags: little-endian, 4K pages, anywhere in RAM
        b.putInt(0x38, 0x644d5241); // magic "ARM\x64"
        for (int i = 0; i < code.length; i++) b.putInt(0x40 + 4 * i, code[i]);
        return b;
    }
}
