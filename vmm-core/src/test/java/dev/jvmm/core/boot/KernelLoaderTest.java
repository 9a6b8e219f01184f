package dev.jvmm.core.boot;

import static dev.jvmm.core.boot.TestImages.modern;
import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.core.arch.aarch64.Aarch64DeviceTree;
import dev.jvmm.core.arch.aarch64.MemoryMap;
import dev.jvmm.core.fdt.Dtc;
import dev.jvmm.core.fdt.Dts;
import dev.jvmm.core.fdt.FdtBuilder;
import dev.jvmm.core.memory.GuestMemory;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KernelLoaderTest {
    private static final long RAM = 0x4000_0000L;
    private static final long MiB = 1 << 20;

    private static byte[] tinyDtb(String cmdline, InitrdRange initrd) {
        return new FdtBuilder()
                .beginNode("")
                .propertyString("bootargs", cmdline)
                .endNode()
                .finish();
    }

    @Test
    void layoutOfAModernKernelWithInitrd() throws BootException {
        Aarch64Image k = Aarch64Image.parse("Image", modern(0, 0x2A0_0000L, 4096)); // 42 MiB footprint
        Initrd initrd = Initrd.of("initrd", new byte[3 * 4096 + 5]);
        BootLayout l = BootLayout.plan(RAM, 256 * MiB, k, initrd);
        assertEquals(RAM, l.kernelBase());
        assertEquals(RAM, l.kernelLoad());
        assertEquals(RAM, l.entryPoint());
        assertEquals(RAM + 0x2A0_0000L, l.kernelEnd());
        assertEquals(RAM + 42 * MiB, l.initrd().start(), "2 MiB-aligned right after the footprint");
        assertEquals(l.initrd().start() + initrd.size(), l.initrd().end());
        assertEquals(RAM + 44 * MiB, l.dtbAddress(), "own 2 MiB block after the initrd");
        assertEquals(l.dtbAddress(), l.x0());
        assertEquals(0, l.dtbAddress() % 8);
        assertEquals(0, l.initrd().start() % 4096, "page-aligned");
    }

    @Test
    void textOffsetIsAddedToThe2MiBBase() throws BootException {
        Aarch64Image k = Aarch64Image.parse("Image", modern(0x80000, 0x100_0000L, 4096));
        BootLayout l = BootLayout.plan(RAM, 64 * MiB, k, null);
        assertEquals(RAM, l.kernelBase());
        assertEquals(RAM + 0x80000, l.entryPoint());
        assertNull(l.initrd());
        assertEquals(RAM + 18 * MiB, l.dtbAddress(), "0x80000 + 16 MiB footprint -> next 2 MiB block");
    }

    @Test
    void nothingOverlapsAndEverythingIsInRam() throws BootException {
        for (long footprint : new long[] {0x1000, 0x1F_F000, 0x20_0000, 0x123_4567}) {
            for (int initrdSize : new int[] {1, 4096, 2 * (int) MiB + 1}) {
                Aarch64Image k = Aarch64Image.parse("Image", modern(0x80000, footprint, 4096));
                BootLayout l = BootLayout.plan(RAM, 64 * MiB, k, Initrd.of("i", new byte[initrdSize]));
                assertTrue(l.kernelEnd() <= l.initrd().start());
                assertTrue(l.initrd().end() <= l.dtbAddress());
                assertTrue(l.dtbAddress() + BootLayout.DTB_MAX_SIZE <= RAM + 64 * MiB);
                assertEquals(0, l.dtbAddress() % (2 * MiB));
            }
        }
    }

    @Test
    void kernelThatDoesNotFitNamesTheKernel() throws BootException {
        Aarch64Image k = Aarch64Image.parse("big/Image", modern(0, 100 * MiB, 4096));
        BootException e = assertThrows(BootException.class, () -> BootLayout.plan(RAM, 64 * MiB, k, null));
        assertTrue(e.getMessage().startsWith("big/Image: kernel needs"), e.getMessage());
        Aarch64Image hugeOffset = Aarch64Image.parse("odd/Image", modern(0xffff_ffff_ffff_0000L, 0x1000, 4096));
        assertThrows(BootException.class, () -> BootLayout.plan(RAM, 64 * MiB, hugeOffset, null));
    }

    @Test
    void initrdThatDoesNotFitNamesTheInitrd() throws BootException {
        Aarch64Image k = Aarch64Image.parse("Image", modern(0, 30 * MiB, 4096));
        BootException e = assertThrows(
                BootException.class,
                () -> BootLayout.plan(RAM, 64 * MiB, k, Initrd.of("root.cpio", new byte[(int) (40 * MiB)])));
        assertTrue(e.getMessage().startsWith("root.cpio: initrd of"), e.getMessage());
        // Fits, but leaves no 2 MiB block for the DTB.
        BootException noDtb = assertThrows(
                BootException.class,
                () -> BootLayout.plan(RAM, 64 * MiB, k, Initrd.of("root.cpio", new byte[(int) (33 * MiB)])));
        assertTrue(noDtb.getMessage().contains("devicetree"), noDtb.getMessage());
    }

    /** booting.rst §4: kernel and initrd within one 1 GiB-aligned window of at most 32 GiB. */
    @Test
    void initrdBeyondThe32GiBWindowIsRejected(@TempDir Path dir) throws Exception {
        Path sparse = dir.resolve("huge.cpio");
        try (RandomAccessFile f = new RandomAccessFile(sparse.toFile(), "rw")) {
            f.setLength(33L << 30); // sparse: no disk space used
        }
        Initrd huge = Initrd.open(sparse);
        Aarch64Image k = Aarch64Image.parse("Image", modern(0, 16 * MiB, 4096));
        BootException e = assertThrows(BootException.class, () -> BootLayout.plan(RAM, 64L << 30, k, huge));
        assertTrue(e.getMessage().contains("32 GiB"), e.getMessage());
    }

    @Test
    void aFileInitrdIsCopiedIntoGuestRamByteForByte(@TempDir Path dir) throws Exception {
        byte[] content = new byte[3 * 4096 + 17];
        new java.util.Random(7).nextBytes(content);
        Path file = java.nio.file.Files.write(dir.resolve("initrd.cpio"), content);
        Initrd initrd = Initrd.open(file);
        assertEquals(content.length, initrd.size());
        try (Arena arena = Arena.ofConfined()) {
            var dst = arena.allocate(content.length);
            initrd.copyTo(dst);
            org.junit.jupiter.api.Assertions.assertArrayEquals(
                    content, dst.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void emptyInitrdIsAnError(@TempDir Path dir) throws Exception {
        BootException e = assertThrows(BootException.class, () -> Initrd.of("empty.cpio", new byte[0]));
        assertEquals("empty.cpio: initrd is empty", e.getMessage());
        Path empty = java.nio.file.Files.createFile(dir.resolve("empty"));
        assertEquals(
                empty + ": initrd is empty",
                assertThrows(BootException.class, () -> Initrd.open(empty)).getMessage());
        assertThrows(BootException.class, () -> Initrd.open(dir.resolve("missing")));
    }

    @Test
    void commandLineLimitIsCommandLineSizeIncludingTheNul() {
        assertDoesNotThrow(() -> KernelLoader.checkCmdline("x".repeat(2047)));
        BootException e = assertThrows(BootException.class, () -> KernelLoader.checkCmdline("x".repeat(2048)));
        assertTrue(e.getMessage().startsWith("kernel command line: is 2048 bytes"), e.getMessage());
        // Bytes, not chars: 1024 two-byte characters are 2048 bytes.
        assertThrows(BootException.class, () -> KernelLoader.checkCmdline("\u00e9".repeat(1024)));
        assertThrows(BootException.class, () -> KernelLoader.checkCmdline("a\0b"));
    }

    @Test
    void loadCopiesEverythingIntoGuestRam() throws BootException {
        byte[] kernelBytes = modern(0x80000, 8 * MiB, 100_000);
        byte[] initrdBytes = new byte[70_000];
        for (int i = 0; i < initrdBytes.length; i++) initrdBytes[i] = (byte) (i ^ 0x5a);
        AtomicReference<InitrdRange> seen = new AtomicReference<>();
        try (Arena arena = Arena.ofConfined()) {
            GuestMemory ram = new GuestMemory(RAM, arena.allocate(64 * MiB, 4096));
            byte[][] dtb = new byte[1][];
            BootLayout l = KernelLoader.load(
                    ram,
                    Aarch64Image.parse("Image", kernelBytes),
                    Initrd.of("initrd", initrdBytes),
                    "console=ttyAMA0",
                    (cmdline, initrd) -> {
                        seen.set(initrd);
                        return dtb[0] = tinyDtb(cmdline, initrd);
                    });
            assertEquals(l.initrd(), seen.get());
            assertArrayEquals(kernelBytes, ram.read(l.kernelLoad(), kernelBytes.length));
            assertArrayEquals(initrdBytes, ram.read(l.initrd().start(), initrdBytes.length));
            assertArrayEquals(dtb[0], ram.read(l.dtbAddress(), dtb[0].length));
            assertEquals(0, ram.backing().get(ValueLayout.JAVA_BYTE, 0), "nothing below the text_offset");
        }
    }

    @Test
    void badDtbsFromTheFactoryAreRejected() throws BootException {
        Aarch64Image k = Aarch64Image.parse("Image", modern(0, MiB, 4096));
        try (Arena arena = Arena.ofConfined()) {
            GuestMemory ram = new GuestMemory(RAM, arena.allocate(64 * MiB, 4096));
            BootException big = assertThrows(
                    BootException.class,
                    () -> KernelLoader.load(ram, k, null, "", (c, i) -> {
                        byte[] b = Arrays.copyOf(tinyDtb(c, i), (int) (2 * MiB) + 1);
                        return b;
                    }));
            assertTrue(big.getMessage().contains("2 MiB"), big.getMessage());
            assertThrows(BootException.class, () -> KernelLoader.load(ram, k, null, "", (c, i) -> new byte[64]));
            assertThrows(
                    BootException.class,
                    () -> KernelLoader.load(ram, k, null, "x".repeat(3000), KernelLoaderTest::tinyDtb));
        }
    }

    /** The machine's real device tree, read back from guest RAM, points at the initrd where the loader put it. */
    @Test
    void machineDeviceTreeDescribesTheLoadedInitrd() throws Exception {
        MemoryMap map = MemoryMap.create(2, 128 * MiB, 40);
        try (Arena arena = Arena.ofConfined()) {
            GuestMemory ram =
                    new GuestMemory(map.ram().base(), arena.allocate(map.ram().size(), 4096));
            BootLayout l = KernelLoader.load(
                    ram,
                    Aarch64Image.parse("Image", modern(0, 20 * MiB, 8192)),
                    Initrd.of("initrd", new byte[12345]),
                    "console=ttyAMA0 panic=-1",
                    (cmdline, initrd) -> Aarch64DeviceTree.build(new Aarch64DeviceTree.Config(
                            map, cmdline, initrd, Aarch64DeviceTree.MsiController.ITS, true)));
            int size = Integer.reverseBytes(ram.readIntLE(l.dtbAddress() + 4)); // totalsize, big-endian
            Dts dts = Dts.parse(Dtc.decompile(ram.read(l.dtbAddress(), size)).stdout());
            assertArrayEquals(new long[] {0, l.initrd().start()}, Dts.cells(dts.get("/chosen", "linux,initrd-start")));
            assertArrayEquals(
                    new long[] {0, l.initrd().start() + 12345}, Dts.cells(dts.get("/chosen", "linux,initrd-end")));
            assertEquals("\"console=ttyAMA0 panic=-1\"", dts.get("/chosen", "bootargs"));
        }
    }
}
