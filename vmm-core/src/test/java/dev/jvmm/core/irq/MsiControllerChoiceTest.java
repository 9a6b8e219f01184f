package dev.jvmm.core.irq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import dev.jvmm.core.irq.MsiControllerChoice.HostGic;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class MsiControllerChoiceTest {
    private static final HostGic V3_ITS = new HostGic(true, true, false, true);
    private static final HostGic V3_NO_ITS = new HostGic(true, true, false, false);
    private static final HostGic V2_ONLY = new HostGic(true, false, true, false);

    static Stream<Arguments> autoChoices() {
        return Stream.of(
                arguments("auto prefers the ITS", V3_ITS, GicMsiMode.ITS, true),
                arguments("auto falls back to v2m beside a GICv3 without ITS", V3_NO_ITS, GicMsiMode.V2M, true),
                arguments("auto on a GICv2 host gets v2m beside GICv2", V2_ONLY, GicMsiMode.V2M, false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("autoChoices")
    void autoTakesTheBestTheHostHas(String what, HostGic host, GicMsiMode msi, boolean gicV3) throws Exception {
        var c = MsiControllerChoice.choose(GicMsiMode.AUTO, host);
        assertEquals(msi, c.msi());
        assertEquals(gicV3, c.gicV3());
    }

    @Test
    void itsWithoutItsIsRefusedWithAnAlternative() {
        var e = assertThrows(
                MsiControllerChoice.Unavailable.class, () -> MsiControllerChoice.choose(GicMsiMode.ITS, V3_NO_ITS));
        assertTrue(e.getMessage().contains("--gic-msi=v2m"), e.getMessage());
    }

    @Test
    void v2mMayBeForcedEvenWhereAnItsExists() throws Exception {
        assertEquals(
                GicMsiMode.V2M,
                MsiControllerChoice.choose(GicMsiMode.V2M, V3_ITS).msi());
    }

    @Test
    void notAarch64IsRefused() {
        assertThrows(
                MsiControllerChoice.Unavailable.class,
                () -> MsiControllerChoice.choose(GicMsiMode.AUTO, new HostGic(false, false, false, false)));
    }

    @Test
    void parseNamesTheChoices() {
        assertEquals(java.util.Optional.of(GicMsiMode.V2M), GicMsiMode.parse("v2m"));
        assertEquals(java.util.Optional.empty(), GicMsiMode.parse("gicv2m"));
    }
}
