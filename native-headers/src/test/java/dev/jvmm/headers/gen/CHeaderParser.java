package dev.jvmm.headers.gen;

import dev.jvmm.headers.gen.CHeader.EnumConstant;
import dev.jvmm.headers.gen.CHeader.Macro;
import dev.jvmm.headers.gen.CType.Array;
import dev.jvmm.headers.gen.CType.CAggregate;
import dev.jvmm.headers.gen.CType.CMember;
import dev.jvmm.headers.gen.CType.EnumRef;
import dev.jvmm.headers.gen.CType.Inline;
import dev.jvmm.headers.gen.CType.Pointer;
import dev.jvmm.headers.gen.CType.Prim;
import dev.jvmm.headers.gen.CType.PrimKind;
import dev.jvmm.headers.gen.CType.Tagged;
import dev.jvmm.headers.gen.CType.Typedef;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A small parser for the declarations UAPI headers use: typedefs of scalars, struct/union definitions
 * (nested, anonymous, arrays, bitfields), enums. It reads preprocessed text, so no macro expansion or
 * expression evaluation happens here; array lengths and enum values are left to the compiler. A top-level
 * declaration it cannot read (function pointers, functions) is skipped and recorded in
 * {@link CHeader#skipped()}; a struct the manifest needs and that got skipped fails later with that list.
 */
final class CHeaderParser {

    private static final Pattern LINE_MARKER = Pattern.compile("^# (\\d+) \"([^\"]*)\".*$");
    private static final Pattern DEFINE = Pattern.compile("^#\\s*define\\s+([A-Za-z_][A-Za-z0-9_]*)(\\(?)(.*)$");
    private static final Pattern UNDEF = Pattern.compile("^#\\s*undef\\s+([A-Za-z_][A-Za-z0-9_]*).*$");

    private static final Set<String> QUALIFIERS = Set.of(
            "const",
            "volatile",
            "__extension__",
            "static",
            "extern",
            "inline",
            "__inline",
            "__inline__",
            "register",
            "restrict",
            "__restrict",
            "__restrict__");
    private static final Set<String> PRIM_WORDS = Set.of(
            "signed",
            "__signed__",
            "__signed",
            "unsigned",
            "short",
            "long",
            "int",
            "char",
            "_Bool",
            "float",
            "double",
            "void",
            "__int128");

    private record Token(String text, long position) {
        boolean is(String s) {
            return text.equals(s);
        }

        boolean isIdentifier() {
            char c = text.charAt(0);
            return Character.isLetter(c) || c == '_';
        }
    }

    /** A declaration the parser does not understand; the enclosing top-level declaration is skipped. */
    private static final class Unsupported extends RuntimeException {
        @java.io.Serial
        private static final long serialVersionUID = 1L;

        Unsupported(String message) {
            super(message, null, false, false);
        }
    }

    private final String text;
    private final List<Token> tokens = new ArrayList<>();
    private final Map<String, Macro> macros = new LinkedHashMap<>();
    private final Map<String, EnumConstant> enumConstants = new LinkedHashMap<>();
    private final Map<String, CAggregate> aggregates = new LinkedHashMap<>();
    private final Map<String, CType> typedefs = new LinkedHashMap<>();
    private final List<String> skipped = new ArrayList<>();
    private int pos;

    CHeaderParser(String preprocessed) {
        this.text = preprocessed;
        typedefs.put("__int128_t", new Prim(PrimKind.INT128, "__int128_t"));
        typedefs.put("__uint128_t", new Prim(PrimKind.INT128, "__uint128_t"));
    }

    CHeader parse() {
        tokenize();
        pos = 0;
        while (pos < tokens.size()) {
            int start = pos;
            try {
                externalDeclaration();
            } catch (Unsupported | IndexOutOfBoundsException e) {
                pos = start;
                String first = tokens.get(start).text();
                skipDeclaration();
                skipped.add(first + "...: " + e.getMessage());
            }
        }
        return new CHeader(macros, enumConstants, aggregates, typedefs, skipped);
    }

    // ---- lexing ---------------------------------------------------------------------------------------------

    private void tokenize() {
        String file = "";
        long lineIndex = 0;
        for (String line : text.split("\n", -1)) {
            lineIndex++;
            if (line.startsWith("#")) {
                Matcher m = LINE_MARKER.matcher(line);
                if (m.matches()) {
                    file = m.group(2);
                    continue;
                }
                Matcher d = DEFINE.matcher(line);
                if (d.matches()) {
                    String name = d.group(1);
                    boolean functionLike = !d.group(2).isEmpty();
                    macros.put(name, new Macro(name, functionLike, d.group(3).strip(), file, lineIndex << 16));
                    continue;
                }
                Matcher u = UNDEF.matcher(line);
                if (u.matches()) {
                    macros.remove(u.group(1));
                }
                continue; // #pragma and friends
            }
            lexLine(line, lineIndex);
        }
    }

    private void lexLine(String line, long lineIndex) {
        int i = 0;
        int n = line.length();
        while (i < n) {
            char c = line.charAt(i);
            int start = i;
            if (Character.isWhitespace(c)) {
                i++;
                continue;
            }
            if (Character.isLetter(c) || c == '_') {
                while (i < n && (Character.isLetterOrDigit(line.charAt(i)) || line.charAt(i) == '_')) {
                    i++;
                }
            } else if (Character.isDigit(c)) {
                while (i < n && (Character.isLetterOrDigit(line.charAt(i)) || line.charAt(i) == '.')) {
                    i++;
                }
            } else if (c == '"' || c == '\'') {
                i++;
                while (i < n && line.charAt(i) != c) {
                    i += line.charAt(i) == '\\' ? 2 : 1;
                }
                i = Math.min(n, i + 1);
            } else {
                i++; // every other character is its own token; multi-char operators only occur in expressions
            }
            tokens.add(new Token(line.substring(start, i), (lineIndex << 16) | start));
        }
    }

    // ---- parsing --------------------------------------------------------------------------------------------

    private Token peek() {
        return tokens.get(pos);
    }

    private boolean peekIs(String s) {
        return pos < tokens.size() && tokens.get(pos).is(s);
    }

    private Token next() {
        return tokens.get(pos++);
    }

    private void expect(String s) {
        Token t = next();
        if (!t.is(s)) {
            throw new Unsupported("expected '" + s + "' but found '" + t.text() + "'");
        }
    }

    private void skipDeclaration() {
        int depth = 0;
        while (pos < tokens.size()) {
            String t = next().text();
            switch (t) {
                case "(", "[", "{" -> depth++;
                case ")", "]" -> depth--;
                case "}" -> {
                    depth--;
                    if (depth == 0 && !peekIs(";") && !peekIs(",") && !nextIsDeclaratorStart()) {
                        return; // end of a function body
                    }
                }
                case ";" -> {
                    if (depth == 0) {
                        return;
                    }
                }
                default -> {}
            }
        }
    }

    private boolean nextIsDeclaratorStart() {
        return pos < tokens.size() && (peek().isIdentifier() || peekIs("*"));
    }

    private void skipBalanced(String open, String close) {
        expect(open);
        int depth = 1;
        while (depth > 0) {
            String t = next().text();
            if (t.equals(open)) {
                depth++;
            } else if (t.equals(close)) {
                depth--;
            }
        }
    }

    private void skipAttributes() {
        while (peekIs("__attribute__") || peekIs("__attribute") || peekIs("__aligned__")) {
            next();
            skipBalanced("(", ")");
        }
    }

    private void externalDeclaration() {
        if (peekIs(";")) {
            next();
            return;
        }
        boolean[] isTypedef = {false};
        CType base = specifiers(isTypedef);
        if (peekIs(";")) {
            next();
            return;
        }
        while (true) {
            Declarator d = declarator(base);
            if (peekIs("(") || peekIs("{")) {
                throw new Unsupported("function declaration");
            }
            if (isTypedef[0] && d.name() != null) {
                typedefs.put(d.name(), d.type());
            }
            if (peekIs("=")) {
                throw new Unsupported("initialized variable");
            }
            if (peekIs(",")) {
                next();
                continue;
            }
            expect(";");
            return;
        }
    }

    /** Declaration specifiers: qualifiers, scalar keywords, a typedef name, or a struct/union/enum. */
    private CType specifiers(boolean[] isTypedef) {
        List<String> words = new ArrayList<>();
        CType base = null;
        while (pos < tokens.size()) {
            Token t = peek();
            String s = t.text();
            if (QUALIFIERS.contains(s)) {
                next();
            } else if (s.equals("typedef")) {
                next();
                isTypedef[0] = true;
            } else if (s.equals("__attribute__") || s.equals("__attribute")) {
                skipAttributes();
            } else if (PRIM_WORDS.contains(s)) {
                next();
                words.add(s);
            } else if (s.equals("struct") || s.equals("union")) {
                base = aggregateSpecifier();
            } else if (s.equals("enum")) {
                base = enumSpecifier();
            } else if (t.isIdentifier() && base == null && words.isEmpty() && typedefs.containsKey(s)) {
                next();
                base = typedefs.get(s) instanceof Prim p && p.spelling().equals(s)
                        ? p
                        : new Typedef(s, typedefs.get(s));
            } else {
                break;
            }
        }
        if (base != null) {
            if (!words.isEmpty()) {
                throw new Unsupported("type words " + words + " next to " + base);
            }
            return base;
        }
        if (words.isEmpty()) {
            throw new Unsupported("no type at '" + (pos < tokens.size() ? peek().text() : "<eof>") + "'");
        }
        return primitive(words);
    }

    private static Prim primitive(List<String> words) {
        String spelling = String.join(
                " ",
                words.stream().map(w -> w.startsWith("__signed") ? "signed" : w).toList());
        long longs = words.stream().filter("long"::equals).count();
        PrimKind kind;
        if (words.contains("void")) {
            kind = PrimKind.VOID;
        } else if (words.contains("_Bool")) {
            kind = PrimKind.BOOL;
        } else if (words.contains("char")) {
            kind = PrimKind.CHAR;
        } else if (words.contains("short")) {
            kind = PrimKind.SHORT;
        } else if (words.contains("float")) {
            kind = PrimKind.FLOAT;
        } else if (words.contains("double")) {
            kind = longs > 0 ? PrimKind.INT128 : PrimKind.DOUBLE; // long double: unsupported, like jextract
        } else if (words.contains("__int128")) {
            kind = PrimKind.INT128;
        } else if (longs >= 2) {
            kind = PrimKind.LONG_LONG;
        } else if (longs == 1) {
            kind = PrimKind.LONG;
        } else {
            kind = PrimKind.INT; // int, signed, unsigned
        }
        return new Prim(kind, spelling);
    }

    private CType aggregateSpecifier() {
        boolean union = next().is("union");
        skipAttributes();
        String tag = null;
        if (pos < tokens.size() && peek().isIdentifier() && !peekIs("{")) {
            tag = next().text();
        }
        skipAttributes();
        if (!peekIs("{")) {
            if (tag == null) {
                throw new Unsupported("struct without tag or body");
            }
            return new Tagged(union, tag);
        }
        next();
        List<CMember> members = new ArrayList<>();
        while (!peekIs("}")) {
            memberDeclaration(members);
        }
        next();
        skipAttributes();
        CAggregate agg = new CAggregate(tag, union, normalizeFlexibleArrays(members));
        if (tag != null) {
            aggregates.put(tag, agg);
            return new Tagged(union, tag);
        }
        return new Inline(agg);
    }

    private void memberDeclaration(List<CMember> members) {
        if (peekIs(";")) {
            next();
            return;
        }
        CType base = specifiers(new boolean[1]);
        if (peekIs(";")) {
            next();
            if (base instanceof Inline) {
                members.add(new CMember(null, base, false)); // anonymous struct/union member
            }
            return;
        }
        while (true) {
            Declarator d = declarator(base);
            if (d.name() != null || d.bitfield()) {
                members.add(new CMember(d.name(), d.type(), d.bitfield()));
            }
            if (peekIs(",")) {
                next();
                continue;
            }
            expect(";");
            return;
        }
    }

    /**
     * {@code __DECLARE_FLEX_ARRAY(T, x)} (linux/stddef.h, 6.x UAPI) expands to
     * {@code struct { struct { } __empty_x; T x[]; };}. jextract would emit an empty nested class for
     * {@code __empty_x}; we read it as the plain {@code T x[]} older headers (and arm64's 6.1.4) declare,
     * so both spellings give the same bindings.
     */
    private static List<CMember> normalizeFlexibleArrays(List<CMember> members) {
        List<CMember> out = new ArrayList<>(members.size());
        for (CMember m : members) {
            if (m.anonymous()
                    && m.type() instanceof Inline(CAggregate a)
                    && !a.union()
                    && a.members().size() == 2
                    && a.members().get(0).type() instanceof Inline(CAggregate empty)
                    && empty.members().isEmpty()
                    && a.members().get(1).type() instanceof Array arr
                    && arr.flexible()
                    && ("__empty_" + a.members().get(1).name())
                            .equals(a.members().get(0).name())) {
                out.add(a.members().get(1));
            } else {
                out.add(m);
            }
        }
        return out;
    }

    private CType enumSpecifier() {
        next();
        skipAttributes();
        String tag = "";
        if (pos < tokens.size() && peek().isIdentifier()) {
            tag = next().text();
        }
        if (peekIs("{")) {
            next();
            while (!peekIs("}")) {
                Token name = next();
                if (!name.isIdentifier()) {
                    throw new Unsupported("enum constant expected, found " + name.text());
                }
                enumConstants.put(name.text(), new EnumConstant(tag, name.text(), name.position()));
                int depth = 0;
                while (depth > 0 || !(peekIs(",") || peekIs("}"))) {
                    String t = next().text();
                    if (t.equals("(")) {
                        depth++;
                    } else if (t.equals(")")) {
                        depth--;
                    }
                }
                if (peekIs(",")) {
                    next();
                }
            }
            next();
        }
        return new EnumRef(tag);
    }

    private record Declarator(String name, CType type, boolean bitfield) {}

    private Declarator declarator(CType base) {
        CType type = base;
        while (peekIs("*")) {
            next();
            while (QUALIFIERS.contains(peek().text())) {
                next();
            }
            type = new Pointer(type);
        }
        if (peekIs("(")) {
            throw new Unsupported("function pointer declarator");
        }
        String name = null;
        if (pos < tokens.size() && peek().isIdentifier() && !peek().text().startsWith("__attribute")) {
            name = next().text();
        }
        List<Boolean> dims = new ArrayList<>(); // true = flexible
        while (peekIs("[")) {
            next();
            boolean empty = peekIs("]");
            int depth = 1;
            while (true) {
                String t = next().text();
                if (t.equals("[")) {
                    depth++;
                } else if (t.equals("]") && --depth == 0) {
                    break;
                }
            }
            dims.add(empty);
        }
        for (int i = dims.size() - 1; i >= 0; i--) {
            type = new Array(type, dims.get(i));
        }
        skipAttributes();
        boolean bitfield = false;
        if (peekIs(":")) {
            next();
            bitfield = true;
            while (!peekIs(",") && !peekIs(";")) {
                next();
            }
        }
        skipAttributes();
        return new Declarator(name, type, bitfield);
    }
}
