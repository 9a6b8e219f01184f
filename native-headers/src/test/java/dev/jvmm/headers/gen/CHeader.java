package dev.jvmm.headers.gen;

import dev.jvmm.headers.gen.CType.CAggregate;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the generator knows about one preprocessed translation unit ({@code gcc -E -dD} of
 * {@code #include <linux/kvm.h>}): object-like macros and enum constants with their place in the parse, and
 * struct/union definitions. Values, sizes and offsets are not here; they come from the compiler
 * ({@link CProbe}).
 */
public record CHeader(
        Map<String, Macro> macros,
        Map<String, EnumConstant> enumConstants,
        Map<String, CAggregate> aggregates,
        Map<String, CType> typedefs,
        List<String> skipped) {

    /** {@code position} orders declarations as the parser met them (line of the .i file, then column). */
    public record Macro(String name, boolean functionLike, String body, String file, long position) {}

    /** {@code enumTag} is empty for an anonymous enum. */
    public record EnumConstant(String enumTag, String name, long position) {}

    public static CHeader parse(String preprocessed) {
        return new CHeaderParser(preprocessed).parse();
    }

    public Optional<CAggregate> aggregate(String tag) {
        return Optional.ofNullable(aggregates.get(tag));
    }

    /** The struct {@code tag}, or a failure that names what the parser had to skip. */
    public CAggregate requireAggregate(String tag) {
        return aggregate(tag)
                .orElseThrow(() -> new IllegalArgumentException("struct/union " + tag
                        + " is not defined by the header"
                        + (skipped.isEmpty()
                                ? ""
                                : " (declarations the parser skipped: " + String.join("; ", skipped) + ")")));
    }
}
