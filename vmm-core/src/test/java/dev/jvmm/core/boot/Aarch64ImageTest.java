package dev.jvmm.core.boot;

import static dev.jvmm.core.boot.TestImages.*;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class Aarch64ImageTest {
    private static BootException fails(byte[] file) {
        BootException e = assertThrows(BootException.class, () -> Aarch64Image.parse("test/Image", file));
        assertTrue(e.getMessage().startsWith("test/Image: "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e;
    }

    @Test
    void parsesTheHeaderFields() throws BootException {
        byte[] file = modern(0, 0x1_2340_0000L >>> 8, 4096);
        Aarch64Image img = Aarch64Image.parse("Image", file);
        assertEquals(0, img.textOffset());
        assertEquals(0x1_2340_0000L >>> 8, img.imageSize());
        assertEquals(Aarch64Image.PageSize.SIZE_4K, img.pageSize());
        assertTrue(img.placeAnywhere());
        assertFalse(img.legacyHeader());
        assertFalse(img.wasGzipped());
        assertEquals(4096, img.size());
        assertEquals(img.imageSize(), img.footprint());
        assertArrayEquals(file, img.bytes().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
    }

    @ParameterizedTest(name = "flags {0} -> {1}, anywhere {2}")
    @CsvSource({
        "0, UNSPECIFIED, false",
        "2, SIZE_4K, false",
        "4, SIZE_16K, false",
        "6, SIZE_64K, false",
        "8, UNSPECIFIED, true",
        "14, SIZE_64K, true",
        "0xfffffffffffffff0, UNSPECIFIED, false"
    })
    void flagsBits1To3(String flags, Aarch64Image.PageSize pageSize, boolean anywhere) throws BootException {
        long f = flags.startsWith("0x") ? Long.parseUnsignedLong(flags.substring(2), 16) : Long.parseLong(flags);
        Aarch64Image img = Aarch64Image.parse("Image", image(0x80000, 0x200000, f, 128));
        assertEquals(pageSize, img.pageSize());
        assertEquals(anywhere, img.placeAnywhere());
        assertEquals(0x80000, img.textOffset());
    }

    @Test
    void gzipImageIsDecompressed() throws BootException {
        byte[] raw = modern(0, 0x40_0000, 300_000);
        Aarch64Image img = Aarch64Image.parse("Image.gz", gzip(raw));
        assertTrue(img.wasGzipped());
        assertEquals(raw.length, img.size());
        assertArrayEquals(raw, img.bytes().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
        assertEquals(0x40_0000, img.imageSize());
    }

    @Test
    void concatenatedGzipMembersAreOneStream() throws BootException {
        byte[] raw = modern(0, 0x40_0000, 100_000);
        byte[] twoMembers = concat(gzip(Arrays.copyOf(raw, 40_000)), gzip(Arrays.copyOfRange(raw, 40_000, raw.length)));
        assertArrayEquals(
                raw,
                Aarch64Image.parse("Image.gz", twoMembers).bytes().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
    }

    @Test
    void gzipTrailingGarbageIsAnError() {
        byte[] gz = concat(gzip(modern(0, 0x40_0000, 4096)), new byte[] {0, 0, 0, 0, 'x'});
        assertTrue(fails(gz).getMessage().contains("5 bytes of trailing data"));
    }

    @Test
    void truncatedGzipIsAnError() {
        byte[] gz = gzip(modern(0, 0x40_0000, 50_000));
        assertTrue(fails(Arrays.copyOf(gz, gz.length / 2)).getMessage().contains("truncated"));
        assertTrue(fails(Arrays.copyOf(gz, gz.length - 4)).getMessage().contains("truncated"), "trailer cut");
        assertTrue(fails(Arrays.copyOf(gz, 5)).getMessage().contains("truncated"), "header cut");
    }

    @Test
    void gzipCrcMismatchIsAnError() {
        byte[] gz = gzip(modern(0, 0x40_0000, 4096));
        gz[gz.length - 8] ^= 1; // CRC32 field (RFC 1952 §2.3.1)
        assertTrue(fails(gz).getMessage().contains("CRC32 mismatch"));
    }

    @Test
    void corruptDeflateDataIsAnError() {
        byte[] gz = gzip(modern(0, 0x40_0000, 4096));
        for (int i = 10; i < 20; i++) gz[i] = (byte) 0xff;
        fails(gz);
    }

    @Test
    void zipBombHitsTheSizeCap() {
        byte[] bomb = gzip(modern(0, 0x40_0000, 3 << 20)); // 3 MiB, compresses to a few KiB
        assertTrue(bomb.length < 200_000);
        BootException e = assertThrows(BootException.class, () -> Aarch64Image.parse("bomb.gz", bomb, 1 << 20));
        assertTrue(e.getMessage().contains("more than 1 MiB"), e.getMessage());
    }

    @Test
    void tooShortFilesAreRejected() {
        assertTrue(fails(new byte[0]).getMessage().contains("too short"));
        assertTrue(fails(Arrays.copyOf(modern(0, 0x1000, 64), 63)).getMessage().contains("63 bytes"));
        assertTrue(fails(gzip(new byte[10])).getMessage().contains("decompressed image is 10 bytes"));
    }

    @Test
    void wrongMagicIsRejectedWithAHint() {
        byte[] noMagic = modern(0, 0x1000, 128);
        noMagic[0x3b] = 0x65;
        assertTrue(fails(noMagic).getMessage().contains("no \"ARM\\x64\" magic"));
        byte[] elf = new byte[128];
        elf[0] = 0x7f;
        elf[1] = 'E';
        elf[2] = 'L';
        elf[3] = 'F';
        assertTrue(fails(elf).getMessage().contains("ELF"));
        byte[] zboot = new byte[128];
        zboot[0] = 'M';
        zboot[1] = 'Z';
        zboot[4] = 'z';
        zboot[5] = 'i';
        zboot[6] = 'm';
        zboot[7] = 'g';
        assertTrue(fails(zboot).getMessage().contains("zboot"));
    }

    @Test
    void bigEndianKernelIsRejected() {
        assertTrue(fails(image(0, 0x200000, 1, 128)).getMessage().contains("big-endian"));
    }

    /** image_size is unsigned: 2^63 and up must not be read as negative and vanish in the footprint. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(longs = {0x8000_0000_0000_0000L, -1L, (1L << 40) + 1, 1L << 62})
    void anImageSizeBeyondAnyRamIsRejected(long imageSize) {
        BootException e = fails(image(0, imageSize, 0b1010, 128));
        assertTrue(
                e.getMessage()
                        .contains("image_size (0x" + Long.toHexString(imageSize) + " bytes) is larger than any"
                                + " guest RAM"),
                e.getMessage());
    }

    @Test
    void theLargestPlausibleImageSizeIsAccepted() throws BootException {
        assertEquals(
                1L << 40,
                Aarch64Image.parse("Image", image(0, 1L << 40, 0b1010, 128)).footprint());
    }

    /** booting.rst: image_size 0 means a pre-3.17 kernel; text_offset is then 0x80000 whatever the field says. */
    @Test
    void pre317HeaderUsesTheDefaultTextOffset() throws BootException {
        // A big-endian-era header: text_offset 0x80000 stored big-endian reads as 0x0000080000000000 little-endian.
        byte[] file = image(0x0000_0800_0000_0000L, 0, 1, 3 << 20);
        Aarch64Image img = Aarch64Image.parse("Image", file);
        assertTrue(img.legacyHeader());
        assertEquals(0x80000, img.textOffset());
        assertEquals(Aarch64Image.PageSize.UNSPECIFIED, img.pageSize());
        assertTrue(img.footprint() >= file.length + (1 << 20), "BSS allowance beyond the file: " + img.footprint());
    }

    @Test
    void fileLongerThanImageSizeKeepsTheWholeFile() throws BootException {
        Aarch64Image img = Aarch64Image.parse("Image", modern(0, 0x1000, 0x3000));
        assertEquals(0x3000, img.footprint());
    }

    @Test
    void loadReadsFilesAndNamesThemInErrors(@TempDir Path dir) throws Exception {
        Path ok = dir.resolve("Image.gz");
        byte[] raw = modern(0, 0x40_0000, 8192);
        Files.write(ok, gzip(raw));
        assertEquals(8192, Aarch64Image.load(ok).size());

        Path missing = dir.resolve("nope");
        BootException e = assertThrows(BootException.class, () -> Aarch64Image.load(missing));
        assertTrue(e.getMessage().startsWith(missing + ": cannot read"), e.getMessage());

        Path big = dir.resolve("big");
        Files.write(big, modern(0, 0x40_0000, 2 << 20));
        BootException tooBig = assertThrows(BootException.class, () -> Aarch64Image.load(big, 1 << 20));
        assertTrue(tooBig.getMessage().contains("more than the 1 MiB limit"), tooBig.getMessage());
    }
}
