package dev.jvmm.headers.gen;

import dev.jvmm.headers.gen.JStruct.Access;
import dev.jvmm.headers.gen.JStruct.Field;
import dev.jvmm.headers.gen.JStruct.Group;
import dev.jvmm.headers.gen.JStruct.JElem;
import dev.jvmm.headers.gen.JStruct.JType;
import dev.jvmm.headers.gen.JStruct.Padding;
import dev.jvmm.headers.gen.JStruct.Sequence;
import dev.jvmm.headers.gen.JStruct.StructRef;
import dev.jvmm.headers.gen.JStruct.Value;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Writes one struct/union class in the shape of jextract's StructBuilder at openjdk/jextract@f9866df
 * : {@code $LAYOUT} with explicit padding, per field {@code f$LAYOUT}/{@code f$layout()},
 * {@code f$OFFSET} taken from the layout with {@code byteOffset} paths, getter/setter, arrays with
 * {@code f$DIMS} and indexed accessors whose base is {@code f$OFFSET} (the 2025-11 fix), nested classes for
 * fields of unnamed struct type, then {@code asSlice}, {@code sizeof}, {@code allocate},
 * {@code allocateArray} and two {@code reinterpret}.
 */
final class StructWriter {

    /** The runtime-helper class layouts are referenced through, as jextract does with the main header class. */
    static final String HELPER = "kvm_h";

    private StructWriter() {}

    static String file(JStruct s, String javaPackage, String headerComment) {
        SourceText out = SourceText.newFile(headerComment, javaPackage);
        writeClass(out, s, "public", List.of());
        return out.toString();
    }

    private static void writeClass(SourceText out, JStruct s, String modifiers, List<String> enclosing) {
        List<String> names = new ArrayList<>(enclosing);
        names.add(s.javaName());
        out.blank();
        out.docComment("", s.cDecl());
        out.lines(modifiers + " class " + s.javaName() + " {");
        out.indentedLines("""

                %1$s() {
                    // Should not be called directly
                }
                """.formatted(s.javaName()));
        out.indentedLines("""

                private static final GroupLayout $LAYOUT = %1$s;

                /**
                 * The layout of this %2$s
                 */
                public static final GroupLayout layout() {
                    return $LAYOUT;
                }
                """.formatted(groupLayout(s.union(), s.elems(), s.layoutName(), 0), s.kindName()));
        for (Access a : s.accessors()) {
            if (a.field().nested() != null) {
                out.incrAlign();
                writeClass(out, a.field().nested(), "public static", names);
                out.decrAlign();
            }
            field(out, s, a, names);
        }
        trailer(out, s, names);
        out.lines("}");
    }

    // ---- layouts ----------------------------------------------------------------------------------------------

    private static String indent(int n) {
        return "    ".repeat(n);
    }

    private static String groupLayout(boolean union, List<JElem> elems, String name, int indent) {
        List<String> members = new ArrayList<>();
        for (JElem e : elems) {
            members.add(
                    switch (e) {
                        case Padding p -> indent(indent + 1) + "MemoryLayout.paddingLayout(" + p.bytes() + ")";
                        case Field f ->
                            indent(indent + 1) + fieldLayout(f.type(), f.alignTo()) + ".withName(\"" + f.cName()
                                    + "\")";
                        case Group g -> groupLayout(g.union(), g.elems(), g.name(), indent + 1);
                    });
        }
        String open = indent(indent) + "MemoryLayout." + (union ? "unionLayout" : "structLayout") + "(\n";
        return members.stream().collect(Collectors.joining(",\n", open, "\n" + indent(indent) + ")")) + ".withName(\""
                + name + "\")";
    }

    /** jextract's fieldLayoutString; an alignment fix applies to the innermost element, as there. */
    static String fieldLayout(JType t, long alignTo) {
        return switch (t) {
            case Value v -> align(HELPER + "." + v.kind().layoutField(), alignTo);
            case StructRef r -> align(r.qualifiedName() + ".layout()", alignTo);
            case Sequence q ->
                "MemoryLayout.sequenceLayout(" + q.length() + ", " + fieldLayout(q.element(), alignTo) + ")";
        };
    }

    private static String align(String layout, long alignTo) {
        return alignTo == 0 ? layout : HELPER + ".align(" + layout + ", " + alignTo + ")";
    }

    private static String layoutClass(JType t) {
        return switch (t) {
            case Value v -> v.kind().layoutClass();
            case StructRef _ -> "GroupLayout";
            case Sequence _ -> "SequenceLayout";
        };
    }

    private static JType elementType(JType t) {
        while (t instanceof Sequence q) {
            t = q.element();
        }
        return t;
    }

    private static List<Long> dims(JType t) {
        List<Long> d = new ArrayList<>();
        while (t instanceof Sequence q) {
            d.add(q.length());
            t = q.element();
        }
        return d;
    }

    // ---- fields -----------------------------------------------------------------------------------------------

    /** jextract's safeParameterName: a parameter that equals an enclosing class name gets a '$'. */
    private static String param(String name, List<String> enclosing) {
        return enclosing.contains(name) ? name + "$" : name;
    }

    private static void field(SourceText out, JStruct owner, Access a, List<String> enclosing) {
        Field f = a.field();
        String n = f.javaName();
        String segment = param(owner.kindName(), enclosing);
        String value = param("fieldValue", enclosing);
        List<String> elementNames = new ArrayList<>(a.groupPath());
        elementNames.add(f.cName());
        String path =
                elementNames.stream().map(p -> "groupElement(\"" + p + "\")").collect(Collectors.joining(", "));
        String layoutClass = layoutClass(f.type());

        out.blank();
        out.indentedLines("private static final %1$s %2$s$LAYOUT = (%1$s)$LAYOUT.select(%3$s);\n"
                .formatted(layoutClass, n, path));
        out.blank();
        fieldDoc(out, "Layout for field:", f);
        out.indentedLines("""
                public static final %1$s %2$s$layout() {
                    return %2$s$LAYOUT;
                }
                """.formatted(layoutClass, n));
        out.blank();
        out.indentedLines("private static final long %1$s$OFFSET = $LAYOUT.byteOffset(%2$s);\n".formatted(n, path));
        out.blank();
        fieldDoc(out, "Offset for field:", f);
        out.indentedLines("""
                public static final long %1$s$offset() {
                    return %1$s$OFFSET;
                }
                """.formatted(n));

        if (f.type() instanceof Value v) {
            out.blank();
            fieldDoc(out, "Getter for field:", f);
            out.indentedLines("""
                    public static %1$s %2$s(MemorySegment %3$s) {
                        return %3$s.get(%2$s$LAYOUT, %2$s$OFFSET);
                    }
                    """.formatted(v.kind().carrier(), n, segment));
            out.blank();
            fieldDoc(out, "Setter for field:", f);
            out.indentedLines("""
                    public static void %1$s(MemorySegment %2$s, %3$s %4$s) {
                        %2$s.set(%1$s$LAYOUT, %1$s$OFFSET, %4$s);
                    }
                    """.formatted(n, segment, v.kind().carrier(), value));
            return;
        }
        out.blank();
        fieldDoc(out, "Getter for field:", f);
        out.indentedLines("""
                public static MemorySegment %1$s(MemorySegment %2$s) {
                    return %2$s.asSlice(%1$s$OFFSET, %1$s$LAYOUT.byteSize());
                }
                """.formatted(n, segment));
        out.blank();
        fieldDoc(out, "Setter for field:", f);
        out.indentedLines("""
                public static void %1$s(MemorySegment %2$s, MemorySegment %3$s) {
                    MemorySegment.copy(%3$s, 0L, %2$s, %1$s$OFFSET, %1$s$LAYOUT.byteSize());
                }
                """.formatted(n, segment, value));
        List<Long> dims = dims(f.type());
        if (dims.isEmpty()) {
            return;
        }
        out.indentedLines("""

                private static long[] %1$s$DIMS = { %2$s };
                """.formatted(n, dims.stream().map(String::valueOf).collect(Collectors.joining(", "))));
        out.blank();
        fieldDoc(out, "Dimensions for array field:", f);
        out.indentedLines("""
                public static long[] %1$s$dimensions() {
                    return %1$s$DIMS;
                }
                """.formatted(n));
        String elements = IntStream.range(0, dims.size())
                .mapToObj(_ -> "sequenceElement()")
                .collect(Collectors.joining(", "));
        String indexDecl =
                IntStream.range(0, dims.size()).mapToObj(i -> "long index" + i).collect(Collectors.joining(", "));
        String indexUse =
                IntStream.range(0, dims.size()).mapToObj(i -> "index" + i).collect(Collectors.joining(", "));
        JType elem = elementType(f.type());
        if (elem instanceof Value v) {
            out.indentedLines("private static final VarHandle %1$s$ELEM_HANDLE = %1$s$LAYOUT.varHandle(%2$s);\n"
                    .formatted(n, elements));
            out.blank();
            fieldDoc(out, "Indexed getter for field:", f);
            out.indentedLines("""
                    public static %1$s %2$s(MemorySegment %3$s, %4$s) {
                        return (%1$s)%2$s$ELEM_HANDLE.get(%3$s, %2$s$OFFSET, %5$s);
                    }
                    """.formatted(v.kind().carrier(), n, segment, indexDecl, indexUse));
            out.blank();
            fieldDoc(out, "Indexed setter for field:", f);
            out.indentedLines("""
                    public static void %1$s(MemorySegment %2$s, %3$s, %4$s %5$s) {
                        %1$s$ELEM_HANDLE.set(%2$s, %1$s$OFFSET, %6$s, %5$s);
                    }
                    """.formatted(n, segment, indexDecl, v.kind().carrier(), value, indexUse));
        } else {
            out.indentedLines("private static final MethodHandle %1$s$ELEM_HANDLE = %1$s$LAYOUT.sliceHandle(%2$s);\n"
                    .formatted(n, elements));
            out.blank();
            fieldDoc(out, "Indexed getter for field:", f);
            out.indentedLines("""
                    public static MemorySegment %1$s(MemorySegment %2$s, %3$s) {
                        try {
                            return (MemorySegment)%1$s$ELEM_HANDLE.invokeExact(%2$s, %1$s$OFFSET, %4$s);
                        } catch (Error | RuntimeException ex) {
                            throw ex;
                        } catch (Throwable ex$) {
                            throw new AssertionError("should not reach here", ex$);
                        }
                    }
                    """.formatted(n, segment, indexDecl, indexUse));
            out.blank();
            fieldDoc(out, "Indexed setter for field:", f);
            out.indentedLines("""
                    public static void %1$s(MemorySegment %2$s, %3$s, MemorySegment %4$s) {
                        MemorySegment.copy(%4$s, 0L, %1$s(%2$s, %5$s), 0L, %6$s.byteSize());
                    }
                    """.formatted(n, segment, indexDecl, value, indexUse, fieldLayout(elem, 0)));
        }
    }

    private static void fieldDoc(SourceText out, String header, Field f) {
        out.incrAlign();
        out.docComment(header, f.cDecl());
        out.decrAlign();
    }

    private static void trailer(SourceText out, JStruct s, List<String> enclosing) {
        String array = param("array", enclosing);
        String allocator = param("allocator", enclosing);
        String elementCount = param("elementCount", enclosing);
        out.indentedLines("""

                /**
                 * Obtains a slice of {@code arrayParam} which selects the array element at {@code index}.
                 * The returned segment has address {@code arrayParam.address() + index * layout().byteSize()}
                 */
                public static MemorySegment asSlice(MemorySegment %1$s, long index) {
                    return %1$s.asSlice(layout().byteSize() * index);
                }

                /**
                 * The size (in bytes) of this %2$s
                 */
                public static long sizeof() { return layout().byteSize(); }

                /**
                 * Allocate a segment of size {@code layout().byteSize()} using {@code %3$s}
                 */
                public static MemorySegment allocate(SegmentAllocator %3$s) {
                    return %3$s.allocate(layout());
                }

                /**
                 * Allocate an array of size {@code %4$s} using {@code %3$s}.
                 * The returned segment has size {@code %4$s * layout().byteSize()}.
                 */
                public static MemorySegment allocateArray(long %4$s, SegmentAllocator %3$s) {
                    return %3$s.allocate(MemoryLayout.sequenceLayout(%4$s, layout()));
                }

                /**
                 * Reinterprets {@code addr} using target {@code arena} and {@code cleanupAction} (if any).
                 * The returned segment has size {@code layout().byteSize()}
                 */
                public static MemorySegment reinterpret(MemorySegment addr, Arena arena, Consumer<MemorySegment> cleanup) {
                    return reinterpret(addr, 1, arena, cleanup);
                }

                /**
                 * Reinterprets {@code addr} using target {@code arena} and {@code cleanupAction} (if any).
                 * The returned segment has size {@code elementCount * layout().byteSize()}
                 */
                public static MemorySegment reinterpret(MemorySegment addr, long elementCount, Arena arena, Consumer<MemorySegment> cleanup) {
                    return addr.reinterpret(layout().byteSize() * elementCount, arena, cleanup);
                }
                """.formatted(array, s.kindName(), allocator, elementCount));
    }
}
