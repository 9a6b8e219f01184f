package dev.jvmm.core.machine;

import java.util.ArrayList;
import java.util.List;

/** Wall time of each step of building a machine, measured from the previous mark. */
final class SetupPhases {
    private final List<String> marks = new ArrayList<>();
    private long last = System.nanoTime();

    void mark(String phase) {
        long now = System.nanoTime();
        marks.add(phase + "=" + (now - last) / 1_000_000 + "ms");
        last = now;
    }

    @Override
    public String toString() {
        return String.join(" ", marks);
    }
}
