package dev.jvmm.core.machine;

import java.util.Objects;
import java.util.Optional;

/**
 * A machine setting jvmm cannot accept, named as a setting, not as a command-line option: the CLI renders it as
 * {@code --memory 32M is too small: at least 64M}, a management API would name its own field. The message without a
 * front end reads {@code memory 32M is too small: at least 64M}.
 */
public final class InvalidSetting extends IllegalArgumentException {
    /** The settings of {@link MachineConfig} a user gives. */
    public enum Setting {
        MEMORY("memory"),
        CPUS("cpus"),
        CMDLINE("cmdline");

        private final String label;

        Setting(String label) {
            this.label = label;
        }

        /** A neutral name: "memory", "gic-msi". */
        public String label() {
            return label;
        }
    }

    private final Setting setting;
    private final String value;
    private final String problem;

    /**
     * @param value   the value as the user would recognize it ("32M"), or null when the problem says it
     * @param problem what is wrong, continuing the setting's name: "is too small: at least 64M"
     */
    public InvalidSetting(Setting setting, String value, String problem) {
        super(setting.label() + (value == null ? "" : " " + value) + " " + problem);
        this.setting = Objects.requireNonNull(setting);
        this.value = value;
        this.problem = Objects.requireNonNull(problem);
    }

    public Setting setting() {
        return setting;
    }

    public Optional<String> value() {
        return Optional.ofNullable(value);
    }

    public String problem() {
        return problem;
    }

    /** The message with the setting named as {@code name} (a CLI option, an API field). */
    public String describe(String name) {
        return name + (value == null ? "" : " " + value) + " " + problem;
    }
}
