package dev.jvmm.headers.gen;

import java.util.List;
import java.util.Set;

/**
 * A C type as written in a UAPI header, after preprocessing. Typedef names are kept ({@link Typedef}) because
 * jextract's javadoc prints the declaration as written ({@code __u32 slot}), while layouts need the resolved
 * primitive.
 */
public sealed interface CType {

    /** Scalar kinds, each mapped to one of jextract's {@code C_*} layouts. */
    enum PrimKind {
        BOOL,
        CHAR,
        SHORT,
        INT,
        LONG,
        LONG_LONG,
        FLOAT,
        DOUBLE,
        INT128,
        VOID
    }

    record Prim(PrimKind kind, String spelling) implements CType {}

    record Typedef(String name, CType target) implements CType {}

    record Pointer(CType pointee) implements CType {}

    /** One array dimension; {@code flexible} for {@code T x[]}. Lengths come from the compiler. */
    record Array(CType element, boolean flexible) implements CType {}

    /** A reference to {@code struct tag} / {@code union tag}, defined elsewhere. */
    record Tagged(boolean union, String tag) implements CType {}

    record EnumRef(String tag) implements CType {}

    /** A struct or union defined in place without a tag: {@code struct { ... } io;}. */
    record Inline(CAggregate aggregate) implements CType {}

    /** This type with typedefs looked through. */
    default CType resolved() {
        CType t = this;
        while (t instanceof Typedef td) {
            t = td.target();
        }
        return t;
    }

    /** A struct or union definition. {@code tag} is null for an anonymous one. */
    record CAggregate(String tag, boolean union, List<CMember> members) {
        public CAggregate {
            members = List.copyOf(members);
        }

        public String keyword() {
            return union ? "union" : "struct";
        }

        /**
         * Whether any of {@code names} is a member of this aggregate, looking through anonymous members (whose
         * members C flattens into the enclosing one): an anonymous member holding none of a {@code #@ fields}
         * selection is left out whole.
         */
        public boolean namesAny(Set<String> names) {
            for (CMember m : members) {
                if (m.anonymous() ? ((Inline) m.type()).aggregate().namesAny(names) : names.contains(m.name())) {
                    return true;
                }
            }
            return false;
        }
    }

    /** A member; {@code name} is null for an anonymous struct/union member (C11 §6.7.2.1p13). */
    record CMember(String name, CType type, boolean bitfield) {
        public boolean anonymous() {
            return name == null && !bitfield; // an unnamed bitfield is padding, not an anonymous member
        }
    }
}
