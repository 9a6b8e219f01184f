package dev.jvmm.core.boot;

import java.io.ByteArrayOutputStream;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * A strict gzip reader (RFC 1952) with an output cap. java.util.zip.GZIPInputStream silently ignores bytes after
 * the last member and has no size limit; a kernel file with either problem should be a clear error instead.
 * Concatenated members (RFC 1952 §2.2) are accepted.
 */
final class Gunzip {
    private static final int FHCRC = 0x02, FEXTRA = 0x04, FNAME = 0x08, FCOMMENT = 0x10, FRESERVED = 0xe0;

    private Gunzip() {}

    static boolean isGzip(byte[] data) {
        return data.length >= 2 && (data[0] & 0xff) == 0x1f && (data[1] & 0xff) == 0x8b;
    }

    /** Decompresses all members of {@code in}; more than {@code maxSize} output bytes is an error. */
    static byte[] gunzip(String name, byte[] in, long maxSize) throws BootException {
        ByteArrayOutputStream out =
                new ByteArrayOutputStream(Math.toIntExact(Math.min(maxSize, Math.max(in.length * 3L, 1 << 16))));
        byte[] buf = new byte[1 << 16];
        CRC32 crc = new CRC32();
        long total = 0;
        int pos = 0;
        while (true) {
            pos = skipHeader(name, in, pos);
            Inflater inflater = new Inflater(true);
            long memberSize = 0;
            crc.reset();
            try {
                inflater.setInput(in, pos, in.length - pos);
                while (!inflater.finished()) {
                    int n = inflater.inflate(buf);
                    if (n == 0) {
                        if (inflater.needsInput())
                            throw new BootException(name, "gzip data is truncated (the deflate stream does not end)");
                        if (inflater.needsDictionary())
                            throw new BootException(name, "gzip data is corrupt (needs a preset dictionary)");
                    }
                    total += n;
                    memberSize += n;
                    if (total > maxSize) {
                        throw new BootException(
                                name,
                                "decompresses to more than %d MiB, the limit for a kernel image"
                                        .formatted(maxSize >> 20));
                    }
                    out.write(buf, 0, n);
                    crc.update(buf, 0, n);
                }
                pos = in.length - inflater.getRemaining();
            } catch (DataFormatException e) {
                throw new BootException(name, "gzip data is corrupt: " + e.getMessage());
            } finally {
                inflater.end();
            }
            if (in.length - pos < 8) throw new BootException(name, "gzip data is truncated (no CRC32/ISIZE trailer)");
            long crcField = Integer.toUnsignedLong(le32(in, pos));
            long isize = Integer.toUnsignedLong(le32(in, pos + 4));
            if (crcField != crc.getValue()) {
                throw new BootException(
                        name,
                        "gzip CRC32 mismatch (file says 0x%08x, data gives 0x%08x)"
                                .formatted(crcField, crc.getValue()));
            }
            if (isize != (memberSize & 0xffff_ffffL)) {
                throw new BootException(
                        name, "gzip ISIZE mismatch (file says %d, data gives %d)".formatted(isize, memberSize));
            }
            pos += 8;
            if (pos == in.length) return out.toByteArray();
            boolean anotherMember = in.length - pos >= 2 && (in[pos] & 0xff) == 0x1f && (in[pos + 1] & 0xff) == 0x8b;
            if (!anotherMember) {
                throw new BootException(
                        name,
                        "%d bytes of trailing data after the gzip stream at offset 0x%x"
                                .formatted(in.length - pos, pos));
            }
        }
    }

    /** Checks the member header at {@code pos} (RFC 1952 §2.3) and returns where the deflate data begins. */
    private static int skipHeader(String name, byte[] in, int pos) throws BootException {
        if (in.length - pos < 10) throw new BootException(name, "gzip header is truncated");
        if ((in[pos] & 0xff) != 0x1f || (in[pos + 1] & 0xff) != 0x8b)
            throw new BootException(name, "bad gzip magic at offset 0x%x".formatted(pos));
        if ((in[pos + 2] & 0xff) != 8)
            throw new BootException(name, "gzip compression method %d is not deflate".formatted(in[pos + 2] & 0xff));
        int flags = in[pos + 3] & 0xff;
        if ((flags & FRESERVED) != 0)
            throw new BootException(name, "gzip header has reserved flag bits set (0x%02x)".formatted(flags));
        int p = pos + 10;
        if ((flags & FEXTRA) != 0) {
            if (in.length - p < 2) throw new BootException(name, "gzip header is truncated (FEXTRA)");
            p += 2 + ((in[p] & 0xff) | (in[p + 1] & 0xff) << 8);
        }
        if ((flags & FNAME) != 0) p = skipZeroTerminated(name, in, p, "FNAME");
        if ((flags & FCOMMENT) != 0) p = skipZeroTerminated(name, in, p, "FCOMMENT");
        if ((flags & FHCRC) != 0) p += 2;
        if (p > in.length) throw new BootException(name, "gzip header is truncated");
        return p;
    }

    private static int skipZeroTerminated(String name, byte[] in, int p, String field) throws BootException {
        while (p < in.length && in[p] != 0) p++;
        if (p >= in.length) throw new BootException(name, "gzip header is truncated (" + field + ")");
        return p + 1;
    }

    private static int le32(byte[] b, int off) {
        return (b[off] & 0xff) | (b[off + 1] & 0xff) << 8 | (b[off + 2] & 0xff) << 16 | (b[off + 3] & 0xff) << 24;
    }
}
