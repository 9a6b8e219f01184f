package dev.jvmm.core.irq;

/**
 * The interrupt controllers a machine gets, decided from {@link GicMsiMode} and what the host's KVM can create
 * (KVM_CREATE_DEVICE_TEST answers).
 *
 * @param gicV3   use an in-kernel GICv3 (else GICv2)
 * @param msi     the MSI controller
 * @param reason  one line saying why, for logs and {@code jvmm host-info}
 */
public record MsiControllerChoice(boolean gicV3, GicMsiMode msi, String reason) {

    /** What the host can do, as far as this decision needs. */
    public record HostGic(boolean aarch64, boolean vgicV3, boolean vgicV2, boolean its) {}

    /** Thrown when the requested mode cannot work on this host; the message is one line for the user. */
    public static final class Unavailable extends Exception {
        private static final long serialVersionUID = 1L;

        public Unavailable(String message) {
            super(message);
        }
    }

    public static MsiControllerChoice choose(GicMsiMode mode, HostGic host) throws Unavailable {
        if (!host.aarch64()) {
            throw new Unavailable("this host is not aarch64: jvmm runs aarch64 guests on aarch64 KVM hosts only");
        }
        if (!host.vgicV3() && !host.vgicV2()) {
            throw new Unavailable("the host's KVM can create neither a GICv3 nor a GICv2 (KVM_CREATE_DEVICE_TEST)");
        }
        boolean itsUsable = host.vgicV3() && host.its();
        return switch (mode) {
            case ITS -> {
                if (!itsUsable) {
                    throw new Unavailable("--gic-msi=its: the host's KVM cannot create a GICv3 ITS"
                            + (host.vgicV3() ? "" : " (no GICv3 either)") + "; use --gic-msi=v2m or auto");
                }
                yield new MsiControllerChoice(true, GicMsiMode.ITS, "GICv3 ITS requested and available");
            }
            case V2M ->
                new MsiControllerChoice(
                        host.vgicV3(),
                        GicMsiMode.V2M,
                        "GICv2m frame requested (emulated by jvmm, 64 SPIs) beside an in-kernel "
                                + (host.vgicV3() ? "GICv3" : "GICv2"));
            case AUTO ->
                itsUsable
                        ? new MsiControllerChoice(true, GicMsiMode.ITS, "the host's KVM can create a GICv3 ITS")
                        : new MsiControllerChoice(
                                host.vgicV3(),
                                GicMsiMode.V2M,
                                "no GICv3 ITS on this host: GICv2m frame (emulated by jvmm, 64 SPIs) beside an in-kernel "
                                        + (host.vgicV3() ? "GICv3" : "GICv2"));
        };
    }
}
