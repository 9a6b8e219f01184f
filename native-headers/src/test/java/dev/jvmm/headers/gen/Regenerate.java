package dev.jvmm.headers.gen;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Rewrites the generated packages: {@code java Regenerate.java <manifest dir> <source root>}, run by
 * {@code scripts/mvn -pl native-headers -Pregen generate-sources}. Deletes the {@code .java} files of the
 * generated packages first, so a declaration dropped from the manifest disappears.
 */
public final class Regenerate {

    private Regenerate() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: java Regenerate.java <manifest dir> <source root>");
            System.exit(2);
        }
        Path manifestDir = Path.of(args[0]);
        Path root = Path.of(args[1]);
        List<CCompiler> compilers = new ArrayList<>();
        for (Arch arch : Arch.values()) {
            compilers.add(CCompiler.find(arch)
                    .orElseThrow(
                            () -> new IllegalStateException("cannot regenerate: " + CCompiler.missingMessage(arch))));
        }
        Generator.Output out = Generator.generate(manifestDir, compilers);
        for (String pkg : out.packages().keySet()) {
            Path dir = root.resolve(pkg.replace('.', '/'));
            if (Files.isDirectory(dir)) {
                try (Stream<Path> old = Files.list(dir)) {
                    for (Path p :
                            old.filter(p -> p.toString().endsWith(".java")).toList()) {
                        Files.delete(p);
                    }
                }
            }
        }
        for (Map.Entry<String, String> f : out.files().entrySet()) {
            Path p = root.resolve(f.getKey());
            Files.createDirectories(p.getParent());
            Files.writeString(p, f.getValue(), StandardCharsets.UTF_8);
        }
        out.packages()
                .forEach((pkg, m) -> System.out.printf(
                        "%-32s %4d constants, %3d structs%n",
                        pkg, m.constants().size(), m.structs().size()));
        System.out.println("wrote " + out.files().size() + " files under " + root);
    }
}
