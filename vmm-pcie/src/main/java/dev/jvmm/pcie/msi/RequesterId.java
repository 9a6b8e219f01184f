package dev.jvmm.pcie.msi;

/**
 * A PCI Express Requester ID (routing ID): bus, device and function of the function that sends a request,
 * such as an MSI memory write (PCIe Base 6.0 §2.2.6.2).
 *
 * <pre>
 *  15          8 7       3 2      0
 * +-------------+---------+--------+
 * | Bus Number  | Device  |Function|
 * +-------------+---------+--------+
 * </pre>
 *
 * <p>jvmm never stores a requester id for a function: bus numbers belong to the guest, so the id is built
 * from the parent port's current secondary bus each time it is needed (see {@link MsiTarget}).
 *
 * @param bus      0..255
 * @param device   0..31
 * @param function 0..7
 */
public record RequesterId(int bus, int device, int function) {
    public RequesterId {
        if (bus < 0 || bus > 0xFF) {
            throw new IllegalArgumentException("bus " + bus + " out of range 0-255");
        }
        if (device < 0 || device > 0x1F) {
            throw new IllegalArgumentException("device " + device + " out of range 0-31");
        }
        if (function < 0 || function > 0x7) {
            throw new IllegalArgumentException("function " + function + " out of range 0-7");
        }
    }

    /** Splits a 16-bit requester id; the value must be within 0..0xFFFF. */
    public static RequesterId of(int value) {
        if (value < 0 || value > 0xFFFF) {
            throw new IllegalArgumentException("requester id 0x" + Integer.toHexString(value) + " is not 16 bits");
        }
        return new RequesterId(value >>> 8, (value >>> 3) & 0x1F, value & 0x7);
    }

    /** The 16-bit value: {@code bus << 8 | device << 3 | function}. */
    public int value() {
        return bus << 8 | device << 3 | function;
    }

    /** Device and function packed as in the low byte of the id. */
    public int devfn() {
        return device << 3 | function;
    }

    /** Linux notation, {@code bb:dd.f} in hex. */
    @Override
    public String toString() {
        return String.format("%02x:%02x.%x", bus, device, function);
    }
}
