package dev.jvmm.headers.gen;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A struct or union class as it will be written (jextract's StructBuilder), resolved against one architecture's
 * compiler: every offset gap is an explicit {@link Padding}, anonymous members are {@link Group}s merged into the
 * class, and fields whose type is an unnamed struct carry their {@link Field#nested() nested class}.
 * Records all the way down, so two architectures' versions compare with {@code equals}.
 *
 * @param qualifiedName name as other generated code spells it, e.g. {@code kvm_run.io}
 * @param layoutName    {@code withName} of the layout: the C tag, or {@code $anon$<n>} for an unnamed type
 * @param cDecl         the C declaration shown in the class javadoc (only emitted members)
 * @param dependencies  tags of structs this one embeds by value, nested classes included
 */
public record JStruct(
        String javaName,
        String qualifiedName,
        String layoutName,
        boolean union,
        String cDecl,
        List<JElem> elems,
        Set<String> dependencies) {

    public JStruct {
        elems = List.copyOf(elems);
        dependencies = Set.copyOf(dependencies);
    }

    public String kindName() {
        return union ? "union" : "struct";
    }

    /** One element of a group layout. */
    public sealed interface JElem {}

    public record Padding(long bytes) implements JElem {}

    /**
     * A named C member. {@code alignTo} is non-zero when the member sits at an offset its type's natural
     * alignment does not allow (packed structs), and the layout needs {@code kvm_h.align(...)}.
     */
    public record Field(String cName, String javaName, JType type, String cDecl, JStruct nested, long alignTo)
            implements JElem {}

    /** An anonymous struct/union member, flattened into the enclosing class (C11 §6.7.2.1p13). */
    public record Group(boolean union, String name, List<JElem> elems) implements JElem {
        public Group {
            elems = List.copyOf(elems);
        }
    }

    /** A field with the anonymous groups (their layout names) on the path to it. */
    public record Access(Field field, List<String> groupPath) {}

    /** The fields that get accessors on this class, in declaration order, anonymous groups flattened. */
    public List<Access> accessors() {
        List<Access> out = new ArrayList<>();
        collect(elems, List.of(), out);
        return out;
    }

    private static void collect(List<JElem> elems, List<String> path, List<Access> out) {
        for (JElem e : elems) {
            switch (e) {
                case Field f -> out.add(new Access(f, path));
                case Group g -> {
                    List<String> p = new ArrayList<>(path);
                    p.add(g.name());
                    collect(g.elems(), List.copyOf(p), out);
                }
                case Padding _ -> {}
            }
        }
    }

    /** Java-side type of a field. */
    public sealed interface JType {}

    public record Value(ValueKind kind) implements JType {}

    public record StructRef(String qualifiedName) implements JType {}

    /** One array dimension; length 0 for a flexible array member. */
    public record Sequence(JType element, long length) implements JType {}

    /** The {@code C_*} layouts of {@code kvm_h$shared} and what Java sees of them. */
    public enum ValueKind {
        BOOL("C_BOOL", "OfBoolean", "boolean"),
        CHAR("C_CHAR", "OfByte", "byte"),
        SHORT("C_SHORT", "OfShort", "short"),
        INT("C_INT", "OfInt", "int"),
        LONG("C_LONG", "OfLong", "long"),
        LONG_LONG("C_LONG_LONG", "OfLong", "long"),
        FLOAT("C_FLOAT", "OfFloat", "float"),
        DOUBLE("C_DOUBLE", "OfDouble", "double"),
        POINTER("C_POINTER", "AddressLayout", "MemorySegment");

        private final String layoutField;
        private final String layoutClass;
        private final String carrier;

        ValueKind(String layoutField, String layoutClass, String carrier) {
            this.layoutField = layoutField;
            this.layoutClass = layoutClass;
            this.carrier = carrier;
        }

        public String layoutField() {
            return layoutField;
        }

        public String layoutClass() {
            return layoutClass;
        }

        public String carrier() {
            return carrier;
        }
    }
}
