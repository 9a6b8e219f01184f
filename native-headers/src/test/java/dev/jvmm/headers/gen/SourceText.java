package dev.jvmm.headers.gen;

/**
 * A Java source file being written with four-space indentation, in the manner of jextract's
 * SourceFileBuilder: blank lines carry no trailing whitespace.
 */
final class SourceText {

    private final StringBuilder sb = new StringBuilder();
    private int align;

    /** Starts a file: our "generated" comment (instead of jextract's), package, jextract's fixed imports. */
    static SourceText newFile(String headerComment, String javaPackage) {
        SourceText t = new SourceText();
        t.lines(headerComment);
        t.blank();
        t.lines("package " + javaPackage + ";");
        t.blank();
        t.lines("""
                import java.lang.invoke.*;
                import java.lang.foreign.*;
                import java.nio.ByteOrder;
                import java.util.*;
                import java.util.function.*;
                import java.util.stream.*;

                import static java.lang.foreign.ValueLayout.*;
                import static java.lang.foreign.MemoryLayout.PathElement.*;
                """);
        return t;
    }

    void incrAlign() {
        align++;
    }

    void decrAlign() {
        align--;
    }

    void blank() {
        sb.append('\n');
    }

    /** Appends every line of {@code s} at the current indentation. */
    void lines(String s) {
        String indent = "    ".repeat(align);
        s.lines().forEach(l -> sb.append(l.isEmpty() ? "" : indent + l).append('\n'));
    }

    /** Appends every line of {@code s} one level deeper than the current indentation. */
    void indentedLines(String s) {
        align++;
        lines(s);
        align--;
    }

    /** A javadoc with an optional header line and the C declaration in a snippet. */
    void docComment(String header, String cDecl) {
        StringBuilder d = new StringBuilder("/**\n");
        if (!header.isEmpty()) {
            d.append(" * ").append(header).append('\n');
        }
        d.append(" * {@snippet lang=c :\n");
        cDecl.lines().forEach(l -> d.append(" * ").append(l).append('\n'));
        d.append(" * }\n */\n");
        lines(d.toString());
    }

    @Override
    public String toString() {
        return sb.toString();
    }
}
