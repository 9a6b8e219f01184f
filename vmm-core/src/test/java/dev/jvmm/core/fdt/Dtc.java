package dev.jvmm.core.fdt;

import static org.junit.jupiter.api.Assertions.fail;

import dev.jvmm.core.testing.ExternalTool;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The Device Tree Compiler (package device-tree-compiler) as a test oracle. A missing dtc fails the test,
 * naming the package, unless -Djvmm.test.allowMissingTools=true (then the test is skipped visibly).
 */
public final class Dtc {
    /**
     * Checks dtc 1.6 leaves off by default, switched on so that the tests see every complaint dtc can make.
     * (The *_strict name checks are left off: they reject standard names such as "linux,initrd-start".)
     */
    static final List<String> EXTRA_CHECKS = List.of(
            "unique_unit_address_if_enabled",
            "avoid_default_addr_size",
            "avoid_unnecessary_addr_size",
            "alias_paths",
            "unit_address_format",
            "unit_address_vs_reg",
            "interrupt_provider",
            "reg_format",
            "ranges_format",
            "dma_ranges_format",
            "chosen_node_bootargs",
            "chosen_node_stdout_path",
            "chosen_node_is_root",
            "node_name_vs_property_name",
            "interrupts_property",
            "clocks_property",
            "msi_parent_property",
            "pci_bridge",
            "simple_bus_reg",
            "graph_nodes");

    public record Result(String stdout, String stderr) {}

    private Dtc() {}

    public static Path binary() {
        return ExternalTool.find("dtc", "device-tree-compiler");
    }

    /** dtc -I dtb -O dts with all warnings on. */
    public static Result decompile(byte[] dtb) throws IOException, InterruptedException {
        Path in = Files.createTempFile("jvmm-", ".dtb");
        try {
            Files.write(in, dtb);
            return run(in, "dtb", "dts");
        } finally {
            Files.deleteIfExists(in);
        }
    }

    /** dtc -I dts -O dtb. */
    public static byte[] compile(String dts) throws IOException, InterruptedException {
        Path in = Files.createTempFile("jvmm-", ".dts");
        Path out = Files.createTempFile("jvmm-", ".dtb");
        try {
            Files.writeString(in, dts);
            List<String> cmd = new ArrayList<>(
                    List.of(binary().toString(), "-q", "-I", "dts", "-O", "dtb", "-o", out.toString(), in.toString()));
            ExternalTool.Output r = ExternalTool.run(new ProcessBuilder(cmd).redirectErrorStream(true));
            if (r.exitValue() != 0) fail("dtc -I dts failed: " + r.stdout());
            return Files.readAllBytes(out);
        } finally {
            Files.deleteIfExists(in);
            Files.deleteIfExists(out);
        }
    }

    private static Result run(Path in, String from, String to) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(binary().toString(), "-I", from, "-O", to));
        for (String c : EXTRA_CHECKS) cmd.addAll(List.of("-W", c));
        cmd.add(in.toString());
        Path err = Files.createTempFile("jvmm-dtc-", ".err");
        try {
            ExternalTool.Output r = ExternalTool.run(new ProcessBuilder(cmd).redirectError(err.toFile()));
            String stderr = Files.readString(err);
            if (r.exitValue() != 0) fail("dtc -I %s exited %d: %s".formatted(from, r.exitValue(), stderr));
            return new Result(r.stdout(), stderr);
        } finally {
            Files.deleteIfExists(err);
        }
    }
}
