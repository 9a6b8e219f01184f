package dev.jvmm.core.virtio;

/**
 * The device types jvmm implements, with their virtio device ids (virtio 1.2 §5) and the PCI class code a
 * virtio-pci function of that type reports (PCI Code and ID Assignment 1.16; virtio does not define one, drivers
 * match on the ids, so the class only tells generic tools what the function is).
 *
 * <p>The set is closed on purpose: a new device type is a new constant here.
 */
public enum VirtioDeviceType {
    /** §5.2; class 01h/80h "other mass storage controller". */
    BLOCK(2, 0x01_8000),
    /** §5.3; class 07h/80h "other communications device". */
    CONSOLE(3, 0x07_8000),
    /** §5.4; class FFh "device does not fit any defined class", as QEMU's virtio-rng. */
    ENTROPY(4, 0xFF_0000);

    private final int id;
    private final int pciClassCode;

    VirtioDeviceType(int id, int pciClassCode) {
        this.id = id;
        this.pciClassCode = pciClassCode;
    }

    /** Virtio device id (§5). */
    public int id() {
        return id;
    }

    /** Base class, sub-class and programming interface, 24 bits. */
    public int pciClassCode() {
        return pciClassCode;
    }
}
