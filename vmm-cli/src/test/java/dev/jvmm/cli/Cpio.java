package dev.jvmm.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes a small cpio archive in the "newc" format the kernel's initramfs unpacker reads
 * (Documentation/driver-api/early-userspace/buffer-format.rst), and appends it to an initramfs: the kernel unpacks
 * concatenated archives in turn, compressed or not, as long as each one starts at a multiple of 4 bytes (zero bytes
 * between archives are skipped). That is how a test puts its {@code /jvmm.d/NN-name.sh} into the test guest
 * (tools/guest/init runs them) without rebuilding the guest.
 */
final class Cpio {
    private static final int S_IFREG = 0100000, S_IFDIR = 0040000;

    private final Map<String, byte[]> files = new LinkedHashMap<>();
    private final Map<String, Integer> modes = new LinkedHashMap<>();

    /** A directory entry (its parents must come first, as in any cpio archive). */
    Cpio directory(String path) {
        files.put(path, null);
        modes.put(path, S_IFDIR | 0755);
        return this;
    }

    /** A regular file with permission bits {@code permissions}, e.g. 0755, holding {@code content} in UTF-8. */
    Cpio file(String path, int permissions, String content) {
        return file(path, permissions, content.getBytes(StandardCharsets.UTF_8));
    }

    /** A regular file with permission bits {@code permissions} and binary content. */
    Cpio file(String path, int permissions, byte[] content) {
        files.put(path, content.clone());
        modes.put(path, S_IFREG | permissions);
        return this;
    }

    byte[] toBytes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int ino = 1;
        for (var e : files.entrySet()) entry(out, ino++, e.getKey(), modes.get(e.getKey()), e.getValue());
        entry(out, 0, "TRAILER!!!", 0, null);
        return out.toByteArray();
    }

    /** {@code initramfs} followed by zero padding to a multiple of 4 and this archive, written to {@code target}. */
    Path appendTo(Path initramfs, Path target) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(Files.readAllBytes(initramfs));
        while (out.size() % 4 != 0) out.write(0);
        out.writeBytes(toBytes());
        return Files.write(target, out.toByteArray());
    }

    /** One newc entry: "070701", 13 fields of 8 hex digits, the NUL-terminated name, data; each padded to 4 bytes. */
    private static void entry(ByteArrayOutputStream out, int ino, String name, int mode, byte[] data) {
        byte[] nameBytes = (name + "\0").getBytes(StandardCharsets.US_ASCII);
        int size = data == null ? 0 : data.length;
        int nlink = (mode & S_IFDIR) != 0 ? 2 : 1;
        String header = "070701" + hex(ino) + hex(mode) + hex(0) + hex(0) + hex(mode == 0 ? 1 : nlink) + hex(0)
                + hex(size) + hex(0) + hex(0) + hex(0) + hex(0) + hex(nameBytes.length) + hex(0);
        out.writeBytes(header.getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(nameBytes);
        pad(out);
        if (data != null) out.writeBytes(data);
        pad(out);
    }

    private static String hex(int v) {
        return "%08x".formatted(v);
    }

    private static void pad(ByteArrayOutputStream out) {
        while (out.size() % 4 != 0) out.write(0);
    }
}
