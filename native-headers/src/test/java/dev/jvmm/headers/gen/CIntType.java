package dev.jvmm.headers.gen;

/**
 * The C type of an integer constant expression, as gcc's {@code _Generic} reports it, and the Java carrier
 * jextract picks for it (its Utils.carrierFor): {@code int}/{@code unsigned int} give {@code int};
 * {@code long}, {@code unsigned long} and the {@code long long}s give {@code long} (LP64).
 */
public enum CIntType {
    CHAR(1, "char", "byte"),
    SIGNED_CHAR(2, "signed char", "byte"),
    UNSIGNED_CHAR(3, "unsigned char", "byte"),
    SHORT(4, "short", "short"),
    UNSIGNED_SHORT(5, "unsigned short", "short"),
    INT(6, "int", "int"),
    UNSIGNED_INT(7, "unsigned int", "int"),
    LONG(8, "long", "long"),
    UNSIGNED_LONG(9, "unsigned long", "long"),
    LONG_LONG(10, "long long", "long"),
    UNSIGNED_LONG_LONG(11, "unsigned long long", "long"),
    BOOL(12, "_Bool", "boolean");

    private final int code;
    private final String cName;
    private final String javaType;

    CIntType(int code, String cName, String javaType) {
        this.code = code;
        this.cName = cName;
        this.javaType = javaType;
    }

    /** The number the probe's {@code _Generic} selector yields. */
    public int code() {
        return code;
    }

    public String cName() {
        return cName;
    }

    /** Java primitive type name of the constant's getter. */
    public String javaType() {
        return javaType;
    }

    /** The {@code _Generic} association list matching {@link #code()}, for the probe source. */
    static String genericAssociations() {
        StringBuilder sb = new StringBuilder();
        for (CIntType t : values()) {
            sb.append(t.cName).append(": ").append(t.code).append(", ");
        }
        return sb.append("default: 0").toString();
    }

    public static CIntType ofCode(long code) {
        for (CIntType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        throw new IllegalArgumentException("not an integer type (probe code " + code + ")");
    }
}
