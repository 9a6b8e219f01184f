package dev.jvmm.headers;

import dev.jvmm.headers.gen.Arch;
import dev.jvmm.headers.gen.CCompiler;
import dev.jvmm.headers.gen.Generator.ArchInput;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * The compilers the checks need, and their answers, computed once per test JVM. A missing compiler fails the
 * test with the packages to install, unless {@code -Djvmm.headers.allowMissingCompiler=true}, which turns the
 * failure into a skipped test (for a laptop without the cross toolchain; CI installs it).
 */
final class Toolchains {

    static final String ALLOW_MISSING = "jvmm.headers.allowMissingCompiler";
    /** Surefire runs tests in the module directory. */
    static final Path MANIFEST_DIR = Path.of("manifest");

    static final Path SOURCE_ROOT = Path.of("src", "main", "java");

    private static final Map<Arch, ArchInput> INPUTS = new EnumMap<>(Arch.class);

    private Toolchains() {}

    static CCompiler compiler(Arch arch) {
        return CCompiler.find(arch).orElseGet(() -> {
            String message = CCompiler.missingMessage(arch);
            if (Boolean.getBoolean(ALLOW_MISSING)) {
                Assumptions.abort("skipped, " + ALLOW_MISSING + "=true: " + message);
            }
            return Assertions.fail(message + "; or run with -D" + ALLOW_MISSING + "=true to skip " + arch.id());
        });
    }

    /** Manifest, parsed header and probe results for {@code arch}. */
    static synchronized ArchInput input(Arch arch) {
        ArchInput in = INPUTS.get(arch);
        if (in == null) {
            Assertions.assertTrue(Files.isDirectory(MANIFEST_DIR), "run from the native-headers module directory");
            in = ArchInput.load(MANIFEST_DIR, compiler(arch));
            INPUTS.put(arch, in);
        }
        return in;
    }
}
