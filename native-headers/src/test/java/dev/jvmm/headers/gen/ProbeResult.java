package dev.jvmm.headers.gen;

import java.util.Map;
import java.util.Optional;

/**
 * The compiler's answers for one architecture, keyed {@code "<kind> <name> <path>"}:
 * <ul>
 *   <li>{@code V NAME -}, {@code T NAME -}: value (as {@code long long}) and {@link CIntType} code of a constant;</li>
 *   <li>{@code S tag -}, {@code A tag -}: sizeof and alignof a struct/union;</li>
 *   <li>{@code O tag path}, {@code Z tag path}, {@code A tag path}: offsetof, sizeof and alignof a member, where
 *       path is a C member designator such as {@code io.port} or {@code entries[0].u};</li>
 *   <li>{@code D tag path#k}: length of the member's k-th array dimension (absent for a flexible array).</li>
 * </ul>
 */
public record ProbeResult(Arch arch, Map<String, Long> values) {

    public ProbeResult {
        values = Map.copyOf(values);
    }

    private long get(String key) {
        Long v = values.get(key);
        if (v == null) {
            throw new IllegalArgumentException(arch.id() + ": the probe did not measure " + key);
        }
        return v;
    }

    public long constant(String name) {
        return get("V " + name + " -");
    }

    public CIntType constantType(String name) {
        return CIntType.ofCode(get("T " + name + " -"));
    }

    public long sizeof(String tag) {
        return get("S " + tag + " -");
    }

    public long alignof(String tag) {
        return get("A " + tag + " -");
    }

    public long offsetof(String tag, String path) {
        return get("O " + tag + " " + path);
    }

    public long sizeof(String tag, String path) {
        return get("Z " + tag + " " + path);
    }

    public long alignof(String tag, String path) {
        return get("A " + tag + " " + path);
    }

    /** Length of dimension {@code k} of the array member at {@code path}; empty for a flexible array. */
    public Optional<Long> dimension(String tag, String path, int k) {
        return Optional.ofNullable(values.get("D " + tag + " " + path + "#" + k));
    }

    /** {@code LINUX_VERSION_CODE} of the headers, printed as "6.1.4". */
    public String uapiVersion() {
        long v = get("U LINUX_VERSION_CODE -");
        return (v >> 16) + "." + ((v >> 8) & 0xff) + "." + (v & 0xff);
    }
}
