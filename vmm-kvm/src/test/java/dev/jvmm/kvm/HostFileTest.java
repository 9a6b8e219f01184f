package dev.jvmm.kvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link HostFile} on temporary files (no KVM needed), and its libc numbers and struct stat layout vs the C compilers. */
class HostFileTest {
    @TempDir
    Path dir;

    @AutoClose
    private final Arena arena = Arena.ofShared();

    private static byte[] pattern(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) (i * 7 + seed + (i >>> 9));
        return b;
    }

    private Path file(byte[] content) throws IOException {
        Path p = Files.createTempFile(dir, "disk", ".img");
        Files.write(p, content);
        return p;
    }

    private MemorySegment native_(byte[] content) {
        MemorySegment s = arena.allocate(Math.max(1, content.length), 8).asSlice(0, content.length);
        MemorySegment.copy(content, 0, s, ValueLayout.JAVA_BYTE, 0, content.length);
        return s;
    }

    @Test
    void opensAFileAndReportsItsSize() throws Exception {
        Path p = file(pattern(12345, 1));
        try (HostFile f = HostFile.open(p, true)) {
            assertEquals(12345, f.size());
            assertTrue(f.isReadOnly());
            assertFalse(f.isBlockDevice());
            assertEquals(p.toString(), f.path());
        }
    }

    @Test
    void aCachedReadReturnsThePageCachesBytesWithoutWaiting() throws Exception {
        byte[] content = pattern(3 * 4096, 7);
        Path p = file(content); // just written: in the page cache
        try (HostFile f = HostFile.open(p, true)) {
            MemorySegment a = arena.allocate(4096), b = arena.allocate(8192);
            long got = f.preadCached(java.util.List.of(a, b), 0);
            org.junit.jupiter.api.Assumptions.assumeTrue(got != -1, "this file system does not do RWF_NOWAIT");
            assertEquals(3 * 4096, got);
            assertArrayEquals(java.util.Arrays.copyOfRange(content, 0, 4096), a.toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(java.util.Arrays.copyOfRange(content, 4096, 3 * 4096), b.toArray(ValueLayout.JAVA_BYTE));
            assertEquals(4096, f.preadCached(java.util.List.of(b), 2 * 4096), "short at the end of the file");
        }
    }

    @Test
    void aMissingFileIsAnErrno() {
        ErrnoException e = assertThrows(ErrnoException.class, () -> HostFile.open(dir.resolve("nope"), false));
        assertTrue(e.is(Errno.ENOENT), e.getMessage());
        assertTrue(e.getMessage().contains("nope"), e.getMessage());
    }

    /** O_RDONLY opens a directory (fstat catches it), O_RDWR fails with EISDIR: both say "directory". */
    @Test
    void refusesDirectories() {
        for (boolean ro : new boolean[] {true, false}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HostFile.open(dir, ro));
            assertTrue(e.getMessage().contains("is a directory"), e.getMessage());
        }
    }

    @Test
    void refusesCharacterDevices() {
        Path devNull = Path.of("/dev/null");
        Assumptions.assumeTrue(Files.isReadable(devNull));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HostFile.open(devNull, true));
        assertTrue(e.getMessage().contains("neither a regular file nor a block device"), e.getMessage());
    }

    @Test
    void preadReadsStraightIntoNativeMemory() throws Exception {
        byte[] content = pattern(64 * 1024, 3);
        try (HostFile f = HostFile.open(file(content), true)) {
            MemorySegment dst = arena.allocate(4096);
            assertEquals(4096, f.pread(dst, 8192));
            assertArrayEquals(Arrays.copyOfRange(content, 8192, 8192 + 4096), dst.toArray(ValueLayout.JAVA_BYTE));
        }
    }

    /** A read that crosses the end of the file returns what there was and leaves the rest of the buffer alone. */
    @Test
    void preadPastTheEndReturnsWhatItGot() throws Exception {
        byte[] content = pattern(1000, 5);
        try (HostFile f = HostFile.open(file(content), true)) {
            MemorySegment dst = arena.allocate(512);
            dst.fill((byte) 0x5A);
            assertEquals(488, f.pread(dst, 512));
            assertArrayEquals(
                    Arrays.copyOfRange(content, 512, 1000), dst.asSlice(0, 488).toArray(ValueLayout.JAVA_BYTE));
            assertEquals((byte) 0x5A, dst.get(ValueLayout.JAVA_BYTE, 488));
            assertEquals(0, f.pread(dst, 4096), "entirely past the end");
        }
    }

    @Test
    void pwriteThenReadBack() throws Exception {
        Path p = file(new byte[8192]);
        byte[] data = pattern(3000, 9);
        try (HostFile f = HostFile.open(p, false)) {
            f.pwrite(native_(data), 1000);
            f.fdatasync();
            MemorySegment back = arena.allocate(3000);
            assertEquals(3000, f.pread(back, 1000));
            assertArrayEquals(data, back.toArray(ValueLayout.JAVA_BYTE));
        }
        byte[] onDisk = Files.readAllBytes(p);
        assertArrayEquals(data, Arrays.copyOfRange(onDisk, 1000, 4000));
        assertEquals(0, onDisk[999]);
        assertEquals(0, onDisk[4000]);
    }

    @Test
    void writingAReadOnlyFileIsEbadf() throws Exception {
        Path p = file(new byte[512]);
        try (HostFile f = HostFile.open(p, true)) {
            ErrnoException e = assertThrows(ErrnoException.class, () -> f.pwrite(native_(new byte[] {1}), 0));
            assertTrue(e.is(Errno.EBADF), e.getMessage());
        }
    }

    /** preadv/pwritev over many segments of odd sizes, including empty ones and more than IOV_MAX of them. */
    @Test
    void vectoredIoOverManySegments() throws Exception {
        int n = HostFile.IOV_MAX + 500;
        List<MemorySegment> segs = new ArrayList<>();
        long total = 0;
        for (int i = 0; i < n; i++) {
            int len = i % 17 == 0 ? 0 : 1 + i % 13;
            segs.add(arena.allocate(Math.max(len, 1)).asSlice(0, len));
            total += len;
        }
        byte[] data = pattern((int) total, 11);
        long at = 0;
        for (MemorySegment s : segs) {
            MemorySegment.copy(data, (int) at, s, ValueLayout.JAVA_BYTE, 0, (int) s.byteSize());
            at += s.byteSize();
        }
        Path p = file(new byte[0]);
        try (HostFile f = HostFile.open(p, false)) {
            f.pwritev(segs, 100);
            assertEquals(100 + total, f.size());
            for (MemorySegment s : segs) s.fill((byte) 0);
            assertEquals(total, f.preadv(segs, 100));
        }
        at = 0;
        for (MemorySegment s : segs) {
            assertArrayEquals(
                    Arrays.copyOfRange(data, (int) at, (int) (at + s.byteSize())), s.toArray(ValueLayout.JAVA_BYTE));
            at += s.byteSize();
        }
        assertArrayEquals(data, Arrays.copyOfRange(Files.readAllBytes(p), 100, 100 + (int) total));
    }

    @Test
    void preadvStopsAtTheEndOfTheFile() throws Exception {
        byte[] content = pattern(1500, 13);
        try (HostFile f = HostFile.open(file(content), true)) {
            MemorySegment a = arena.allocate(1000);
            MemorySegment b = arena.allocate(1000);
            b.fill((byte) 0x77);
            assertEquals(1500, f.preadv(List.of(a, b), 0));
            assertArrayEquals(Arrays.copyOfRange(content, 0, 1000), a.toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(
                    Arrays.copyOfRange(content, 1000, 1500), b.asSlice(0, 500).toArray(ValueLayout.JAVA_BYTE));
            assertEquals((byte) 0x77, b.get(ValueLayout.JAVA_BYTE, 500));
        }
    }

    @Test
    void heapSegmentsAreRefused() throws Exception {
        try (HostFile f = HostFile.open(file(new byte[16]), false)) {
            MemorySegment heap = MemorySegment.ofArray(new byte[16]);
            assertThrows(IllegalArgumentException.class, () -> f.pread(heap, 0));
            assertThrows(IllegalArgumentException.class, () -> f.pwritev(List.of(heap), 0));
            assertThrows(
                    IllegalArgumentException.class,
                    () -> f.pread(arena.allocate(8).asReadOnly(), 0));
            assertThrows(IllegalArgumentException.class, () -> f.pread(arena.allocate(8), -1));
        }
    }

    /** PUNCH_HOLE|KEEP_SIZE and ZERO_RANGE make the range read as zeroes and keep the size. */
    @Test
    void fallocateZeroesRanges() throws Exception {
        byte[] content = pattern(64 * 1024, 17);
        Path p = file(content);
        try (HostFile f = HostFile.open(p, false)) {
            try {
                f.fallocate(HostFile.FALLOC_FL_PUNCH_HOLE | HostFile.FALLOC_FL_KEEP_SIZE, 4096, 8192);
                f.fallocate(HostFile.FALLOC_FL_ZERO_RANGE, 20000, 1000);
            } catch (ErrnoException e) {
                Assumptions.assumeFalse(e.is(Errno.EOPNOTSUPP), "the temp file system has no " + e.operation());
                throw e;
            }
            assertEquals(content.length, f.size());
        }
        byte[] expected = content.clone();
        Arrays.fill(expected, 4096, 4096 + 8192, (byte) 0);
        Arrays.fill(expected, 20000, 21000, (byte) 0);
        assertArrayEquals(expected, Files.readAllBytes(p));
    }

    /** tmpfs implements PUNCH_HOLE but not ZERO_RANGE: the errno comes back as EOPNOTSUPP, for a caller to fall back. */
    @Test
    void anUnsupportedFallocateModeIsEopnotsupp() throws Exception {
        Path shm = Path.of("/dev/shm");
        Assumptions.assumeTrue(Files.isDirectory(shm) && Files.isWritable(shm), "no writable /dev/shm");
        Assumptions.assumeTrue("tmpfs".equals(Files.getFileStore(shm).type()), "/dev/shm is not tmpfs");
        Path p = Files.createTempFile(shm, "jvmm-hostfile", ".img");
        try {
            Files.write(p, new byte[8192]);
            try (HostFile f = HostFile.open(p, false)) {
                ErrnoException e =
                        assertThrows(ErrnoException.class, () -> f.fallocate(HostFile.FALLOC_FL_ZERO_RANGE, 0, 4096));
                assertTrue(e.is(Errno.EOPNOTSUPP), e.getMessage());
                f.fallocate(HostFile.FALLOC_FL_PUNCH_HOLE | HostFile.FALLOC_FL_KEEP_SIZE, 0, 4096);
            }
        } finally {
            Files.deleteIfExists(p);
        }
    }

    /** flock locks belong to the open file description: a second open of the same file is refused. */
    @Test
    void exclusiveLockKeepsOthersOut() throws Exception {
        Path p = file(new byte[512]);
        try (HostFile a = HostFile.open(p, false)) {
            assertTrue(a.tryLock());
            assertTrue(a.tryLock(), "taking it again is fine");
            try (HostFile b = HostFile.open(p, false)) {
                assertFalse(b.tryLock());
                assertFalse(b.tryLockShared());
            }
            a.close();
            try (HostFile c = HostFile.open(p, false)) {
                assertTrue(c.tryLock(), "the lock went away with the file");
                c.unlock();
                try (HostFile d = HostFile.open(p, true)) {
                    assertTrue(d.tryLockShared());
                }
            }
        }
    }

    @Test
    void sharedLocksExcludeWriters() throws Exception {
        Path p = file(new byte[512]);
        try (HostFile a = HostFile.open(p, true);
                HostFile b = HostFile.open(p, true);
                HostFile w = HostFile.open(p, false)) {
            assertTrue(a.tryLockShared());
            assertTrue(b.tryLockShared());
            assertFalse(w.tryLock());
        }
    }

    @Test
    void closedFilesRefuseIo() throws Exception {
        HostFile f = HostFile.open(file(new byte[512]), false);
        f.close();
        f.close(); // once
        assertThrows(IllegalStateException.class, f::size);
        assertThrows(IllegalStateException.class, () -> f.pread(arena.allocate(8), 0));
        assertThrows(IllegalStateException.class, f::fdatasync);
    }

    /** BLKGETSIZE64 on a block device this process may read, checked against sysfs (read-only, no data read). */
    @Test
    void blockDeviceSizeComesFromTheKernel() throws Exception {
        Optional<Path[]> dev = readableBlockDevice();
        Assumptions.assumeTrue(dev.isPresent(), "no readable block device");
        long sectors = Long.parseLong(Files.readString(dev.get()[1]).strip());
        try (HostFile f = HostFile.open(dev.get()[0], true)) {
            assertTrue(f.isBlockDevice());
            assertEquals(sectors * 512, f.size());
        }
    }

    /** A /dev node and its sysfs size file, for the first block device we can open. */
    private static Optional<Path[]> readableBlockDevice() throws IOException {
        Path sys = Path.of("/sys/block");
        if (!Files.isDirectory(sys)) return Optional.empty();
        try (Stream<Path> s = Files.list(sys)) {
            for (Path b : s.sorted().toList()) {
                Path node = Path.of("/dev", b.getFileName().toString());
                Path size = b.resolve("size");
                if (Files.isReadable(node) && Files.isReadable(size) && !Files.isDirectory(node)) {
                    try {
                        HostFile.open(node, true).close();
                        return Optional.of(new Path[] {node, size});
                    } catch (ErrnoException | IllegalArgumentException e) {
                        // try the next one
                    }
                }
            }
        }
        return Optional.empty();
    }
}
