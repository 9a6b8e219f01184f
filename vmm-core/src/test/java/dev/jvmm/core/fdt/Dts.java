package dev.jvmm.core.fdt;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The source dtc prints for a blob (dtc -O dts), read back into path -> property -> value text, so tests can
 * assert on single properties. Values are kept as dtc prints them ({@code <0x01 0x02>}, {@code "a\0b"},
 * {@code [01 02]}); an empty property has the value "".
 */
public final class Dts {
    private final Map<String, Map<String, String>> nodes = new LinkedHashMap<>();

    private Dts() {}

    public static Dts parse(String text) {
        Dts dts = new Dts();
        Deque<String> path = new ArrayDeque<>();
        for (String raw : text.split("\n")) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("/dts-v1/") || line.startsWith("/memreserve/")) continue;
            if (line.endsWith("{")) {
                String name = line.substring(0, line.length() - 1).strip();
                String p = name.equals("/") ? "/" : (path.peek().equals("/") ? "/" + name : path.peek() + "/" + name);
                path.push(p);
                dts.nodes.put(p, new LinkedHashMap<>());
            } else if (line.equals("};")) {
                path.pop();
            } else if (line.endsWith(";")) {
                String body = line.substring(0, line.length() - 1);
                int eq = body.indexOf(" = ");
                String name = eq < 0 ? body : body.substring(0, eq);
                String value = eq < 0 ? "" : body.substring(eq + 3);
                dts.nodes.get(path.peek()).put(name, value);
            } else {
                throw new IllegalArgumentException("unexpected dts line: " + raw);
            }
        }
        return dts;
    }

    public boolean has(String path) {
        return nodes.containsKey(path);
    }

    public Map<String, String> node(String path) {
        Map<String, String> n = nodes.get(path);
        if (n == null) throw new AssertionError("no node " + path + "; nodes: " + nodes.keySet());
        return n;
    }

    /** The value text of one property; fails if the node or property is missing. */
    public String get(String path, String property) {
        String v = node(path).get(property);
        if (v == null) throw new AssertionError("node " + path + " has no property " + property + ": " + node(path));
        return v;
    }

    public Map<String, Map<String, String>> nodes() {
        return nodes;
    }

    /** Cells of a {@code <...>} value as numbers. */
    public static long[] cells(String value) {
        if (!value.startsWith("<") || !value.endsWith(">")) throw new AssertionError("not a cell list: " + value);
        String inner = value.substring(1, value.length() - 1).strip();
        if (inner.isEmpty()) return new long[0];
        String[] parts = inner.split("\\s+");
        long[] out = new long[parts.length];
        for (int i = 0; i < parts.length; i++) out[i] = Long.decode(parts[i]);
        return out;
    }
}
