package dev.jvmm.core.virtio.blk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link FileBackend} on temp files: locking, sizes, holes, the write-zeroes fallbacks. */
class FileBackendTest {
    @TempDir
    Path dir;

    @AutoClose
    private final Arena arena = Arena.ofShared();

    private Path image(byte[] content) throws IOException {
        Path p = Files.createTempFile(dir, "img", ".raw");
        Files.write(p, content);
        return p;
    }

    private static byte[] pattern(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) (i * 5 + 3);
        return b;
    }

    @Test
    void opensWithTheFileNameAsId() throws Exception {
        Path p = image(new byte[4096]);
        try (FileBackend b = FileBackend.open(p, false)) {
            assertEquals(p.getFileName().toString(), b.id());
            assertEquals(4096, b.size());
            assertFalse(b.readOnly());
            assertTrue(b.supportsWriteZeroes());
        }
        try (FileBackend b = FileBackend.open(p, true, "ro")) {
            assertEquals("ro", b.id());
            assertTrue(b.readOnly());
            assertFalse(b.supportsDiscard());
            assertFalse(b.supportsWriteZeroes());
            b.flush(); // nothing to do
            assertThrows(IOException.class, () -> b.write(List.of(arena.allocate(512)), 0));
        }
    }

    /** A writable image is locked exclusively, a read-only one shared: readers coexist, a writer does not. */
    @Test
    void locksKeepWritersApart() throws Exception {
        Path p = image(new byte[4096]);
        try (FileBackend w = FileBackend.open(p, false)) {
            IOException e = assertThrows(IOException.class, () -> FileBackend.open(p, false));
            assertTrue(e.getMessage().contains("in use"), e.getMessage());
            assertThrows(IOException.class, () -> FileBackend.open(p, true));
        }
        try (FileBackend r1 = FileBackend.open(p, true);
                FileBackend r2 = FileBackend.open(p, true)) {
            IOException e = assertThrows(IOException.class, () -> FileBackend.open(p, false));
            assertTrue(e.getMessage().contains("in use"), e.getMessage());
        }
        FileBackend.open(p, false).close(); // free again
    }

    @Test
    void directoriesAndMissingFilesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> FileBackend.open(dir, true));
        assertThrows(IOException.class, () -> FileBackend.open(dir.resolve("missing.img"), false));
    }

    /** A file that shrank under the disk reads as zeroes past its new end. */
    @Test
    void readsPastTheEndOfAShrunkFileAreZeroes() throws Exception {
        byte[] content = pattern(8192);
        Path p = image(content);
        try (FileBackend b = FileBackend.open(p, false)) {
            try (RandomAccessFile raf = new RandomAccessFile(p.toFile(), "rw")) {
                raf.setLength(5000);
            }
            MemorySegment a = arena.allocate(4096);
            MemorySegment c = arena.allocate(2048);
            a.fill((byte) 0x55);
            c.fill((byte) 0x55);
            b.read(List.of(a, c), 2048);
            byte[] expected = new byte[6144];
            System.arraycopy(content, 2048, expected, 0, 5000 - 2048);
            assertArrayEquals(Arrays.copyOfRange(expected, 0, 4096), a.toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(Arrays.copyOfRange(expected, 4096, 6144), c.toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void writeZeroesWithAndWithoutUnmap() throws Exception {
        byte[] content = pattern(1 << 16);
        Path p = image(content);
        try (FileBackend b = FileBackend.open(p, false)) {
            b.writeZeroes(4096, 8192, true);
            b.writeZeroes(20000, 3000, false);
            b.discard(40960, 4096);
            b.flush();
        }
        byte[] expected = content.clone();
        Arrays.fill(expected, 4096, 4096 + 8192, (byte) 0);
        Arrays.fill(expected, 20000, 23000, (byte) 0);
        Arrays.fill(expected, 40960, 40960 + 4096, (byte) 0);
        assertArrayEquals(expected, Files.readAllBytes(p));
        assertEquals(content.length, Files.size(p));
    }

    /** tmpfs has holes but no ZERO_RANGE: write zeroes falls back to writing zeroes, once refused never asked again. */
    @Test
    void writeZeroesFallsBackToWritingZeroes() throws Exception {
        Path shm = Path.of("/dev/shm");
        Assumptions.assumeTrue(Files.isDirectory(shm) && Files.isWritable(shm), "no writable /dev/shm");
        Assumptions.assumeTrue("tmpfs".equals(Files.getFileStore(shm).type()), "/dev/shm is not tmpfs");
        Path p = Files.createTempFile(shm, "jvmm-blk", ".img");
        try {
            int size = 3 * FileBackend.ZERO_CHUNK;
            byte[] content = pattern(size);
            Files.write(p, content);
            try (FileBackend b = FileBackend.open(p, false)) {
                assertTrue(b.supportsDiscard(), "tmpfs punches holes");
                b.writeZeroes(512, FileBackend.ZERO_CHUNK + 4096, false);
                assertFalse(b.usesZeroRange());
                b.writeZeroes(size - 1024, 1024, false);
                b.flush();
            }
            byte[] expected = content.clone();
            Arrays.fill(expected, 512, 512 + FileBackend.ZERO_CHUNK + 4096, (byte) 0);
            Arrays.fill(expected, size - 1024, size, (byte) 0);
            assertArrayEquals(expected, Files.readAllBytes(p));
        } finally {
            Files.deleteIfExists(p);
        }
    }

    @Test
    void writesAreVisibleToOtherReaders() throws Exception {
        Path p = image(new byte[8192]);
        byte[] data = pattern(1024);
        try (FileBackend b = FileBackend.open(p, false)) {
            MemorySegment s1 = arena.allocate(300);
            MemorySegment s2 = arena.allocate(724);
            MemorySegment.copy(data, 0, s1, ValueLayout.JAVA_BYTE, 0, 300);
            MemorySegment.copy(data, 300, s2, ValueLayout.JAVA_BYTE, 0, 724);
            b.write(List.of(s1, s2), 1536);
            b.flush();
        }
        assertArrayEquals(data, Arrays.copyOfRange(Files.readAllBytes(p), 1536, 2560));
    }
}
