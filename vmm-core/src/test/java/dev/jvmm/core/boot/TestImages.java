package dev.jvmm.core.boot;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.GZIPOutputStream;

/** Synthetic arm64 Images built from the header layout in Documentation/arch/arm64/booting.rst §4. */
final class TestImages {
    private TestImages() {}

    /** A header plus {@code length - 64} bytes of a recognisable pattern. */
    static byte[] image(long textOffset, long imageSize, long flags, int length) {
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0x00, 0x91005a4d); // code0: "MZ" + add x13, x18, #0x16 (what EFI-stub kernels have)
        b.putInt(0x04, 0x14000000); // code1: b stext
        b.putLong(0x08, textOffset);
        b.putLong(0x10, imageSize);
        b.putLong(0x18, flags);
        b.put(0x38, (byte) 'A').put(0x39, (byte) 'R').put(0x3a, (byte) 'M').put(0x3b, (byte) 0x64);
        for (int i = 64; i < length; i++) b.put(i, (byte) (i * 31 + 7));
        return b.array();
    }

    /** A modern (>= 3.17) little-endian 4K-page image: flags = LE | 4K pages (bits 1-2 = 1) | place anywhere. */
    static byte[] modern(long textOffset, long imageSize, int length) {
        return image(textOffset, imageSize, 0b1010, length);
    }

    static byte[] gzip(byte[] data) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
                gz.write(data);
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }
}
