package dev.jvmm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MSI on a GICv2-only host: the emulated arm64 host started with QEMU's {@code gic-version=2} has KVM with an
 * in-kernel vGICv2 and no ITS. {@code --gic-msi=auto} must fall back to jvmm's GICv2m frame beside the vGICv2 and
 * the guest must get its virtio-rng interrupts there; {@code --gic-msi=its} must refuse to start, naming the ITS.
 */
class MsiGicV2HostIT {
    static EmulatedAarch64Host.Result result;

    @BeforeAll
    static void bootGuests(@TempDir Path tmp) throws Exception {
        EmulatedAarch64Host.skipIfAsked();
        Path share = MsiIT.guestShare(tmp);
        String host = String.join(
                "\n",
                EmulatedAarch64Host.marked("auto", MsiIT.JVMM + " --gic-msi=auto " + MsiIT.DEVICES),
                EmulatedAarch64Host.marked("its", MsiIT.JVMM + " --gic-msi=its " + MsiIT.DEVICES),
                "true");
        result = EmulatedAarch64Host.runShared(share, host, List.of("--machine-opts", "gic-version=2"), 900);
    }

    @Test
    void autoFallsBackToV2mBesideAGicV2AndEveryRngDeliversData() {
        EmulatedAarch64Host.Section auto = result.section("auto");
        assertTrue(
                auto.console().contains("jvmm-stats msi-controller=v2m gic=v2 reason: no GICv3 ITS on this host"),
                auto.console());
        MsiIT.checkGuest(auto, "GICv2m");
    }

    @Test
    void askingForTheItsFailsAtStartWithOneLineNamingIt() {
        EmulatedAarch64Host.Section its = result.section("its");
        assertEquals(1, its.status(), its.console());
        assertTrue(
                its.console()
                        .contains("jvmm: --gic-msi=its: the host's KVM cannot create a GICv3 ITS (no GICv3 either);"
                                + " use --gic-msi=v2m or auto"),
                its.console());
        assertTrue(!its.console().contains("JVMM-GUEST"), "no guest booted:\n" + its.console());
    }
}
