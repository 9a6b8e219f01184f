package dev.jvmm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The one list of exit statuses is what --help and the README say. */
class ExitStatusTest {
    @Test
    void theReadmeTableIsTheEnum() throws Exception {
        String readme = Files.readString(EmulatedAarch64Host.repo().resolve("README.md"));
        List<String> rows =
                readme.lines().filter(l -> l.matches("\\| \\d \\| .*")).toList();
        assertEquals(ExitStatus.values().length, rows.size(), "README exit status rows: " + rows);
        for (ExitStatus s : ExitStatus.values()) {
            assertEquals("| " + s.code() + " | " + s.meaning() + " |", rows.get(s.ordinal()));
        }
    }

    @Test
    void helpListsEveryStatusForJvmmAndForRun() {
        for (String[] args : new String[][] {{"--help"}, {"run", "--help"}}) {
            CliRunner r = CliRunner.run(args);
            assertEquals(0, r.status(), r.err());
            String help = r.out().replaceAll("\\s+", " ");
            assertTrue(help.contains("Exit status:"), help);
            for (ExitStatus s : ExitStatus.values()) {
                assertTrue(
                        help.contains(s.code() + " " + s.meaning().replaceAll("\\s+", " ")),
                        String.join(" ", args) + " lists " + s + ": " + help);
            }
        }
    }

    @Test
    void statusesAreDistinctAndDense() {
        for (ExitStatus s : ExitStatus.values()) assertEquals(s.ordinal(), s.code());
    }
}
