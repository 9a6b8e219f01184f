package dev.jvmm.core.boot;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * An initial RAM disk (initramfs cpio, possibly compressed; the kernel unpacks it, so its content is not
 * inspected here). An empty initrd is an error: the kernel would silently boot without one.
 */
public final class Initrd {
    private final String name;
    private final MemorySegment data;

    private Initrd(String name, MemorySegment data) {
        this.name = name;
        this.data = data;
    }

    /** An initrd from bytes in memory; {@code name} is used in error messages. */
    public static Initrd of(String name, byte[] bytes) throws BootException {
        if (bytes.length == 0) throw new BootException(name, "initrd is empty");
        return new Initrd(name, MemorySegment.ofArray(bytes.clone()).asReadOnly());
    }

    /**
     * Maps an initrd file read-only into {@code arena} (no copy on the Java heap, so large initrds are fine). The
     * mapping lives as long as the arena; it is only needed until the loader has copied it into guest RAM.
     */
    public static Initrd map(Path file, Arena arena) throws BootException {
        String name = file.toString();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size == 0) throw new BootException(name, "initrd is empty");
            return new Initrd(name, ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena));
        } catch (IOException e) {
            throw new BootException(name, "cannot read the initrd: " + e, e);
        }
    }

    public String name() { return name; }

    public long size() { return data.byteSize(); }

    /** The initrd's bytes, read-only. */
    public MemorySegment data() { return data; }
}
