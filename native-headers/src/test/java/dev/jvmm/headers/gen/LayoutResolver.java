package dev.jvmm.headers.gen;

import dev.jvmm.headers.gen.CType.Array;
import dev.jvmm.headers.gen.CType.CAggregate;
import dev.jvmm.headers.gen.CType.CMember;
import dev.jvmm.headers.gen.CType.EnumRef;
import dev.jvmm.headers.gen.CType.Inline;
import dev.jvmm.headers.gen.CType.Pointer;
import dev.jvmm.headers.gen.CType.Prim;
import dev.jvmm.headers.gen.CType.Tagged;
import dev.jvmm.headers.gen.CType.Typedef;
import dev.jvmm.headers.gen.JStruct.Field;
import dev.jvmm.headers.gen.JStruct.Group;
import dev.jvmm.headers.gen.JStruct.JElem;
import dev.jvmm.headers.gen.JStruct.JType;
import dev.jvmm.headers.gen.JStruct.Padding;
import dev.jvmm.headers.gen.JStruct.Sequence;
import dev.jvmm.headers.gen.JStruct.StructRef;
import dev.jvmm.headers.gen.JStruct.Value;
import dev.jvmm.headers.gen.JStruct.ValueKind;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import javax.lang.model.SourceVersion;

/**
 * Turns a parsed C struct plus the compiler's measurements into a {@link JStruct}. Every offset and size comes
 * from {@link ProbeResult}; the only computed sizes are those of anonymous members, which C cannot name in
 * {@code sizeof} (derived from their members' measured offsets, sizes and alignments by the C layout rules).
 * Selected-members mode ({@code #@ fields}) turns the members left out into padding.
 */
final class LayoutResolver {

    private final CHeader header;
    private final ProbeResult probe;
    private final Manifest manifest;

    LayoutResolver(CHeader header, ProbeResult probe, Manifest manifest) {
        this.header = header;
        this.probe = probe;
        this.manifest = manifest;
    }

    /** Per top-level struct: nested-class names, the anon-layout counter, and the by-value dependencies. */
    private static final class Context {
        final String tag;
        final Set<String> dependencies = new LinkedHashSet<>();
        int anonCounter;

        Context(String tag) {
            this.tag = tag;
        }

        String nextAnonName() {
            return "$anon$" + anonCounter++;
        }
    }

    /** jextract's NameMangler.Scope: nested class names are unique case-insensitively and never shadow an enclosing class. */
    private record Scope(String className, Scope parent, Set<String> nestedLower, int[] counter) {
        Scope(String className, Scope parent) {
            this(className, parent, new HashSet<>(), new int[1]);
        }

        boolean enclosedBy(String name) {
            return className.equals(name) || (parent != null && parent.enclosedBy(name));
        }

        String uniqueNestedClassName(String name) {
            String safe = javaSafeIdentifier(name);
            boolean notSeen = nestedLower.add(safe.toLowerCase(Locale.ROOT));
            return notSeen && !enclosedBy(safe) ? safe : safe + "$" + counter[0]++;
        }
    }

    /** Where the members being laid out live: their C path prefix and the class they belong to. */
    private record Frame(
            String prefix,
            long classStart,
            long classAlign,
            Scope scope,
            String qualified,
            Set<String> selection,
            Set<String> seen) {}

    JStruct resolve(String tag) {
        CAggregate agg = header.requireAggregate(tag);
        Context ctx = new Context(tag);
        String javaName = javaSafeIdentifier(tag);
        Set<String> selection = manifest.fieldsOf(tag);
        Set<String> seen = new HashSet<>();
        Frame frame = new Frame("", 0, probe.alignof(tag), new Scope(javaName, null), javaName, selection, seen);
        List<JElem> elems = group(ctx, agg, frame, 0, probe.sizeof(tag));
        if (selection != null) {
            Set<String> missing = new LinkedHashSet<>(selection);
            missing.removeAll(seen);
            if (!missing.isEmpty()) {
                throw new IllegalArgumentException(probe.arch().id() + ": `#@ fields " + tag + "` names members "
                        + missing + " that " + agg.keyword() + " " + tag + " does not have");
            }
        }
        String decl = agg.keyword() + " " + tag + " " + body(tag, agg, "", selection);
        return new JStruct(javaName, javaName, tag, agg.union(), decl, elems, ctx.dependencies);
    }

    // ---- layout ---------------------------------------------------------------------------------------------

    /**
     * The elements of one struct/union level starting at absolute offset {@code start}, padded so that every
     * member lands on the compiler's offset and the level spans {@code size} bytes. Like jextract's
     * StructBuilder, a union shorter than its C size gets a padding member of the full size.
     */
    private List<JElem> group(Context ctx, CAggregate agg, Frame frame, long start, long size) {
        List<JElem> out = new ArrayList<>();
        long cursor = start;
        long unionSize = 0;
        for (CMember m : agg.members()) {
            if (m.bitfield()) {
                continue; // unsupported, like jextract: the bits end up in padding
            }
            long offset;
            long memberSize;
            JElem elem;
            if (m.anonymous()) {
                CAggregate inner = ((Inline) m.type()).aggregate();
                if (frame.selection() != null && !inner.namesAny(frame.selection())) {
                    continue;
                }
                offset = anonOffset(ctx.tag, inner, frame.prefix());
                memberSize = extent(ctx.tag, inner, frame.prefix()).size();
                String name = ctx.nextAnonName();
                elem = new Group(inner.union(), name, group(ctx, inner, frame, offset, memberSize));
            } else {
                if (frame.selection() != null && !frame.selection().contains(m.name())) {
                    continue;
                }
                frame.seen().add(m.name());
                String path = frame.prefix() + m.name();
                offset = probe.offsetof(ctx.tag, path);
                memberSize = isFlexible(m.type()) ? 0 : probe.sizeof(ctx.tag, path);
                elem = field(ctx, m, path, offset, frame);
            }
            if (agg.union()) {
                if (offset != start) {
                    throw new IllegalStateException(ctx.tag + ": union member at " + offset + ", union at " + start);
                }
                unionSize = Math.max(unionSize, memberSize);
            } else {
                if (offset < cursor) {
                    throw new IllegalStateException(ctx.tag + ": member " + m.name() + " at " + offset
                            + " overlaps the previous one (ends at " + cursor + ")");
                }
                if (offset > cursor) {
                    out.add(new Padding(offset - cursor));
                }
                cursor = offset + memberSize;
            }
            out.add(elem);
        }
        if (agg.union()) {
            if (unionSize != size) {
                out.add(new Padding(size));
            }
        } else if (cursor < start + size) {
            out.add(new Padding(start + size - cursor));
        }
        return out;
    }

    private Field field(Context ctx, CMember m, String path, long offset, Frame frame) {
        String javaName = javaSafeIdentifier(m.name());
        CType t = m.type().resolved();
        List<Long> dims = new ArrayList<>();
        String index = "";
        while (t instanceof Array a) {
            dims.add(
                    a.flexible()
                            ? 0L
                            : probe.dimension(ctx.tag, path, dims.size()).orElseThrow());
            index += "[0]";
            t = a.element().resolved();
        }
        JStruct nested = null;
        JType elem;
        switch (t) {
            case Prim p -> elem = new Value(valueKind(p, ctx.tag, path));
            case Pointer _ -> elem = new Value(ValueKind.POINTER);
            case EnumRef _ -> elem = new Value(ValueKind.INT); // jextract lays enums out as their integer type
            case Tagged tagged -> {
                if (!manifest.structs().contains(tagged.tag())) {
                    // jextract's MissingDepChecker says the same
                    throw new IllegalArgumentException(ctx.tag + " depends on " + tagged.tag()
                            + " which has been excluded (add --include-struct " + tagged.tag() + ")");
                }
                ctx.dependencies.add(tagged.tag());
                elem = new StructRef(javaSafeIdentifier(tagged.tag()));
            }
            case Inline(CAggregate inner) -> {
                String className = frame.scope().uniqueNestedClassName(m.name());
                String qualified = frame.qualified() + "." + className;
                String nestedPath = path + index + ".";
                long start = probe.offsetof(ctx.tag, path);
                Extent e = dims.isEmpty()
                        ? new Extent(probe.sizeof(ctx.tag, path), probe.alignof(ctx.tag, path))
                        : extent(ctx.tag, inner, nestedPath);
                Frame nestedFrame = new Frame(
                        nestedPath,
                        start,
                        e.align(),
                        new Scope(className, frame.scope()),
                        qualified,
                        null,
                        new HashSet<>());
                String layoutName = ctx.nextAnonName();
                List<JElem> elems = group(ctx, inner, nestedFrame, start, e.size());
                nested = new JStruct(
                        className,
                        qualified,
                        layoutName,
                        inner.union(),
                        inner.keyword() + " " + body(ctx.tag, inner, nestedPath, null),
                        elems,
                        Set.of());
                elem = new StructRef(qualified);
            }
            default -> throw new IllegalArgumentException(ctx.tag + "." + path + ": unsupported type " + t);
        }
        JType type = elem;
        for (int i = dims.size() - 1; i >= 0; i--) {
            type = new Sequence(type, dims.get(i));
        }
        // jextract StructBuilder: expected alignment = min(lowest set bit of the offset, type alignment,
        // enclosing alignment); a mismatch means a packed member, which needs kvm_h.align(...).
        long typeAlign = probe.alignof(ctx.tag, path);
        long rel = offset - frame.classStart();
        long expected = rel != 0 ? Math.min(Long.lowestOneBit(rel), typeAlign) : typeAlign;
        expected = Math.min(expected, frame.classAlign());
        return new Field(
                m.name(),
                javaName,
                type,
                decl(ctx.tag, m, frame.prefix()),
                nested,
                expected != typeAlign ? expected : 0);
    }

    private static boolean isFlexible(CType t) {
        return t.resolved() instanceof Array a && a.flexible();
    }

    private static ValueKind valueKind(Prim p, String tag, String path) {
        return switch (p.kind()) {
            case BOOL -> ValueKind.BOOL;
            case CHAR -> ValueKind.CHAR;
            case SHORT -> ValueKind.SHORT;
            case INT -> ValueKind.INT;
            case LONG -> ValueKind.LONG;
            case LONG_LONG -> ValueKind.LONG_LONG;
            case FLOAT -> ValueKind.FLOAT;
            case DOUBLE -> ValueKind.DOUBLE;
            case INT128, VOID ->
                throw new IllegalArgumentException(tag + "." + path + ": unsupported type " + p.spelling()
                        + " (jextract has no Java layout for it either)");
        };
    }

    private record Extent(long size, long align) {}

    /** Offset of an anonymous member: that of its first member (C11 §6.7.2.1p15: no padding at the start). */
    private long anonOffset(String tag, CAggregate agg, String prefix) {
        for (CMember m : agg.members()) {
            if (m.bitfield()) {
                throw new IllegalArgumentException(tag + ": bitfields inside an anonymous member are unsupported");
            }
            return m.anonymous()
                    ? anonOffset(tag, ((Inline) m.type()).aggregate(), prefix)
                    : probe.offsetof(tag, prefix + m.name());
        }
        throw new IllegalArgumentException(tag + ": empty anonymous member");
    }

    /** Size and alignment of an unnamed aggregate, from its members' measurements (C11 §6.7.2.1p15-18). */
    private Extent extent(String tag, CAggregate agg, String prefix) {
        long start = anonOffset(tag, agg, prefix);
        long end = start;
        long align = 1;
        for (CMember m : agg.members()) {
            if (m.bitfield()) {
                throw new IllegalArgumentException(tag + ": bitfields inside an unnamed member are unsupported");
            }
            long off;
            long size;
            long a;
            if (m.anonymous()) {
                CAggregate inner = ((Inline) m.type()).aggregate();
                off = anonOffset(tag, inner, prefix);
                Extent e = extent(tag, inner, prefix);
                size = e.size();
                a = e.align();
            } else {
                String path = prefix + m.name();
                off = probe.offsetof(tag, path);
                size = isFlexible(m.type()) ? 0 : probe.sizeof(tag, path);
                a = probe.alignof(tag, path);
            }
            end = Math.max(end, off + size);
            align = Math.max(align, a);
        }
        long size = end - start;
        return new Extent((size + align - 1) / align * align, align);
    }

    // ---- the C declarations shown in javadoc -----------------------------------------------------------------

    /** {@code "{\n    __u32 slot;\n ...}"}, listing only members that are emitted. */
    private String body(String tag, CAggregate agg, String prefix, Set<String> selection) {
        StringBuilder sb = new StringBuilder("{\n");
        for (CMember m : agg.members()) {
            if (m.bitfield()) {
                continue;
            }
            if (selection != null
                    && (m.anonymous()
                            ? !((Inline) m.type()).aggregate().namesAny(selection)
                            : !selection.contains(m.name()))) {
                continue;
            }
            String d = m.anonymous()
                    ? ((Inline) m.type()).aggregate().keyword() + " "
                            + body(tag, ((Inline) m.type()).aggregate(), prefix, selection)
                    : decl(tag, m, prefix);
            (d + ";").lines().forEach(l -> sb.append("    ").append(l).append('\n'));
        }
        return sb.append('}').toString();
    }

    /** A member declaration as clang prints it, array lengths evaluated: {@code __u8 pad[16]}. */
    private String decl(String tag, CMember m, String prefix) {
        String path = prefix + m.name();
        CType t = m.type();
        StringBuilder dims = new StringBuilder();
        String index = "";
        int k = 0;
        while (t.resolved() instanceof Array a) {
            dims.append('[');
            if (!a.flexible()) {
                dims.append(probe.dimension(tag, path, k).orElseThrow());
            }
            dims.append(']');
            index += "[0]";
            k++;
            t = a.element();
        }
        StringBuilder stars = new StringBuilder();
        while (t.resolved() instanceof Pointer p) {
            stars.append('*');
            t = p.pointee();
        }
        String type = switch (t) {
            case Prim p -> p.spelling();
            case Typedef td -> td.name();
            case Tagged tg -> (tg.union() ? "union " : "struct ") + tg.tag();
            case EnumRef e -> "enum " + e.tag();
            case Inline(CAggregate inner) -> inner.keyword() + " " + body(tag, inner, path + index + ".", null);
            default -> throw new IllegalArgumentException("cannot print " + t);
        };
        return type + " " + stars + m.name() + dims;
    }

    // ---- names ------------------------------------------------------------------------------------------------

    /** jextract's NameMangler.javaSafeIdentifier: keywords, restricted identifiers and clashing JDK names get a '_'. */
    static String javaSafeIdentifier(String name) {
        boolean restricted = switch (name) {
            case "var", "yield", "record", "sealed", "permits" -> true;
            default -> false;
        };
        boolean jdkType = !name.isEmpty()
                && Character.isUpperCase(name.charAt(0))
                && (Set.of("ByteOrder", "MethodHandle", "VarHandle").contains(name)
                        || classExists("java.lang." + name)
                        || classExists("java.lang.foreign." + name));
        return SourceVersion.isKeyword(name) || restricted || jdkType ? name + "_" : name;
    }

    private static boolean classExists(String fqcn) {
        try {
            Class.forName(fqcn, false, LayoutResolver.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }
}
