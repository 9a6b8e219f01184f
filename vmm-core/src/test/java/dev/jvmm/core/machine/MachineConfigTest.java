package dev.jvmm.core.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jvmm.core.irq.GicMsiMode;
import dev.jvmm.core.pci.PcieConfig;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Bad settings name the setting, not a command-line option: the front end (CLI, API) names it its own way. */
class MachineConfigTest {
    private static MachineConfig config(long memory, int cpus, String cmdline) {
        return new MachineConfig(
                Path.of("Image"), Optional.empty(), cmdline, memory, cpus, GicMsiMode.AUTO, PcieConfig.NONE);
    }

    private static InvalidSetting invalid(long memory, int cpus, String cmdline) {
        return assertThrows(InvalidSetting.class, () -> config(memory, cpus, cmdline));
    }

    @Test
    void eachBadSettingIsNamedWithItsValueAndProblem() {
        InvalidSetting small = invalid(32L << 20, 1, "");
        assertEquals(InvalidSetting.Setting.MEMORY, small.setting());
        assertEquals(Optional.of("32M"), small.value());
        assertEquals("memory 32M is too small: at least 64M", small.getMessage());
        assertEquals("--memory 32M is too small: at least 64M", small.describe("--memory"));

        assertEquals(
                "memory 65M must be a multiple of 2M", invalid(65L << 20, 1, "").getMessage());
        assertEquals(
                "memory 1024G is too large: at most 512G",
                invalid(1L << 40, 1, "").getMessage());

        InvalidSetting cpus = invalid(64L << 20, 0, "");
        assertEquals(InvalidSetting.Setting.CPUS, cpus.setting());
        assertEquals("\"cpus\": must be between 1 and 123 (got 0)", cpus.describe("\"cpus\":"));

        assertEquals(
                InvalidSetting.Setting.CMDLINE,
                invalid(64L << 20, 1, "x".repeat(2048)).setting());
        assertEquals(
                "cmdline must not contain NUL", invalid(64L << 20, 1, "a\0b").getMessage());
    }

    @Test
    void aGoodConfigIsAccepted() {
        assertEquals(123, config(512L << 20, 123, "console=ttyAMA0").cpus());
    }
}
