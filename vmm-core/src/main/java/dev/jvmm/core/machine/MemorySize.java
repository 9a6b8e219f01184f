package dev.jvmm.core.machine;

import java.util.Locale;

/** Sizes as users write them: {@code 512M}, {@code 2G}, {@code 1048576K}, a plain number is MiB (as in QEMU). */
public final class MemorySize {
    private MemorySize() {}

    public static long parse(String text) {
        String s = text.strip().toUpperCase(Locale.ROOT);
        if (s.endsWith("IB")) s = s.substring(0, s.length() - 2);
        else if (s.endsWith("B") && s.length() > 1 && Character.isLetter(s.charAt(s.length() - 2)))
            s = s.substring(0, s.length() - 1);
        if (s.isEmpty()) throw new IllegalArgumentException("empty size");
        int shift = switch (s.charAt(s.length() - 1)) {
            case 'K' -> 10;
            case 'M' -> 20;
            case 'G' -> 30;
            case 'T' -> 40;
            default -> -1;
        };
        String digits = shift < 0 ? s : s.substring(0, s.length() - 1);
        if (shift < 0) shift = 20;
        long n;
        try {
            n = Long.parseLong(digits);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a size: '" + text + "' (use e.g. 512M or 2G)");
        }
        if (n <= 0) throw new IllegalArgumentException("size must be positive: '" + text + "'");
        if (n > (Long.MAX_VALUE >> shift)) throw new IllegalArgumentException("size too large: '" + text + "'");
        return n << shift;
    }

    public static String format(long bytes) {
        if (bytes % (1L << 30) == 0) return (bytes >> 30) + "G";
        if (bytes % (1L << 20) == 0) return (bytes >> 20) + "M";
        if (bytes % (1L << 10) == 0) return (bytes >> 10) + "K";
        return bytes + " bytes";
    }
}
