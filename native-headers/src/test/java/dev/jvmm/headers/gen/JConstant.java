package dev.jvmm.headers.gen;

/**
 * One constant of the header class, written as jextract's HeaderFileBuilder.emitConstant does: a private field and
 * a public static getter of the same name.
 *
 * @param cType    C type of the expression as the compiler saw it; picks the Java type
 * @param value    the value as C {@code long long} (so an {@code unsigned int} is non-negative here)
 * @param cDecl    javadoc text: {@code #define NAME <value>} or {@code enum tag.NAME = <value>}
 * @param position where the parser met it; jextract's member order (see {@link ArchModel})
 * @param inPlace  a one-token number or an enum constant: jextract emits those where they occur; every other
 *                 macro needs clang evaluation and is appended after all declarations
 */
public record JConstant(String name, CIntType cType, long value, String cDecl, long position, boolean inPlace) {

    public String javaType() {
        return cType.javaType();
    }

    /** The literal jextract's HeaderFileBuilder.constantValue writes: {@code (int)44672L}, {@code 1075883590L}. */
    public String javaLiteral() {
        return switch (javaType()) {
            case "long" -> value + "L";
            case "boolean" -> Boolean.toString(value != 0);
            default -> "(" + javaType() + ")" + value + "L";
        };
    }

    /** Same name, Java type and value: what makes two architectures' constants one common constant. */
    public boolean sameAs(JConstant o) {
        return name.equals(o.name)
                && cType.javaType().equals(o.cType.javaType())
                && value == o.value
                && cDecl.equals(o.cDecl);
    }
}
