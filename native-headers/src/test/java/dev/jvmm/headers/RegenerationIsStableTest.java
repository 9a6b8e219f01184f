package dev.jvmm.headers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.jvmm.headers.gen.Arch;
import dev.jvmm.headers.gen.Generator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The committed sources are exactly what the generator makes from the manifest and this machine's headers,
 * so nobody edits generated code by hand and a manifest change without regeneration fails CI. If this fails
 * after changing the manifest: {@code scripts/mvn -pl native-headers -Pregen generate-sources}. If it fails on
 * a machine whose UAPI headers have another version (see the first line of any generated file), the headers
 * differ from the ones the sources were generated with.
 */
class RegenerationIsStableTest {

    @Test
    void committedSourcesEqualAFreshGeneration() throws IOException {
        List<Generator.ArchInput> inputs =
                Arrays.stream(Arch.values()).map(Toolchains::input).toList();
        Map<String, String> fresh =
                Generator.generateFrom(Toolchains.MANIFEST_DIR, inputs).files();

        Set<String> committed = new TreeSet<>();
        for (String pkg : List.of(Arch.COMMON_PACKAGE, Arch.AARCH64.javaPackage(), Arch.X86_64.javaPackage())) {
            Path dir = Toolchains.SOURCE_ROOT.resolve(pkg.replace('.', '/'));
            if (Files.isDirectory(dir)) {
                try (Stream<Path> files = Files.list(dir)) {
                    files.forEach(p ->
                            committed.add(Toolchains.SOURCE_ROOT.relativize(p).toString()));
                }
            }
        }
        assertEquals(new TreeSet<>(fresh.keySet()), committed, "generated file set; regenerate with -Pregen");
        for (Map.Entry<String, String> f : fresh.entrySet()) {
            String onDisk = Files.readString(Toolchains.SOURCE_ROOT.resolve(f.getKey()), StandardCharsets.UTF_8);
            if (!onDisk.equals(f.getValue())) {
                fail(f.getKey() + " differs from a fresh generation; regenerate with "
                        + "`scripts/mvn -pl native-headers -Pregen generate-sources`. "
                        + firstDifference(onDisk, f.getValue()));
            }
        }
    }

    private static String firstDifference(String committed, String fresh) {
        List<String> a = committed.lines().toList();
        List<String> b = fresh.lines().toList();
        for (int i = 0; i < Math.max(a.size(), b.size()); i++) {
            String x = i < a.size() ? a.get(i) : "<end of file>";
            String y = i < b.size() ? b.get(i) : "<end of file>";
            if (!x.equals(y)) {
                return "First difference at line " + (i + 1) + ":\n  committed: " + x + "\n  generated: " + y;
            }
        }
        return "Only line endings differ.";
    }
}
