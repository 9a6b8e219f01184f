package dev.jvmm.headers.gen;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.SequencedSet;

/**
 * What to generate, read from jextract {@code --dump-includes} files (jextract's doc/GUIDE.md):
 * {@code --include-constant NAME} (macros and enum constants) and {@code --include-struct NAME}, with
 * {@code # ...} comments. One jvmm extension, hidden from jextract in a comment:
 * <pre>{@code #@ fields <struct> <member>...}</pre>
 * emits only the listed members of {@code struct} (names after flattening anonymous members); the others
 * become padding. Several lines for one struct add up.
 *
 * <p>{@code kvm.manifest} lists what every architecture must have identically; {@code kvm.<arch>.manifest}
 * the rest. {@link #forArch} merges the two.
 */
public record Manifest(
        SequencedSet<String> constants, SequencedSet<String> structs, Map<String, SequencedSet<String>> fields) {

    public static final String SHARED_FILE = "kvm.manifest";

    public Manifest {
        constants = Collections.unmodifiableSequencedSet(new LinkedHashSet<>(constants));
        structs = Collections.unmodifiableSequencedSet(new LinkedHashSet<>(structs));
        fields = Collections.unmodifiableMap(new LinkedHashMap<>(fields));
    }

    public static String archFile(Arch arch) {
        return "kvm." + arch.id() + ".manifest";
    }

    /** The shared manifest only: the declarations that must land in the common package. */
    public static Manifest shared(Path dir) {
        return parse(dir.resolve(SHARED_FILE));
    }

    /** Shared plus per-arch manifest: everything generated for {@code arch}. */
    public static Manifest forArch(Path dir, Arch arch) {
        return shared(dir).plus(parse(dir.resolve(archFile(arch))));
    }

    public static Manifest parse(Path file) {
        try {
            return parse(file.getFileName().toString(), Files.readAllLines(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Manifest parse(String fileName, List<String> lines) {
        SequencedSet<String> constants = new LinkedHashSet<>();
        SequencedSet<String> structs = new LinkedHashSet<>();
        Map<String, SequencedSet<String>> fields = new LinkedHashMap<>();
        int lineNo = 0;
        for (String raw : lines) {
            lineNo++;
            String line = raw.strip();
            String where = fileName + ":" + lineNo + ": ";
            if (line.startsWith("#@")) {
                List<String> words = words(line.substring(2));
                if (words.size() < 3 || !words.getFirst().equals("fields")) {
                    throw new IllegalArgumentException(where + "expected `#@ fields <struct> <member>...`: " + raw);
                }
                fields.computeIfAbsent(words.get(1), _ -> new LinkedHashSet<>()).addAll(words.subList(2, words.size()));
                continue;
            }
            int hash = line.indexOf('#');
            if (hash >= 0) {
                line = line.substring(0, hash).strip();
            }
            if (line.isEmpty()) {
                continue;
            }
            List<String> words = words(line);
            if (words.size() != 2) {
                throw new IllegalArgumentException(where + "expected `--include-<kind> NAME`: " + raw);
            }
            String name = words.get(1);
            switch (words.getFirst()) {
                case "--include-constant" -> add(constants, name, where);
                case "--include-struct" -> add(structs, name, where);
                default ->
                    throw new IllegalArgumentException(where + "unsupported option " + words.getFirst()
                            + " (the generator knows --include-constant and --include-struct)");
            }
        }
        for (String s : fields.keySet()) {
            if (!structs.contains(s)) {
                throw new IllegalArgumentException(fileName + ": `#@ fields " + s + "` for a struct not included");
            }
        }
        return new Manifest(constants, structs, fields);
    }

    private static void add(SequencedSet<String> set, String name, String where) {
        if (!set.add(name)) {
            throw new IllegalArgumentException(where + "listed twice: " + name);
        }
    }

    private static List<String> words(String s) {
        return Arrays.stream(s.strip().split("\\s+")).filter(w -> !w.isEmpty()).toList();
    }

    /** Union of two manifests; a name in both is an error (it would be ambiguous where it belongs). */
    public Manifest plus(Manifest other) {
        SequencedSet<String> c = new LinkedHashSet<>(constants);
        SequencedSet<String> s = new LinkedHashSet<>(structs);
        for (String n : other.constants) {
            if (!c.add(n)) {
                throw new IllegalArgumentException("constant " + n + " is in the shared and an arch manifest");
            }
        }
        for (String n : other.structs) {
            if (!s.add(n)) {
                throw new IllegalArgumentException("struct " + n + " is in the shared and an arch manifest");
            }
        }
        Map<String, SequencedSet<String>> f = new LinkedHashMap<>(fields);
        other.fields.forEach((k, v) -> f.merge(k, v, (a, b) -> {
            SequencedSet<String> m = new LinkedHashSet<>(a);
            m.addAll(b);
            return m;
        }));
        return new Manifest(c, s, f);
    }

    /** The members of {@code struct} to emit, or null for all of them. */
    public SequencedSet<String> fieldsOf(String struct) {
        return fields.get(struct);
    }
}
