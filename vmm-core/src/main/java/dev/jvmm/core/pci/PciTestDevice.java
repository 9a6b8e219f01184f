package dev.jvmm.core.pci;

import dev.jvmm.pcie.BarHandler;
import dev.jvmm.pcie.EndpointFunction;
import dev.jvmm.pcie.config.BarDefinition;

/**
 * A test endpoint function in the spirit of QEMU's {@code pci-testdev}: by default Red Hat's id 1b36:0005, class
 * ff0000 ("device does not fit any defined class", PCI Code and ID Assignment 1.16 §1.19), no driver in the guest.
 * It exists so a guest sees real functions below ports and switches, with a BAR the guest can place and use.
 *
 * <p>BAR 0 is {@value #BAR_SIZE} bytes of scratch registers that read back what was written (little-endian, any
 * access size), so a test can prove that the guest's BAR programming reached the MMIO bus. It is a 32-bit
 * non-prefetchable BAR, or with {@code bar64} a 64-bit prefetchable one (PCIe Base 6.0 §7.5.1.2.1), which Linux
 * places in the 64-bit window. No interrupts: INTx pin 0, no MSI.
 */
public final class PciTestDevice {
    public static final int VENDOR_ID = 0x1B36;
    public static final int DEVICE_ID = 0x0005;
    public static final int CLASS_CODE = 0xFF_0000;
    /** A page: the smallest BAR Linux maps on its own page, and plenty for a scratch pattern. */
    public static final long BAR_SIZE = 4096;

    private PciTestDevice() {}

    /** One function of a test endpoint. */
    public static EndpointFunction function(int vendorId, int deviceId, int classCode, boolean bar64) {
        BarDefinition bar = bar64 ? BarDefinition.memory64(BAR_SIZE, true) : BarDefinition.memory32(BAR_SIZE);
        return EndpointFunction.builder(vendorId, deviceId, classCode)
                .bar(0, bar)
                .barHandler(new ScratchRegisters((int) BAR_SIZE))
                .build();
    }

    /** A function with the default ids and a 32-bit BAR. */
    public static EndpointFunction function() {
        return function(VENDOR_ID, DEVICE_ID, CLASS_CODE, false);
    }

    /**
     * RAM-like registers: every byte reads back what was last written to it; a reset clears them. The endpoint
     * function has already checked that [offset, offset + size) lies inside the BAR.
     */
    static final class ScratchRegisters implements BarHandler {
        private final byte[] bytes;

        ScratchRegisters(int size) {
            this.bytes = new byte[size];
        }

        @Override
        public synchronized long read(int bar, long offset, int size) {
            if (bar != 0 || offset < 0 || size < 1 || size > 8 || offset > bytes.length - size) return -1L;
            long value = 0;
            for (int i = size - 1; i >= 0; i--) value = value << 8 | Byte.toUnsignedLong(bytes[(int) offset + i]);
            return value;
        }

        @Override
        public synchronized void write(int bar, long offset, int size, long value) {
            if (bar != 0 || offset < 0 || size < 1 || size > 8 || offset > bytes.length - size) return;
            for (int i = 0; i < size; i++) bytes[(int) offset + i] = (byte) (value >>> (8 * i));
        }

        @Override
        public synchronized void reset() {
            java.util.Arrays.fill(bytes, (byte) 0);
        }
    }
}
