package dev.jvmm.core.virtio.blk;

import static dev.jvmm.core.virtio.blk.VirtioBlkSpec.*;
import static dev.jvmm.core.virtio.pci.ModernPciDriver.DRIVER_OK;
import static dev.jvmm.core.virtio.pci.ModernPciDriver.EVENT_IDX;
import static dev.jvmm.core.virtio.pci.ModernPciDriver.VERSION_1;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.virtio.VirtioDeviceType;
import dev.jvmm.core.virtio.VirtioSpec;
import dev.jvmm.core.virtio.pci.DriverRing;
import dev.jvmm.core.virtio.pci.DriverRing.Desc;
import dev.jvmm.core.virtio.pci.ModernPciDriver;
import dev.jvmm.core.virtio.pci.VirtioPciTransport;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * The block device (virtio 1.2 §5.2) behind the PCI transport, driven the way Linux's virtio_blk frames requests
 * (header, data, status in separate descriptors) and some ways it does not; on a real temp file and on a fake
 * backend with knobs. Guest RAM is a shared arena: the device's I/O threads touch it.
 */
class VirtioBlkTest {
    private static final long RAM = 0x8000_0000L;
    private static final long RINGS = RAM + 0x1000; // queue q's ring at RINGS + q * 0x2000
    private static final long BUF = RAM + 0x20000; // headers, data, status bytes from here on
    private static final long ALL = VERSION_1
            | bit(F_SEG_MAX)
            | bit(F_BLK_SIZE)
            | bit(F_FLUSH)
            | bit(F_MQ)
            | bit(F_RO)
            | bit(F_DISCARD)
            | bit(F_WRITE_ZEROES);

    @TempDir
    Path dir;

    private Arena arena;
    private GuestMemory mem;
    private final List<Integer> raised = Collections.synchronizedList(new ArrayList<>());
    private VirtioBlk blk;
    private ModernPciDriver d;
    private long next = BUF;
    private FakeBackend fake;

    private static long bit(int b) {
        return VirtioSpec.bit(b);
    }

    @BeforeEach
    void setUp() {
        arena = Arena.ofShared();
        mem = new GuestMemory(RAM, arena.allocate(8 << 20, 4096));
    }

    @AfterEach
    void tearDown() throws IOException {
        if (blk != null) blk.close();
        if (fake != null) fake.free();
        arena.close();
    }

    // --- driver side ------------------------------------------------------------------------------------------------

    private DriverRing start(BlockBackend backend, long wanted) {
        return start(backend, 1, wanted, 64)[0];
    }

    private DriverRing[] start(BlockBackend backend, int queues, long wanted, int size) {
        blk = new VirtioBlk(backend, queues);
        VirtioPciTransport t = new VirtioPciTransport(blk, mem);
        t.setInterruptSink(raised::add);
        d = new ModernPciDriver(t.function());
        d.enablePci();
        d.negotiate(wanted);
        d.configVector(0);
        DriverRing[] rings = new DriverRing[queues];
        for (int q = 0; q < queues; q++) {
            rings[q] = new DriverRing(mem, RINGS + 0x2000L * q, size);
            assertEquals(q + 1, d.setupQueue(q, rings[q], q + 1));
            d.enableQueue(q);
        }
        d.addStatus(DRIVER_OK);
        return rings;
    }

    private FakeBackend fake(long size) {
        fake = new FakeBackend(size);
        return fake;
    }

    private long alloc(long len) {
        long at = (next + 15) & ~15L;
        next = at + len;
        return at;
    }

    private long header(int type, long sector) {
        long at = alloc(16);
        mem.writeIntLE(at, type);
        mem.writeIntLE(at + 4, 0);
        mem.writeLongLE(at + 8, sector);
        return at;
    }

    private long statusByte() {
        long at = alloc(1);
        mem.write(at, new byte[] {(byte) 0xEE});
        return at;
    }

    private long filled(int len, int fill) {
        long at = alloc(len);
        byte[] b = new byte[len];
        Arrays.fill(b, (byte) fill);
        mem.write(at, b);
        return at;
    }

    private int status(long at) {
        VarHandle.acquireFence();
        return mem.read(at, 1)[0] & 0xFF;
    }

    /** A request as Linux frames it: header, then data (readable for OUT, writable otherwise), then the status. */
    private record Req(int head, long status, long data) {}

    private Req in(DriverRing ring, long sector, int len) {
        return withWritableData(ring, T_IN, 16, sector, len);
    }

    /** A request whose data (filled with CCh) the device writes, IN or GET_ID; a {@code headerLength} below 16 is short. */
    private Req withWritableData(DriverRing ring, int type, int headerLength, long sector, int len) {
        long h = header(type, sector);
        long data = filled(len, 0xCC);
        long st = statusByte();
        return new Req(
                ring.offer(Desc.readable(h, headerLength), Desc.writable(data, len), Desc.writable(st, 1)), st, data);
    }

    /** A read of sector 0 now succeeds, as the {@code n}-th used element: the device still serves requests. */
    private void assertAReadSucceeds(DriverRing ring, int n) {
        Req r = in(ring, 0, 512);
        d.kick(0);
        ring.awaitUsed(n);
        assertEquals(S_OK, status(r.status()));
    }

    private Req out(DriverRing ring, long sector, byte[] bytes) {
        long h = header(T_OUT, sector);
        long data = alloc(bytes.length);
        mem.write(data, bytes);
        long st = statusByte();
        return new Req(
                ring.offer(Desc.readable(h, 16), Desc.readable(data, bytes.length), Desc.writable(st, 1)), st, data);
    }

    private Req bare(DriverRing ring, int type, long sector) {
        long h = header(type, sector);
        long st = statusByte();
        return new Req(ring.offer(Desc.readable(h, 16), Desc.writable(st, 1)), st, 0);
    }

    /** DISCARD / WRITE_ZEROES with segments {sector, num_sectors, flags}. */
    private Req ranges(DriverRing ring, int type, long[]... segs) {
        long h = header(type, 0);
        long payload = alloc(16L * segs.length);
        for (int i = 0; i < segs.length; i++) {
            mem.writeLongLE(payload + 16L * i, segs[i][0]);
            mem.writeIntLE(payload + 16L * i + 8, (int) segs[i][1]);
            mem.writeIntLE(payload + 16L * i + 12, (int) segs[i][2]);
        }
        long st = statusByte();
        return new Req(
                ring.offer(Desc.readable(h, 16), Desc.readable(payload, 16 * segs.length), Desc.writable(st, 1)),
                st,
                payload);
    }

    /** The used element of {@code head} among those published (completion order is not request order). */
    private static DriverRing.Used used(DriverRing ring, int head) {
        for (int i = 0; i < ring.usedIdx(); i++) {
            if (ring.usedElem(i).id() == head) return ring.usedElem(i);
        }
        throw new AssertionError("head " + head + " not used");
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private Path image(byte[] content) throws IOException {
        Path p = dir.resolve("disk.img");
        Files.write(p, content);
        return p;
    }

    private static byte[] pattern(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) (i * 13 + (i >>> 9) * 7 + 1);
        return b;
    }

    // --- description ------------------------------------------------------------------------------------------------

    @Test
    void describesABlockDevice() throws Exception {
        FakeBackend b = fake(1 << 20);
        start(b, ALL);
        assertEquals(VirtioDeviceType.BLOCK, blk.type());
        assertEquals(2, blk.type().id());
        long f = blk.features();
        for (int bit : new int[] {F_SEG_MAX, F_BLK_SIZE, F_FLUSH, F_MQ, F_DISCARD, F_WRITE_ZEROES}) {
            assertTrue((f & bit(bit)) != 0, "feature " + bit);
        }
        for (int bit : new int[] {F_RO, F_SIZE_MAX, F_CONFIG_WCE, F_TOPOLOGY, F_GEOMETRY, F_ZONED, F_SECURE_ERASE}) {
            assertEquals(0, f & bit(bit), "feature " + bit);
        }
        assertEquals(1, blk.numQueues());
        assertEquals(256, blk.queueMaxSize(0));
        assertEquals(60, blk.configSize());
        // Through the transport, as the driver reads it.
        assertEquals(2048, d.deviceConfig(CFG_CAPACITY, 8));
        assertEquals(0, d.deviceConfig(CFG_SIZE_MAX, 4));
        assertEquals(254, d.deviceConfig(CFG_SEG_MAX, 4));
        assertEquals(512, d.deviceConfig(CFG_BLK_SIZE, 4));
        assertEquals(1, d.deviceConfig(CFG_NUM_QUEUES, 2));
        assertEquals(VirtioBlk.MAX_DISCARD_SECTORS, d.deviceConfig(CFG_MAX_DISCARD_SECTORS, 4));
        assertEquals(VirtioBlk.MAX_DISCARD_SEG, d.deviceConfig(CFG_MAX_DISCARD_SEG, 4));
        assertEquals(8, d.deviceConfig(CFG_DISCARD_SECTOR_ALIGNMENT, 4));
        assertEquals(VirtioBlk.MAX_WRITE_ZEROES_SECTORS, d.deviceConfig(CFG_MAX_WRITE_ZEROES_SECTORS, 4));
        assertEquals(VirtioBlk.MAX_WRITE_ZEROES_SEG, d.deviceConfig(CFG_MAX_WRITE_ZEROES_SEG, 4));
        assertEquals(1, d.deviceConfig(CFG_WRITE_ZEROES_MAY_UNMAP, 1));
        assertEquals(1, d.deviceConfig(CFG_WRITEBACK, 1), "FLUSH negotiated: a writeback cache");
        assertEquals(0, d.deviceConfig(57, 1));
    }

    @Test
    void withoutDiscardSupportTheFeaturesAndFieldsAreOff() {
        FakeBackend b = fake(1 << 20);
        b.discard = false;
        b.zeroes = false;
        start(b, ALL);
        assertEquals(0, blk.features() & (bit(F_DISCARD) | bit(F_WRITE_ZEROES)));
        assertEquals(0, d.deviceConfig(CFG_MAX_DISCARD_SECTORS, 4));
        assertEquals(0, d.deviceConfig(CFG_MAX_WRITE_ZEROES_SEG, 4));
    }

    // --- reads and writes on a real file ----------------------------------------------------------------------------

    /** A pattern written to a temp file comes back through IN, wherever the request points. */
    @Test
    void readsWhatTheFileHolds() throws Exception {
        byte[] content = pattern(64 * 1024);
        DriverRing ring = start(FileBackend.open(image(content), false), ALL);
        Req r = in(ring, 3, 2048);
        d.kick(0);
        assertEquals(new DriverRing.Used(r.head(), 2049), ring.awaitUsed(1));
        assertEquals(S_OK, status(r.status()));
        assertArrayEquals(Arrays.copyOfRange(content, 3 * 512, 3 * 512 + 2048), mem.read(r.data(), 2048));
        assertEquals(List.of(1), raised);
    }

    @Test
    void writesReachTheFileAndReadBack() throws Exception {
        Path img = image(new byte[32 * 1024]);
        DriverRing ring = start(FileBackend.open(img, false), ALL);
        byte[] data = pattern(1536);
        Req w = out(ring, 10, data);
        d.kick(0);
        assertEquals(new DriverRing.Used(w.head(), 1), ring.awaitUsed(1));
        assertEquals(S_OK, status(w.status()));
        Req f = bare(ring, T_FLUSH, 0);
        d.kick(0);
        assertEquals(new DriverRing.Used(f.head(), 1), ring.awaitUsed(2));
        assertEquals(S_OK, status(f.status()));
        byte[] file = Files.readAllBytes(img);
        assertArrayEquals(data, Arrays.copyOfRange(file, 5120, 5120 + 1536));
        assertEquals(0, file[5119]);
        assertEquals(0, file[5120 + 1536]);
        Req r = in(ring, 10, 1536);
        d.kick(0);
        ring.awaitUsed(3);
        assertArrayEquals(data, mem.read(r.data(), 1536));
    }

    /** Framing is free (§2.7.4.2): a header split over two buffers, data and status sharing one. */
    @Test
    void anyLayoutWorks() throws Exception {
        byte[] content = pattern(8192);
        DriverRing ring = start(FileBackend.open(image(content), false), ALL);
        long h = header(T_IN, 1);
        long buf = filled(1024 + 1, 0xCC);
        int head = ring.offer(Desc.readable(h, 6), Desc.readable(h + 6, 10), Desc.writable(buf, 1025));
        d.kick(0);
        assertEquals(new DriverRing.Used(head, 1025), ring.awaitUsed(1));
        assertArrayEquals(Arrays.copyOfRange(content, 512, 1536), mem.read(buf, 1024));
        assertEquals(S_OK, status(buf + 1024));
        // OUT with header and data in one readable buffer.
        byte[] data = pattern(512);
        long hd = alloc(16 + 512);
        mem.writeIntLE(hd, T_OUT);
        mem.writeLongLE(hd + 8, 4);
        mem.write(hd + 16, data);
        long st = statusByte();
        ring.offer(Desc.readable(hd, 528), Desc.writable(st, 1));
        d.kick(0);
        ring.awaitUsed(2);
        assertEquals(S_OK, status(st));
        blk.flush();
        assertArrayEquals(data, Arrays.copyOfRange(Files.readAllBytes(dir.resolve("disk.img")), 2048, 2560));
    }

    @Test
    void aFileThatIsNotWholeSectorsShowsItsWholeSectors() throws Exception {
        start(FileBackend.open(image(new byte[4096 + 100]), true), ALL);
        assertEquals(8, blk.capacity());
        assertEquals(8, d.deviceConfig(CFG_CAPACITY, 8));
    }

    // --- flush and durability ---------------------------------------------------------------------------------------

    @Test
    void flushReachesTheBackend() {
        FakeBackend b = fake(1 << 20);
        DriverRing ring = start(b, ALL);
        out(ring, 0, new byte[512]);
        d.kick(0);
        ring.awaitUsed(1);
        assertEquals(0, b.flushes.get(), "writeback: a write alone does not flush");
        Req f = bare(ring, T_FLUSH, 0);
        d.kick(0);
        assertEquals(new DriverRing.Used(f.head(), 1), ring.awaitUsed(2));
        assertEquals(S_OK, status(f.status()));
        assertEquals(1, b.flushes.get());
    }

    /** §5.2.6.4 case 1: FLUSH offered but not accepted: every write is stable when it completes. */
    @Test
    void withoutFlushNegotiatedWritesAreWriteThrough() {
        FakeBackend b = fake(1 << 20);
        DriverRing ring = start(b, ALL & ~bit(F_FLUSH));
        out(ring, 0, new byte[512]);
        d.kick(0);
        ring.awaitUsed(1);
        assertEquals(1, b.flushes.get());
        assertEquals(List.of("write 0", "flush"), b.ops);
        assertEquals(0, d.deviceConfig(CFG_WRITEBACK, 1), "writethrough");
    }

    // --- GET_ID -----------------------------------------------------------------------------------------------------

    @Test
    void getIdReturnsTheIdNulPadded() throws Exception {
        DriverRing ring = start(FileBackend.open(image(new byte[4096]), false, "disk-7"), ALL);
        Req id = withWritableData(ring, T_GET_ID, 16, 0, 20);
        d.kick(0);
        assertEquals(new DriverRing.Used(id.head(), 21), ring.awaitUsed(1));
        assertEquals(S_OK, status(id.status()));
        byte[] expected = new byte[20];
        System.arraycopy("disk-7".getBytes(StandardCharsets.US_ASCII), 0, expected, 0, 6);
        assertArrayEquals(expected, mem.read(id.data(), 20));
    }

    @Test
    void aLongIdIsCutAt20BytesWithoutTerminator() {
        fake = new FakeBackend(4096, "0123456789abcdefghijKLMNOP", false);
        DriverRing ring = start(fake, ALL);
        long h = header(T_GET_ID, 0);
        long id = filled(21, 0xCC);
        int head = ring.offer(Desc.readable(h, 16), Desc.writable(id, 21));
        d.kick(0);
        assertEquals(new DriverRing.Used(head, 21), ring.awaitUsed(1));
        assertArrayEquals("0123456789abcdefghij".getBytes(StandardCharsets.US_ASCII), mem.read(id, 20));
        assertEquals(S_OK, status(id + 20));
    }

    // --- refusals ---------------------------------------------------------------------------------------------------

    /** §5.2.6.2: a write to a read-only device fails with IOERR and writes nothing. */
    @Test
    void aReadOnlyDiskRefusesWrites() throws Exception {
        byte[] content = pattern(8192);
        Path img = image(content);
        DriverRing ring = start(FileBackend.open(img, true), ALL);
        assertTrue((blk.features() & bit(F_RO)) != 0);
        assertEquals(0, blk.features() & (bit(F_DISCARD) | bit(F_WRITE_ZEROES)));
        Req w = out(ring, 0, new byte[1024]);
        Req disc = ranges(ring, T_DISCARD, new long[] {0, 8, 0});
        Req zero = ranges(ring, T_WRITE_ZEROES, new long[] {0, 8, 0});
        Req f = bare(ring, T_FLUSH, 0);
        Req r = in(ring, 0, 512);
        d.kick(0);
        ring.awaitUsed(5);
        assertEquals(S_IOERR, status(w.status()));
        assertEquals(S_IOERR, status(disc.status()));
        assertEquals(S_IOERR, status(zero.status()));
        assertEquals(S_OK, status(f.status()), "nothing to flush");
        assertEquals(S_OK, status(r.status()), "reads work");
        assertArrayEquals(content, Files.readAllBytes(img));
    }

    @Test
    void sectorsPastTheCapacityAreIoerr() {
        FakeBackend b = fake(16 * 512);
        DriverRing ring = start(b, ALL);
        Req lastOk = in(ring, 15, 512);
        Req pastEnd = in(ring, 15, 1024);
        Req atEnd = in(ring, 16, 512);
        Req empty = in(ring, 16, 0);
        Req wrap = in(ring, -1L, 512); // 2^64 - 1
        Req wrap2 = out(ring, Long.MIN_VALUE, new byte[512]);
        Req huge = in(ring, 0x7FFF_FFFF_FFFF_FFF0L, 1024);
        d.kick(0);
        ring.awaitUsed(7);
        assertEquals(S_OK, status(lastOk.status()));
        assertEquals(S_IOERR, status(pastEnd.status()));
        assertEquals(S_IOERR, status(atEnd.status()));
        assertEquals(S_OK, status(empty.status()), "0 bytes at the capacity is inside");
        assertEquals(S_IOERR, status(wrap.status()));
        assertEquals(S_IOERR, status(wrap2.status()));
        assertEquals(S_IOERR, status(huge.status()));
        assertEquals(1, b.reads.get(), "only the valid read reached the backend");
        assertEquals(0, b.writes.get());
        assertEquals(1, used(ring, pastEnd.head()).len(), "a failed IN reports the status byte only");
    }

    @Test
    void dataThatIsNotWholeSectorsIsIoerr() {
        FakeBackend b = fake(1 << 20);
        DriverRing ring = start(b, ALL);
        Req r = in(ring, 0, 513);
        Req w = out(ring, 0, new byte[100]);
        d.kick(0);
        ring.awaitUsed(2);
        assertEquals(S_IOERR, status(r.status()));
        assertEquals(S_IOERR, status(w.status()));
        assertEquals(0, b.reads.get() + b.writes.get());
    }

    @Test
    void aShortHeaderIsIoerr() {
        FakeBackend b = fake(1 << 20);
        DriverRing ring = start(b, ALL);
        Req r = withWritableData(ring, T_IN, 8, 0, 512);
        d.kick(0);
        assertEquals(new DriverRing.Used(r.head(), 1), ring.awaitUsed(1));
        assertEquals(S_IOERR, status(r.status()));
        assertEquals(0, b.reads.get());
    }

    /** No device-writable byte: nowhere for a status, so the chain goes back with 0 bytes; the device goes on. */
    @Test
    void noStatusByteReturnsTheChainEmpty() {
        FakeBackend b = fake(1 << 20);
        DriverRing ring = start(b, ALL);
        long h = header(T_OUT, 0);
        long data = filled(512, 0x11);
        int head = ring.offer(Desc.readable(h, 16), Desc.readable(data, 512));
        int head2 = ring.offer(Desc.readable(header(T_FLUSH, 0), 16));
        d.kick(0);
        ring.awaitUsed(2);
        assertEquals(new DriverRing.Used(head, 0), used(ring, head));
        assertEquals(new DriverRing.Used(head2, 0), used(ring, head2));
        assertEquals(0, b.writes.get());
        assertEquals(0, b.flushes.get());
        assertAReadSucceeds(ring, 3);
        assertEquals(0, d.status() & ModernPciDriver.NEEDS_RESET);
    }

    @Test
    void unknownTypesAreUnsupp() {
        FakeBackend b = fake(1 << 20);
        DriverRing ring = start(b, ALL);
        Req lifetime = bare(ring, T_GET_LIFETIME, 0);
        Req secure = ranges(ring, T_SECURE_ERASE, new long[] {0, 8, 0});
        Req weird = bare(ring, 0x7777, 0);
        Req flushOut = bare(ring, 5, 0); // legacy VIRTIO_BLK_T_FLUSH_OUT
        d.kick(0);
        ring.awaitUsed(4);
        for (Req r : List.of(lifetime, secure, weird, flushOut)) assertEquals(S_UNSUPP, status(r.status()));
    }

    /** A backend failure fails that request only. */
    @Test
    void backendErrorsAreIoerr() {
        FakeBackend b = fake(1 << 20);
        DriverRing ring = start(b, ALL);
        b.failWith = new IOException("injected EIO");
        Req r = in(ring, 0, 512);
        Req w = out(ring, 0, new byte[512]);
        d.kick(0);
        ring.awaitUsed(2);
        assertEquals(new DriverRing.Used(r.head(), 1), used(ring, r.head()), "the status byte only");
        assertEquals(S_IOERR, status(r.status()));
        assertEquals(S_IOERR, status(w.status()));
        b.failWith = null;
        assertAReadSucceeds(ring, 3);
    }

    // --- discard and write zeroes -----------------------------------------------------------------------------------

    @Test
    void discardAndWriteZeroesZeroTheFile() throws Exception {
        byte[] content = pattern(64 * 1024);
        Path img = image(content);
        DriverRing ring = start(FileBackend.open(img, false), ALL);
        assertTrue((blk.features() & bit(F_DISCARD)) != 0, "ext4/xfs/tmpfs punch holes");
        Req disc = ranges(ring, T_DISCARD, new long[] {8, 16, 0}, new long[] {40, 8, 0});
        Req zero = ranges(ring, T_WRITE_ZEROES, new long[] {64, 3, 0});
        Req zeroUnmap = ranges(ring, T_WRITE_ZEROES, new long[] {100, 4, WRITE_ZEROES_FLAG_UNMAP});
        d.kick(0);
        ring.awaitUsed(3);
        assertEquals(S_OK, status(disc.status()));
        assertEquals(S_OK, status(zero.status()));
        assertEquals(S_OK, status(zeroUnmap.status()));
        blk.flush();
        byte[] expected = content.clone();
        Arrays.fill(expected, 8 * 512, 24 * 512, (byte) 0);
        Arrays.fill(expected, 40 * 512, 48 * 512, (byte) 0);
        Arrays.fill(expected, 64 * 512, 67 * 512, (byte) 0);
        Arrays.fill(expected, 100 * 512, 104 * 512, (byte) 0);
        assertArrayEquals(expected, Files.readAllBytes(img));
        assertEquals(content.length, Files.size(img));
    }

    @Test
    void badDiscardAndWriteZeroesRequests() {
        FakeBackend b = fake(128 * 512);
        DriverRing ring = start(b, ALL);
        long[][] tooMany = new long[VirtioBlk.MAX_DISCARD_SEG + 1][];
        for (int i = 0; i < tooMany.length; i++) tooMany[i] = new long[] {i, 1, 0};
        Req past = ranges(ring, T_DISCARD, new long[] {0, 8, 0}, new long[] {120, 9, 0});
        Req wrap = ranges(ring, T_WRITE_ZEROES, new long[] {-4L, 8, 0});
        Req many = ranges(ring, T_DISCARD, tooMany);
        Req unmapOnDiscard = ranges(ring, T_DISCARD, new long[] {0, 8, WRITE_ZEROES_FLAG_UNMAP});
        Req unknownFlag = ranges(ring, T_WRITE_ZEROES, new long[] {0, 8, 2});
        long h = header(T_DISCARD, 0);
        long st = statusByte();
        ring.offer(Desc.readable(h, 16), Desc.readable(alloc(8), 8), Desc.writable(st, 1)); // half a segment
        long h2 = header(T_WRITE_ZEROES, 0);
        long st2 = statusByte();
        ring.offer(Desc.readable(h2, 16), Desc.writable(st2, 1)); // no segment at all
        d.kick(0);
        ring.awaitUsed(7);
        assertEquals(S_IOERR, status(past.status()));
        assertEquals(S_IOERR, status(wrap.status()));
        assertEquals(S_IOERR, status(many.status()));
        assertEquals(S_UNSUPP, status(unmapOnDiscard.status()));
        assertEquals(S_UNSUPP, status(unknownFlag.status()));
        assertEquals(S_IOERR, status(st));
        assertEquals(S_IOERR, status(st2));
        assertEquals(List.of(), b.ops, "no segment of a bad request was done");
    }

    @Test
    void discardWithoutTheFeatureIsUnsupp() {
        FakeBackend b = fake(128 * 512);
        DriverRing ring = start(b, ALL & ~bit(F_DISCARD) & ~bit(F_WRITE_ZEROES));
        Req disc = ranges(ring, T_DISCARD, new long[] {0, 8, 0});
        Req zero = ranges(ring, T_WRITE_ZEROES, new long[] {0, 8, 0});
        d.kick(0);
        ring.awaitUsed(2);
        assertEquals(S_UNSUPP, status(disc.status()));
        assertEquals(S_UNSUPP, status(zero.status()));
        assertEquals(List.of(), b.ops);
    }

    @Test
    void writeZeroesPassesUnmapOnlyWhenAllowed() {
        FakeBackend b = fake(128 * 512);
        DriverRing ring = start(b, ALL);
        ranges(ring, T_WRITE_ZEROES, new long[] {1, 2, WRITE_ZEROES_FLAG_UNMAP}, new long[] {8, 1, 0});
        d.kick(0);
        ring.awaitUsed(1);
        assertEquals(List.of("zeroes 512+1024 unmap", "zeroes 4096+512"), b.ops);
    }

    // --- parallelism, reset, close ----------------------------------------------------------------------------------

    /** MQ: requests on two queues are served at the same time (each read waits for the other at a barrier). */
    @Test
    void twoQueuesRunInParallel() {
        FakeBackend b = fake(1 << 20);
        DriverRing[] rings = start(b, 2, ALL, 16);
        assertEquals(2, d.deviceConfig(CFG_NUM_QUEUES, 2));
        b.barrier = new CyclicBarrier(2);
        Req r0 = in(rings[0], 0, 512);
        Req r1 = in(rings[1], 8, 512);
        d.kick(0);
        d.kick(1);
        assertEquals(r0.head(), rings[0].awaitUsed(1).id());
        assertEquals(r1.head(), rings[1].awaitUsed(1).id());
        assertEquals(S_OK, status(r0.status()));
        assertEquals(S_OK, status(r1.status()));
        assertEquals(2, b.maxRunning.get());
        synchronized (raised) {
            assertTrue(raised.containsAll(List.of(1, 2)), "each queue its own vector: " + raised);
        }
    }

    /** Within one queue too: four reads from one kick are in the backend at once. */
    @Test
    void requestsOfOneQueueRunInParallel() {
        FakeBackend b = fake(1 << 20);
        DriverRing ring = start(b, 1, ALL | EVENT_IDX, 64)[0];
        assertTrue(blk.ioThreads() >= 4);
        b.barrier = new CyclicBarrier(4);
        List<Req> reqs = new ArrayList<>();
        for (int i = 0; i < 4; i++) reqs.add(in(ring, i, 512));
        d.kick(0);
        ring.awaitUsed(4);
        for (Req r : reqs) assertEquals(S_OK, status(r.status()));
        assertEquals(4, b.maxRunning.get());
    }

    /** A full ring of 256 requests, all completed, each exactly once. */
    @Test
    void aFullRingCompletes() {
        FakeBackend b = fake(1 << 20);
        DriverRing ring = start(b, 1, ALL | EVENT_IDX, 256)[0];
        List<Req> reqs = new ArrayList<>();
        for (int i = 0; i < 85; i++) reqs.add(in(ring, i, 512)); // 85 chains of 3 = 255 descriptors
        d.kick(0);
        ring.awaitUsed(85);
        List<Integer> heads = new ArrayList<>();
        for (int i = 0; i < 85; i++) heads.add(ring.usedElem(i).id());
        Collections.sort(heads);
        assertEquals(reqs.stream().map(Req::head).sorted().toList(), heads);
        for (Req r : reqs) assertEquals(S_OK, status(r.status()));
        assertEquals(0, blk.inFlight());
    }

    /** Kicks queue 0 and waits until {@code b} holds the request (see {@link FakeBackend#holdRequests}). */
    private void kickAndWaitUntilHeld(FakeBackend b) throws InterruptedException {
        d.kick(0);
        assertTrue(b.entered.await(5, TimeUnit.SECONDS));
    }

    /**
     * Runs {@code action} on a thread of its own while {@code b} holds a request: it must still be running after
     * 300 ms, and end without throwing once the request is let go.
     */
    private static void assertWaitsForTheHeldRequest(FakeBackend b, String what, Executable action)
            throws InterruptedException {
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                action.execute();
            } catch (Throwable e) {
                failed.set(e);
            }
        });
        t.join(300);
        assertTrue(t.isAlive(), what + " waits for the request in flight");
        b.gate.countDown();
        t.join(10_000);
        assertFalse(t.isAlive(), what + " ends once the request is done");
        assertEquals(null, failed.get());
    }

    /**
     * A reset while a request is in the backend waits for it, drops its completion, and the used ring stays as it
     * was; the device works again after the driver sets it up anew.
     */
    @Test
    void resetWaitsForRequestsInFlightAndDropsThem() throws Exception {
        FakeBackend b = fake(1 << 20);
        DriverRing ring = start(b, ALL);
        b.holdRequests();
        in(ring, 0, 512);
        kickAndWaitUntilHeld(b);
        byte[] usedBefore = mem.read(ring.used, 4 + 8 * 64 + 2);
        assertWaitsForTheHeldRequest(b, "the reset", d::reset);
        assertEquals(0, blk.inFlight());
        sleep(50);
        assertArrayEquals(usedBefore, mem.read(ring.used, 4 + 8 * 64 + 2), "the old used ring was not touched");
        assertEquals(0, ring.usedIdx());
        // Set up again: works.
        b.gate = null;
        next = BUF + 0x10000;
        DriverRing again = new DriverRing(mem, RINGS + 0x8000, 16);
        d.negotiate(ALL);
        d.setupQueue(0, again, 1);
        d.enableQueue(0);
        d.addStatus(DRIVER_OK);
        assertAReadSucceeds(again, 1);
    }

    /** close(): requests in flight complete, then the backend is flushed and closed; later requests fail at once. */
    @Test
    void closeCompletesInFlightThenFlushes() throws Exception {
        FakeBackend b = fake(1 << 20);
        DriverRing ring = start(b, ALL);
        b.holdRequests();
        Req w = out(ring, 0, pattern(512));
        kickAndWaitUntilHeld(b);
        assertWaitsForTheHeldRequest(b, "close", blk::close);
        assertEquals(S_OK, status(w.status()));
        assertEquals(1, ring.usedIdx());
        assertEquals(List.of("write 0", "flush"), b.ops);
        assertTrue(b.closed);
        Req late = in(ring, 0, 512);
        d.kick(0);
        ring.awaitUsed(2);
        assertEquals(S_IOERR, status(late.status()));
        assertEquals(0, b.reads.get());
    }

    /** flush(): the machine's "make it durable now", which waits for requests in flight first. */
    @Test
    void machineFlushWaitsForWrites() throws Exception {
        FakeBackend b = fake(1 << 20);
        DriverRing ring = start(b, ALL);
        b.holdRequests();
        out(ring, 0, new byte[512]);
        kickAndWaitUntilHeld(b);
        assertWaitsForTheHeldRequest(b, "the flush", blk::flush);
        assertEquals(List.of("write 0", "flush"), b.ops);
        assertNotEquals(0, ring.usedIdx());
    }

    /** A stale kick after a reset finds no queue and does nothing. */
    @Test
    void aKickAfterResetDoesNothing() throws Exception {
        FakeBackend b = fake(1 << 20);
        DriverRing ring = start(b, ALL);
        d.reset();
        in(ring, 0, 512);
        blk.queueNotified(0);
        sleep(20);
        assertEquals(0, ring.usedIdx());
        assertEquals(0, b.reads.get());
    }
}
