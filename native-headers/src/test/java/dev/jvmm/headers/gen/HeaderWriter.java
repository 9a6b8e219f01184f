package dev.jvmm.headers.gen;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes the header class {@code kvm_h} (constants) and {@code kvm_h$shared} ({@code C_*} layouts and
 * jextract's runtime helpers), in the shape of jextract's ToplevelBuilder/HeaderFileBuilder
 * in openjdk/jextract. Past {@link #DECLS_PER_CLASS} constants the header splits like jextract's:
 * {@code kvm_h extends kvm_h_1 extends ... extends kvm_h$shared}, only {@code kvm_h} public.
 */
final class HeaderWriter {

    static final String HEADER = "kvm_h";
    static final String SHARED = "kvm_h$shared";
    static final int DECLS_PER_CLASS = 1000;

    private HeaderWriter() {}

    /** Class name to source text for the header class and its split chunks. */
    static Map<String, String> headerFiles(String javaPackage, String headerComment, List<JConstant> constants) {
        List<List<JConstant>> chunks = new ArrayList<>();
        for (int i = 0; i < constants.size() || chunks.isEmpty(); i += DECLS_PER_CLASS) {
            chunks.add(constants.subList(i, Math.min(constants.size(), i + DECLS_PER_CLASS)));
        }
        int n = chunks.size();
        Map<String, String> files = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            boolean main = i == n - 1;
            String name = main ? HEADER : HEADER + "_" + (n - 1 - i);
            String superName = i == 0 ? SHARED : HEADER + "_" + (n - i);
            SourceText out = SourceText.newFile(headerComment, javaPackage);
            out.blank();
            out.lines((main ? "public " : "") + "class " + name + " extends " + superName + " {");
            out.indentedLines("""

                    %1$s() {
                        // Should not be called directly
                    }
                    """.formatted(name));
            if (i == 0) {
                // kvm.h declares no functions, so these two stay unused; kept for the jextract shape.
                out.indentedLines("""

                        static final Arena LIBRARY_ARENA = Arena.ofAuto();""");
                out.blank();
                out.indentedLines("""
                        static final SymbolLookup SYMBOL_LOOKUP = SymbolLookup.loaderLookup()
                                .or(Linker.nativeLinker().defaultLookup());""");
                out.blank();
            }
            for (JConstant c : chunks.get(i)) {
                constant(out, c);
            }
            out.lines("}");
            files.put(name, out.toString());
        }
        return files;
    }

    private static void constant(SourceText out, JConstant c) {
        out.incrAlign();
        out.lines("private static final %1$s %2$s = %3$s;".formatted(c.javaType(), c.name(), c.javaLiteral()));
        out.docComment("", c.cDecl());
        out.lines("""
                public static %1$s %2$s() {
                    return %2$s;
                }
                """.formatted(c.javaType(), c.name()));
        out.decrAlign();
    }

    static String sharedFile(String javaPackage, String headerComment) {
        SourceText out = SourceText.newFile(headerComment, javaPackage);
        out.blank();
        out.lines("public class " + SHARED + " {");
        out.indentedLines("""

                %1$s() {
                    // Should not be called directly
                }

                public static final ValueLayout.OfBoolean C_BOOL = (ValueLayout.OfBoolean) Linker.nativeLinker().canonicalLayouts().get("bool");
                public static final ValueLayout.OfByte C_CHAR = (ValueLayout.OfByte) Linker.nativeLinker().canonicalLayouts().get("char");
                public static final ValueLayout.OfShort C_SHORT = (ValueLayout.OfShort) Linker.nativeLinker().canonicalLayouts().get("short");
                public static final ValueLayout.OfInt C_INT = (ValueLayout.OfInt) Linker.nativeLinker().canonicalLayouts().get("int");
                public static final ValueLayout.OfLong C_LONG_LONG = (ValueLayout.OfLong) Linker.nativeLinker().canonicalLayouts().get("long long");
                public static final ValueLayout.OfFloat C_FLOAT = (ValueLayout.OfFloat) Linker.nativeLinker().canonicalLayouts().get("float");
                public static final ValueLayout.OfDouble C_DOUBLE = (ValueLayout.OfDouble) Linker.nativeLinker().canonicalLayouts().get("double");
                public static final AddressLayout C_POINTER = ((AddressLayout) Linker.nativeLinker().canonicalLayouts().get("void*"))
                        .withTargetLayout(MemoryLayout.sequenceLayout(java.lang.Long.MAX_VALUE, C_CHAR));
                public static final ValueLayout.OfLong C_LONG = (ValueLayout.OfLong) Linker.nativeLinker().canonicalLayouts().get("long");

                static final boolean TRACE_DOWNCALLS = Boolean.getBoolean("jextract.trace.downcalls");

                static void traceDowncall(String name, Object... args) {
                     String traceArgs = Arrays.stream(args)
                                   .map(Object::toString)
                                   .collect(Collectors.joining(", "));
                     System.out.printf("%%s(%%s)\\n", name, traceArgs);
                }

                static MethodHandle upcallHandle(Class<?> fi, String name, FunctionDescriptor fdesc) {
                    try {
                        return MethodHandles.lookup().findVirtual(fi, name, fdesc.toMethodType());
                    } catch (ReflectiveOperationException ex) {
                        throw new AssertionError(ex);
                    }
                }

                static MemoryLayout align(MemoryLayout layout, long align) {
                    return switch (layout) {
                        case PaddingLayout p -> p;
                        case ValueLayout v -> v.withByteAlignment(align);
                        case GroupLayout g -> {
                            MemoryLayout[] alignedMembers = g.memberLayouts().stream()
                                    .map(m -> align(m, align)).toArray(MemoryLayout[]::new);
                            yield g instanceof StructLayout ?
                                    MemoryLayout.structLayout(alignedMembers) : MemoryLayout.unionLayout(alignedMembers);
                        }
                        case SequenceLayout s -> MemoryLayout.sequenceLayout(s.elementCount(), align(s.elementLayout(), align));
                    };
                }
                """.formatted(SHARED));
        out.lines("}");
        return out.toString();
    }
}
