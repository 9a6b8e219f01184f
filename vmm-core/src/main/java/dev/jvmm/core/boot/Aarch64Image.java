package dev.jvmm.core.boot;

import dev.jvmm.pcie.util.Sizes;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * An arm64 Linux kernel {@code Image} (or {@code Image.gz}), checked and with its header parsed per
 * Documentation/arch/arm64/booting.rst §4 ("Call the kernel image"):
 *
 * <pre>
 *   0x00 u32 code0        0x04 u32 code1
 *   0x08 u64 text_offset  image load offset, little-endian
 *   0x10 u64 image_size   effective image size (file + BSS + early page tables), little-endian
 *   0x18 u64 flags        bit 0 endianness (0 = LE), bits 1-2 page size (0 unspecified, 1 4K, 2 16K, 3 64K),
 *                         bit 3 physical placement (0 = 2 MiB-aligned base as close as possible to the base of
 *                         DRAM, 1 = anywhere)
 *   0x20..0x37 reserved   0x38 u32 magic "ARM\x64"   0x3c u32 PE header offset
 * </pre>
 *
 * A file starting with the gzip magic (1f 8b) is decompressed first, with a size cap so that a zip bomb is a
 * clear error. Kernels before v3.17 have image_size 0; booting.rst says text_offset is then to be taken as
 * 0x80000 (its endianness was unspecified) and the flags did not exist. Their BSS size is unknown, so the
 * footprint is estimated (file size rounded up to 2 MiB, plus {@link #LEGACY_BSS_ALLOWANCE}).
 */
public final class Aarch64Image {
    /** Largest (decompressed) image accepted: a 2025 distribution kernel Image is ~30-40 MiB. */
    public static final long DEFAULT_MAX_SIZE = 256L << 20;

    static final int HEADER_SIZE = 64;
    /** "ARM\x64" read as a little-endian u32. */
    static final int MAGIC = 0x644d5241;

    static final long LEGACY_TEXT_OFFSET = 0x80000;
    static final long LEGACY_BSS_ALLOWANCE = 16L << 20;
    /** 1 TiB, above jvmm's largest guest RAM (512 GiB): no real kernel comes near, and layout arithmetic stays far from overflow. */
    static final long MAX_IMAGE_SIZE = 1L << 40;

    /** booting.rst flags bits 1-2. */
    public enum PageSize {
        UNSPECIFIED,
        SIZE_4K,
        SIZE_16K,
        SIZE_64K
    }

    private final String name;
    private final byte[] data;
    private final long textOffset;
    private final long imageSize;
    private final long footprint;
    private final PageSize pageSize;
    private final boolean placeAnywhere;
    private final boolean legacy;
    private final boolean gzipped;

    private Aarch64Image(
            String name,
            byte[] data,
            long textOffset,
            long imageSize,
            long footprint,
            PageSize pageSize,
            boolean placeAnywhere,
            boolean legacy,
            boolean gzipped) {
        this.name = name;
        this.data = data;
        this.textOffset = textOffset;
        this.imageSize = imageSize;
        this.footprint = footprint;
        this.pageSize = pageSize;
        this.placeAnywhere = placeAnywhere;
        this.legacy = legacy;
        this.gzipped = gzipped;
    }

    /** Reads and checks a kernel file, decompressing it if it is gzip; at most {@link #DEFAULT_MAX_SIZE}. */
    public static Aarch64Image load(Path file) throws BootException {
        return load(file, DEFAULT_MAX_SIZE);
    }

    /** As {@link #load(Path)} with a different size cap (for the file and for its decompressed content). */
    public static Aarch64Image load(Path file, long maxSize) throws BootException {
        String name = file.toString();
        byte[] bytes;
        try {
            long size = Files.size(file);
            if (size > maxSize)
                throw new BootException(
                        name,
                        "file is %d bytes, more than the %d MiB limit for a kernel image"
                                .formatted(size, maxSize >> 20));
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new BootException(name, "cannot read the kernel: " + e, e);
        }
        return parse(name, bytes, maxSize);
    }

    /** Checks kernel bytes already in memory; {@code name} is used in error messages. */
    public static Aarch64Image parse(String name, byte[] file) throws BootException {
        return parse(name, file, DEFAULT_MAX_SIZE);
    }

    public static Aarch64Image parse(String name, byte[] file, long maxSize) throws BootException {
        boolean gzipped = Gunzip.isGzip(file);
        byte[] data = gzipped ? Gunzip.gunzip(name, file, maxSize) : file;
        String what = gzipped ? "decompressed image" : "file";
        if (data.length < HEADER_SIZE) {
            throw new BootException(
                    name,
                    "%s is %d bytes, too short for the %d-byte arm64 Image header"
                            .formatted(what, data.length, HEADER_SIZE));
        }
        if (le32(data, 0x38) != MAGIC) {
            throw new BootException(name, "not an arm64 Image (no \"ARM\\x64\" magic at offset 0x38)" + hint(data));
        }
        long textOffset = le64(data, 0x08);
        long imageSize = le64(data, 0x10);
        long flags = le64(data, 0x18);
        if (imageSize == 0) {
            // booting.rst: "Where image_size is zero, text_offset can be assumed to be 0x80000."
            long footprint = Sizes.alignUp(data.length, 2L << 20) + LEGACY_BSS_ALLOWANCE;
            return new Aarch64Image(
                    name, data, LEGACY_TEXT_OFFSET, 0, footprint, PageSize.UNSPECIFIED, false, true, gzipped);
        }
        if (Long.compareUnsigned(imageSize, MAX_IMAGE_SIZE) > 0) {
            // An unsigned 64-bit field: 2^63 and up must not turn negative and vanish in the footprint below.
            throw new BootException(
                    name,
                    "the header's image_size (0x%s bytes) is larger than any guest RAM; not a usable kernel"
                            .formatted(Long.toHexString(imageSize)));
        }
        if ((flags & 1) != 0) {
            throw new BootException(
                    name, "big-endian kernel (flags bit 0 set); only little-endian guests are supported");
        }
        PageSize pageSize = PageSize.values()[(int) ((flags >>> 1) & 3)];
        boolean anywhere = (flags & 8) != 0;
        // A signed kernel can carry data beyond image_size; never place anything over the file itself.
        long footprint = Math.max(imageSize, data.length);
        return new Aarch64Image(name, data, textOffset, imageSize, footprint, pageSize, anywhere, false, gzipped);
    }

    private static String hint(byte[] data) {
        if (data[0] == 0x7f && data[1] == 'E' && data[2] == 'L' && data[3] == 'F') {
            return "; this is an ELF file (vmlinux?): use arch/arm64/boot/Image";
        }
        if (data[0] == 'M' && data[1] == 'Z' && data[4] == 'z' && data[5] == 'i' && data[6] == 'm' && data[7] == 'g') {
            return "; this is an EFI zboot image (CONFIG_EFI_ZBOOT), which needs UEFI firmware";
        }
        return "";
    }

    /** The file name (or label) the image came from. */
    public String name() {
        return name;
    }

    /** Bytes to copy into guest RAM (the decompressed image). */
    public long size() {
        return data.length;
    }

    /** A read-only view of the image bytes. */
    public MemorySegment bytes() {
        return MemorySegment.ofArray(data).asReadOnly();
    }

    /** Offset of the image from its 2 MiB-aligned base (0x80000 for a pre-3.17 kernel). */
    public long textOffset() {
        return textOffset;
    }

    /** The header's image_size (0 for a pre-3.17 kernel). */
    public long imageSize() {
        return imageSize;
    }

    /** Bytes from the load address the kernel may use right away: image_size (incl. BSS), or an estimate. */
    public long footprint() {
        return footprint;
    }

    public PageSize pageSize() {
        return pageSize;
    }

    /** Flags bit 3: the 2 MiB-aligned base may be anywhere in RAM (else: as low as possible). */
    public boolean placeAnywhere() {
        return placeAnywhere;
    }

    /** True for a pre-3.17 header (image_size 0). */
    public boolean legacyHeader() {
        return legacy;
    }

    public boolean wasGzipped() {
        return gzipped;
    }

    @Override
    public String toString() {
        return "Aarch64Image[%s, %d bytes%s, text_offset 0x%x, image_size 0x%x, pages %s%s]"
                .formatted(
                        name,
                        data.length,
                        gzipped ? " (gunzipped)" : "",
                        textOffset,
                        imageSize,
                        pageSize,
                        legacy ? ", pre-3.17 header" : "");
    }

    static int le32(byte[] b, int off) {
        return (b[off] & 0xff) | (b[off + 1] & 0xff) << 8 | (b[off + 2] & 0xff) << 16 | (b[off + 3] & 0xff) << 24;
    }

    static long le64(byte[] b, int off) {
        return Integer.toUnsignedLong(le32(b, off)) | (long) le32(b, off + 4) << 32;
    }
}
