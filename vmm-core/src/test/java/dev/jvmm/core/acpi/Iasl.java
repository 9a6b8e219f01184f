package dev.jvmm.core.acpi;

import static org.junit.jupiter.api.Assertions.fail;

import dev.jvmm.core.testing.ExternalTool;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The ACPICA disassembler (package acpica-tools) as a test oracle: {@code iasl -d table.dat} writes table.dsl, which
 * lists every field as {@code [off dec len]  Name : Value}. A missing iasl fails the test, naming the package, unless
 * -Djvmm.test.allowMissingTools=true (then the test is skipped visibly).
 */
final class Iasl {
    private static final Pattern FIELD = Pattern.compile("^\\[([0-9A-F]{3,})h \\d+ +\\d+\\] +(.+?) : (.*)$");

    /** The disassembly: every field line as (offset, name, value), in order, and the whole text. */
    record Disassembly(String text, List<Field> fields) {
        /** The values of every field called {@code name}, in table order. */
        List<String> values(String name) {
            return fields.stream()
                    .filter(f -> f.name().equals(name))
                    .map(Field::value)
                    .toList();
        }

        String value(String name) {
            List<String> v = values(name);
            if (v.size() != 1) throw new AssertionError("field '" + name + "' occurs " + v.size() + " times:\n" + text);
            return v.getFirst();
        }
    }

    record Field(int offset, String name, String value) {}

    private Iasl() {}

    static Path binary() {
        return ExternalTool.find("iasl", "acpica-tools");
    }

    static Disassembly disassemble(byte[] table) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("jvmm-iasl-");
        try {
            Files.write(dir.resolve("table.dat"), table);
            ExternalTool.Output r = ExternalTool.run(new ProcessBuilder(binary().toString(), "-d", "table.dat")
                    .directory(dir.toFile())
                    .redirectErrorStream(true));
            if (r.exitValue() != 0) fail("iasl -d exited " + r.exitValue() + ":\n" + r.stdout());
            String text = Files.readString(dir.resolve("table.dsl"));
            List<Field> fields = text.lines()
                    .map(String::strip)
                    .map(FIELD::matcher)
                    .filter(Matcher::matches)
                    .map(m -> new Field(
                            Integer.parseInt(m.group(1), 16),
                            m.group(2).strip(),
                            m.group(3).strip()))
                    .toList();
            return new Disassembly(text, fields);
        } finally {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path f : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(f);
            }
        }
    }
}
