package dev.jvmm.core.irq;

import java.util.Locale;
import java.util.Optional;

/**
 * How MSIs reach the guest on an aarch64 machine ({@code --gic-msi}).
 * <ul>
 *   <li>{@link #ITS}: the in-kernel GICv3 ITS; jvmm injects with KVM_SIGNAL_MSI + KVM_MSI_VALID_DEVID.</li>
 *   <li>{@link #V2M}: a GICv2m frame emulated by jvmm (64 SPIs); MSI writes become KVM_IRQ_LINE.</li>
 *   <li>{@link #AUTO}: ITS when the host's KVM can create one, else v2m (QEMU's proposed {@code msi=auto}).</li>
 * </ul>
 */
public enum GicMsiMode {
    AUTO,
    ITS,
    V2M;

    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code auto|its|v2m}; empty for anything else (the caller names the setting in its error). */
    public static Optional<GicMsiMode> parse(String s) {
        for (GicMsiMode m : values()) if (m.cliName().equals(s)) return Optional.of(m);
        return Optional.empty();
    }
}
