package dev.jvmm.pcie;

import java.io.Serial;
import java.util.List;

/**
 * A PCIe topology that cannot be built. Each problem names the part at fault and the reason, e.g.
 * {@code root port 'rp3': root complex 'rc9' does not exist}; the message lists them one per line.
 */
public final class TopologyException extends Exception {
    @Serial
    private static final long serialVersionUID = 1L;

    private final String[] problems;

    public TopologyException(List<String> problems) {
        super(String.join("\n", problems));
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("a topology exception needs at least one problem");
        }
        this.problems = problems.toArray(String[]::new);
    }

    public List<String> problems() {
        return List.of(problems);
    }
}
