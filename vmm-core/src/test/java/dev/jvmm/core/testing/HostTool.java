package dev.jvmm.core.testing;

import org.junit.jupiter.api.Assumptions;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * A program on PATH that tests use as an oracle (dtc, iasl). The one rule for a missing one: the test fails and
 * names the Debian package to install, unless -Djvmm.test.allowMissingTools=true, which skips it visibly instead.
 */
public final class HostTool {
    private HostTool() { }

    /** The executable {@code name} on PATH; fails (or aborts) the calling test when there is none. */
    public static Path find(String name, String debianPackage) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator)) {
            Path p = Path.of(dir, name);
            if (Files.isExecutable(p)) return p;
        }
        String msg = "%s not found on PATH: install the Debian package %s (apt-get install %s)"
                .formatted(name, debianPackage, debianPackage);
        if (Boolean.getBoolean("jvmm.test.allowMissingTools")) Assumptions.abort(msg);
        fail(msg);
        return null;
    }
}
