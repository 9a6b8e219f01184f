package dev.jvmm.pcie;

import dev.jvmm.pcie.config.BarDefinition;
import dev.jvmm.pcie.config.BarListener;
import dev.jvmm.pcie.msi.MsiTarget;
import java.util.Optional;

/**
 * One PCI function as the hierarchy sees it: a configuration space, up to six BARs, an interrupt target and
 * a reset. {@link EndpointFunction} is the ready-made implementation; a device that emulates its own
 * configuration space (VFIO passthrough) implements this interface directly.
 *
 * <p>Every method takes guest-controlled numbers and must never throw for them: invalid accesses read all
 * ones and drop writes.
 */
public interface PciFunction {
    /**
     * A configuration read of {@code size} bytes at {@code offset} (0..4095). Valid accesses are 1, 2 or 4
     * bytes, naturally aligned; the value is in the low bytes. Anything else returns all ones.
     */
    int configRead(int offset, int size);

    /** A configuration write; invalid accesses are dropped. */
    void configWrite(int offset, int size, int value);

    /** BAR {@code bar} (0..5), if the function implements it. */
    Optional<BarDefinition> barDefinition(int bar);

    /** A read of {@code size} bytes at {@code offset} into BAR {@code bar}; all ones outside the BAR. */
    long barRead(int bar, long offset, int size);

    /** A write into BAR {@code bar}; dropped outside the BAR. */
    void barWrite(int bar, long offset, int size, long value);

    /** Tells the machine where the guest moves the BARs. */
    void setBarListener(BarListener listener);

    /** Where the function's MSI/MSI-X messages go; connected by the port it is attached under. */
    MsiTarget msiTarget();

    /** Conventional (hot) reset: registers back to power-on values, device state cleared (PCIe Base 6.0 §6.6.1). */
    void reset();
}
