package dev.jvmm.core.boot;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * An initial RAM disk (initramfs cpio, possibly compressed; the kernel unpacks it, so its content is not
 * inspected here). An empty initrd is an error: the kernel would silently boot without one.
 *
 * <p>Its size is known up front (the loader plans the layout from it) and its bytes are copied straight to their
 * place in guest RAM, with no intermediate buffer. The file is read, not mapped: mapping a file on the emulated
 * host's rootfs failed intermittently with EINVAL, and a read works on every file system.
 */
public final class Initrd {
    private final String name;
    private final long size;
    private final MemorySegment bytes; // in-memory initrds
    private final Path file; // file-backed initrds

    private Initrd(String name, long size, MemorySegment bytes, Path file) {
        this.name = name;
        this.size = size;
        this.bytes = bytes;
        this.file = file;
    }

    /** An initrd from bytes in memory; {@code name} is used in error messages. */
    public static Initrd of(String name, byte[] bytes) throws BootException {
        if (bytes.length == 0) throw new BootException(name, "initrd is empty");
        return new Initrd(
                name, bytes.length, MemorySegment.ofArray(bytes.clone()).asReadOnly(), null);
    }

    /** An initrd file, checked to exist and be non-empty; read only by {@link #copyTo}. */
    public static Initrd open(Path file) throws BootException {
        String name = file.toString();
        long size;
        try {
            size = Files.size(file);
        } catch (IOException e) {
            throw new BootException(name, "cannot read the initrd: " + e.getMessage(), e);
        }
        if (size == 0) throw new BootException(name, "initrd is empty");
        return new Initrd(name, size, null, file);
    }

    public String name() {
        return name;
    }

    public long size() {
        return size;
    }

    /** Copies the whole initrd into {@code dst}, which must be exactly {@link #size()} bytes. */
    public void copyTo(MemorySegment dst) throws BootException {
        if (dst.byteSize() != size) throw new IllegalArgumentException("destination is not the initrd's size");
        if (bytes != null) {
            MemorySegment.copy(bytes, 0, dst, 0, size);
            return;
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long done = 0;
            while (done < size) {
                ByteBuffer chunk =
                        dst.asSlice(done, Math.min(size - done, 1L << 30)).asByteBuffer();
                int n = ch.read(chunk, done);
                if (n < 0) throw new BootException(name, "the initrd shrank while it was loaded");
                done += n;
            }
        } catch (IOException e) {
            throw new BootException(name, "cannot read the initrd: " + e.getMessage(), e);
        }
    }
}
