package dev.jvmm.core.irq;

/**
 * A wired (level-sensitive) interrupt line from a device to the interrupt controller, e.g. a GIC SPI. The
 * device drives the level; the controller behind the line (KVM_IRQ_LINE for the in-kernel vGIC) latches it.
 */
public interface IrqLine {
    void set(boolean level);

    /** A line that goes nowhere, for devices whose interrupt is not wired and for tests. */
    IrqLine NONE = level -> {};
}
