package dev.jvmm.core.irq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.irq.MsiControllerChoice.HostGic;
import org.junit.jupiter.api.Test;

class MsiControllerChoiceTest {
    private static final HostGic V3_ITS = new HostGic(true, true, false, true);
    private static final HostGic V3_NO_ITS = new HostGic(true, true, false, false);
    private static final HostGic V2_ONLY = new HostGic(true, false, true, false);

    @Test
    void autoPrefersTheIts() throws Exception {
        var c = MsiControllerChoice.choose(GicMsiMode.AUTO, V3_ITS);
        assertEquals(GicMsiMode.ITS, c.msi());
        assertTrue(c.gicV3());
    }

    @Test
    void autoFallsBackToV2mBesideAGicV3WithoutIts() throws Exception {
        var c = MsiControllerChoice.choose(GicMsiMode.AUTO, V3_NO_ITS);
        assertEquals(GicMsiMode.V2M, c.msi());
        assertTrue(c.gicV3());
    }

    @Test
    void autoOnAGicV2HostGetsV2mBesideGicV2() throws Exception {
        var c = MsiControllerChoice.choose(GicMsiMode.AUTO, V2_ONLY);
        assertEquals(GicMsiMode.V2M, c.msi());
        assertFalse(c.gicV3());
    }

    @Test
    void itsWithoutItsIsRefusedWithAnAlternative() {
        var e = assertThrows(MsiControllerChoice.Unavailable.class,
                () -> MsiControllerChoice.choose(GicMsiMode.ITS, V3_NO_ITS));
        assertTrue(e.getMessage().contains("--gic-msi=v2m"), e.getMessage());
    }

    @Test
    void v2mMayBeForcedEvenWhereAnItsExists() throws Exception {
        assertEquals(GicMsiMode.V2M, MsiControllerChoice.choose(GicMsiMode.V2M, V3_ITS).msi());
    }

    @Test
    void notAarch64IsRefused() {
        assertThrows(MsiControllerChoice.Unavailable.class,
                () -> MsiControllerChoice.choose(GicMsiMode.AUTO, new HostGic(false, false, false, false)));
    }

    @Test
    void parseNamesTheChoices() {
        assertEquals(GicMsiMode.V2M, GicMsiMode.parse("v2m"));
        var e = assertThrows(IllegalArgumentException.class, () -> GicMsiMode.parse("gicv2m"));
        assertEquals("--gic-msi must be one of auto, its, v2m (got 'gicv2m')", e.getMessage());
    }
}
