package dev.jvmm.headers.gen;

import dev.jvmm.headers.gen.CType.Array;
import dev.jvmm.headers.gen.CType.CAggregate;
import dev.jvmm.headers.gen.CType.CMember;
import dev.jvmm.headers.gen.CType.Inline;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Asks the compiler for every number the bindings contain, kernel asm-offsets style: each value becomes an
 * {@code "i"} operand of an inline-asm string, {@code gcc -S} prints it into the assembly text, and we read
 * it back. Nothing is linked or run, so a cross compiler answers for its target. A manifest name the header
 * does not define, or a member that does not exist, makes the compile fail, which fails generation.
 */
public final class CProbe {

    private static final Pattern LINE = Pattern.compile("@@@ (\\S+ \\S+ \\S+) [$#]?(-?\\d+)");

    private CProbe() {}

    public static ProbeResult run(CCompiler cc, CHeader header, Manifest manifest) {
        String asm = cc.compileToAssembly(source(header, manifest));
        Map<String, Long> values = new HashMap<>();
        Matcher m = LINE.matcher(asm);
        while (m.find()) {
            values.put(m.group(1), Long.parseLong(m.group(2)));
        }
        return new ProbeResult(cc.arch(), values);
    }

    /** The probe translation unit. */
    public static String source(CHeader header, Manifest manifest) {
        StringBuilder c = new StringBuilder();
        c.append("""
                /* jvmm native-headers probe: compiled with -S only, never run. */
                #include <linux/kvm.h>
                #include <linux/version.h>
                #define JVMM_CTYPE(x) _Generic((x), %s)
                #define JVMM_EMIT(key, v) __asm__ volatile (".ascii \\"@@@ " key " %%0\\"" : : "i" ((long long) (v)))
                void jvmm_probe(void);
                void jvmm_probe(void) {
                JVMM_EMIT("U LINUX_VERSION_CODE -", LINUX_VERSION_CODE);
                """.formatted(CIntType.genericAssociations()));
        for (String name : manifest.constants()) {
            c.append("JVMM_EMIT(\"V ")
                    .append(name)
                    .append(" -\", ")
                    .append(name)
                    .append(");\n");
            c.append("JVMM_EMIT(\"T ")
                    .append(name)
                    .append(" -\", JVMM_CTYPE(")
                    .append(name)
                    .append("));\n");
        }
        for (String tag : manifest.structs()) {
            CAggregate agg = header.requireAggregate(tag);
            String type = agg.keyword() + " " + tag;
            c.append("JVMM_EMIT(\"S ")
                    .append(tag)
                    .append(" -\", sizeof(")
                    .append(type)
                    .append("));\n");
            c.append("JVMM_EMIT(\"A ")
                    .append(tag)
                    .append(" -\", _Alignof(")
                    .append(type)
                    .append("));\n");
            members(c, tag, type, agg, "");
        }
        return c.append("}\n").toString();
    }

    private static void members(StringBuilder c, String tag, String type, CAggregate agg, String prefix) {
        for (CMember m : agg.members()) {
            if (m.bitfield()) {
                continue; // no offsetof/sizeof for bitfields; jextract turns them into padding too
            }
            if (m.anonymous()) {
                members(c, tag, type, ((Inline) m.type()).aggregate(), prefix); // members reachable directly
                continue;
            }
            String path = prefix + m.name();
            String lvalue = "((" + type + " *) 0)->" + path;
            CType t = m.type().resolved();
            emit(c, "O", tag, path, "__builtin_offsetof(" + type + ", " + path + ")");
            emit(c, "A", tag, path, "__alignof__(" + lvalue + ")");
            if (!(t instanceof Array a && a.flexible())) {
                emit(c, "Z", tag, path, "sizeof(" + lvalue + ")");
            }
            String index = "";
            int k = 0;
            while (t instanceof Array a) {
                if (!a.flexible()) {
                    emit(
                            c,
                            "D",
                            tag,
                            path + "#" + k,
                            "sizeof(" + lvalue + index + ") / sizeof(" + lvalue + index + "[0])");
                }
                index += "[0]";
                k++;
                t = a.element().resolved();
            }
            if (t instanceof Inline(CAggregate nested)) {
                members(c, tag, type, nested, path + index + ".");
            }
        }
    }

    private static void emit(StringBuilder c, String kind, String tag, String path, String expr) {
        c.append("JVMM_EMIT(\"")
                .append(kind)
                .append(' ')
                .append(tag)
                .append(' ')
                .append(path)
                .append("\", ")
                .append(expr)
                .append(");\n");
    }
}
