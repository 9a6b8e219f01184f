package dev.jvmm.core.virtio.console;

import static dev.jvmm.core.virtio.pci.ModernPciDriver.DRIVER_OK;
import static dev.jvmm.core.virtio.pci.ModernPciDriver.EVENT_IDX;
import static dev.jvmm.core.virtio.pci.ModernPciDriver.VERSION_1;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.jvmm.core.devices.serial.ConsoleOutput;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.virtio.VirtioDeviceType;
import dev.jvmm.core.virtio.pci.DriverRing;
import dev.jvmm.core.virtio.pci.DriverRing.Desc;
import dev.jvmm.core.virtio.pci.ModernPciDriver;
import dev.jvmm.core.virtio.pci.VirtioPciTransport;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The console device (virtio 1.2 §5.3) behind the PCI transport, driven like Linux's virtio_console with one port:
 * receiveq (0) on MSI-X vector 1, transmitq (1) on vector 2, configuration changes on vector 0.
 */
class VirtioConsoleTest {
    private static final long RAM = 0x8000_0000L;
    private static final long RX_RING = RAM + 0x1000;
    private static final long TX_RING = RAM + 0x4000;
    private static final long OUT = RAM + 0x10000;
    private static final long IN = RAM + 0x40000;
    private static final int RX_VECTOR = 1;
    private static final int TX_VECTOR = 2;
    private static final long CONSOLE_EMERG_WRITE = 1L << 2;
    private static final long CONSOLE_SIZE = 1L;

    private Arena arena;
    private GuestMemory mem;
    private final List<Integer> raised = new CopyOnWriteArrayList<>();
    private final List<VirtioConsole> consoles = new ArrayList<>();

    /** The output, as the host sees it. */
    private static final class Sink implements ConsoleOutput {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        @Override
        public synchronized void write(int b) {
            out.write(b);
        }

        synchronized byte[] bytes() {
            return out.toByteArray();
        }

        String text() {
            return new String(bytes(), StandardCharsets.ISO_8859_1);
        }
    }

    private record Rings(DriverRing rx, DriverRing tx) {}

    @BeforeEach
    void setUp() {
        arena = Arena.ofShared(); // the transmit thread reads guest memory
        mem = new GuestMemory(RAM, arena.allocate(1 << 20, 4096));
    }

    @AfterEach
    void tearDown() {
        consoles.forEach(VirtioConsole::close); // before the memory goes away
        arena.close();
    }

    private VirtioConsole console(ConsoleOutput out) {
        return console(out, VirtioConsole.DEFAULT_BACKLOG, null);
    }

    private VirtioConsole console(ConsoleOutput out, int backlog, VirtioConsole.Size size) {
        VirtioConsole c = new VirtioConsole(out, backlog, size);
        consoles.add(c);
        return c;
    }

    private ModernPciDriver driver(VirtioConsole console) {
        VirtioPciTransport t = new VirtioPciTransport(console, mem);
        t.setInterruptSink(raised::add);
        return new ModernPciDriver(t.function());
    }

    private Rings bringUp(ModernPciDriver d, long features) {
        return bringUp(d, features, r -> {});
    }

    /** virtcons_probe up to DRIVER_OK; {@code beforeDriverOk} runs with both queues enabled. */
    private Rings bringUp(ModernPciDriver d, long features, Consumer<Rings> beforeDriverOk) {
        d.enablePci();
        d.negotiate(features);
        assertEquals(0, d.configVector(0));
        Rings r = new Rings(new DriverRing(mem, RX_RING, 16), new DriverRing(mem, TX_RING, 16));
        assertEquals(RX_VECTOR, d.setupQueue(VirtioConsole.RECEIVE_QUEUE, r.rx(), RX_VECTOR));
        assertEquals(TX_VECTOR, d.setupQueue(VirtioConsole.TRANSMIT_QUEUE, r.tx(), TX_VECTOR));
        d.enableQueue(VirtioConsole.RECEIVE_QUEUE);
        d.enableQueue(VirtioConsole.TRANSMIT_QUEUE);
        beforeDriverOk.accept(r);
        d.addStatus(DRIVER_OK);
        return r;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private void fill(long at, int n, int value) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) value);
        mem.write(at, b);
    }

    private static void await(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting until " + what);
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    private static void emergencyWrite(ModernPciDriver d, int size, int c) {
        d.f.barWrite(d.device.bar(), d.device.offset() + VirtioConsole.CONFIG_EMERG_WR, size, c);
    }

    // --- description and configuration ------------------------------------------------------------------

    @Test
    void describesAConsoleWithOnePort() {
        VirtioConsole c = console(ConsoleOutput.DISCARD);
        assertEquals(VirtioDeviceType.CONSOLE, c.type());
        assertEquals(3, c.type().id());
        assertEquals(CONSOLE_EMERG_WRITE, c.features(), "EMERG_WRITE only: no SIZE, no MULTIPORT");
        assertEquals(2, c.numQueues());
        assertEquals(VirtioConsole.QUEUE_SIZE, c.queueMaxSize(0));
        assertEquals(VirtioConsole.QUEUE_SIZE, c.queueMaxSize(1));
        assertEquals(12, c.configSize());

        ModernPciDriver d = driver(c);
        long offered = d.deviceFeatures();
        assertEquals(CONSOLE_EMERG_WRITE, offered & 0xFF_FFFFL);
        assertNotNull(d.device, "DEVICE_CFG capability");
        assertEquals(12, d.device.length());
        assertEquals(0, d.deviceConfig(VirtioConsole.CONFIG_COLS, 2), "cols without F_SIZE");
        assertEquals(0, d.deviceConfig(VirtioConsole.CONFIG_ROWS, 2), "rows without F_SIZE");
        assertEquals(1, d.deviceConfig(VirtioConsole.CONFIG_MAX_NR_PORTS, 4));
        assertEquals(0, d.deviceConfig(VirtioConsole.CONFIG_EMERG_WR, 4), "emerg_wr is write-only");
        assertEquals(1L << 32, d.deviceConfig(0, 8));
        assertNull(c.transmitThread(), "no thread until it is needed");
    }

    /** F_SIZE is offered only with a size; a change goes with config_generation and a configuration interrupt. */
    @Test
    void sizeIsReportedAndChangesNotifyTheDriver() {
        VirtioConsole c = console(ConsoleOutput.DISCARD, 64, new VirtioConsole.Size(132, 43));
        assertEquals(CONSOLE_SIZE | CONSOLE_EMERG_WRITE, c.features());
        ModernPciDriver d = driver(c);
        bringUp(d, VERSION_1 | CONSOLE_SIZE | CONSOLE_EMERG_WRITE);
        assertEquals(132, d.deviceConfig(VirtioConsole.CONFIG_COLS, 2));
        assertEquals(43, d.deviceConfig(VirtioConsole.CONFIG_ROWS, 2));
        assertEquals(132 | 43 << 16, d.deviceConfig(0, 4));
        int generation = d.generation();

        c.setSize(new VirtioConsole.Size(200, 60));
        assertEquals(200 | 60 << 16, d.deviceConfig(0, 4));
        assertNotEquals(generation, d.generation());
        assertEquals(List.of(0), raised, "the configuration vector");
        assertEquals(new VirtioConsole.Size(200, 60), c.size());

        assertThrows(
                IllegalStateException.class,
                () -> console(ConsoleOutput.DISCARD).setSize(new VirtioConsole.Size(80, 24)));
        assertThrows(IllegalArgumentException.class, () -> new VirtioConsole.Size(65536, 1));
    }

    /** §5.3.5: emerg_wr works at any time, before feature negotiation and after DRIVER_OK. */
    @Test
    void emergencyWritesGoToTheOutput() {
        Sink sink = new Sink();
        VirtioConsole c = console(sink);
        ModernPciDriver d = driver(c);
        d.enablePci();
        emergencyWrite(d, 4, 'h');
        emergencyWrite(d, 4, 'i' | 0xFFFF_FF00); // only the low byte is the character
        await(() -> sink.text().equals("hi"), "two emergency characters arrive");
        emergencyWrite(d, 1, '!'); // a byte-wide write works too
        emergencyWrite(d, 4, '\n');
        await(() -> sink.text().equals("hi!\n"), "the rest arrives");

        Rings r = bringUp(d, VERSION_1 | CONSOLE_EMERG_WRITE);
        mem.write(OUT, ascii("ring"));
        r.tx().offer(Desc.readable(OUT, 4));
        d.kick(VirtioConsole.TRANSMIT_QUEUE);
        await(() -> r.tx().usedIdx() == 1, "the chain is returned");
        emergencyWrite(d, 4, '#');
        await(() -> sink.text().equals("hi!\nring#"), "emergency writes after DRIVER_OK");
        assertEquals(9, c.txBytes());
        assertEquals(0, d.deviceConfig(VirtioConsole.CONFIG_EMERG_WR, 4));
    }

    // --- output -----------------------------------------------------------------------------------------

    /** Bytes come out in order across chains, buffers within a chain, chunks of a large buffer and kicks. */
    @Test
    void outputArrivesInOrderAcrossChainsAndBuffers() {
        Sink sink = new Sink();
        VirtioConsole c = console(sink);
        ModernPciDriver d = driver(c);
        Rings r = bringUp(d, VERSION_1);

        mem.write(OUT, ascii("Hel"));
        mem.write(OUT + 0x100, ascii("lo, "));
        mem.write(OUT + 0x200, ascii("world"));
        byte[] big = new byte[3 * VirtioConsole.CHUNK + 123];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) ('a' + i % 26);
        }
        mem.write(OUT + 0x1000, big);
        mem.write(OUT + 0x300, ascii("<"));
        mem.write(OUT + 0x400, ascii(">\n"));
        int h0 = r.tx().offer(Desc.readable(OUT, 3), Desc.readable(OUT + 0x100, 4));
        int h1 = r.tx().offer(Desc.readable(OUT + 0x200, 5));
        int h2 = r.tx().offer(
                        Desc.readable(OUT + 0x300, 1),
                        Desc.readable(OUT + 0x1000, big.length),
                        Desc.readable(OUT + 0x400, 2));
        d.kick(VirtioConsole.TRANSMIT_QUEUE);
        await(() -> r.tx().usedIdx() == 3, "three chains are returned");
        String expected = "Hello, world<" + new String(big, StandardCharsets.ISO_8859_1) + ">\n";
        assertEquals(expected, sink.text());
        assertEquals(new DriverRing.Used(h0, 0), r.tx().usedElem(0));
        assertEquals(new DriverRing.Used(h1, 0), r.tx().usedElem(1));
        assertEquals(new DriverRing.Used(h2, 0), r.tx().usedElem(2));
        assertTrue(raised.contains(TX_VECTOR));
        assertFalse(raised.contains(RX_VECTOR));

        mem.write(OUT + 0x500, ascii("$ "));
        r.tx().offer(Desc.readable(OUT + 0x500, 2));
        d.kick(VirtioConsole.TRANSMIT_QUEUE);
        await(() -> r.tx().usedIdx() == 4, "the next kick's chain is returned");
        assertEquals(expected + "$ ", sink.text());
        assertEquals(expected.length() + 2, c.txBytes());
        assertEquals("virtio-console-tx", c.transmitThread().getName());
        assertTrue(c.transmitThread().isDaemon());
    }

    /** §5.3.6.1 forbids device-writable buffers on transmitq; the device outputs the readable part and returns 0. */
    @Test
    void writableBuffersOnTransmitqAreReturnedWithZero() {
        Sink sink = new Sink();
        ModernPciDriver d = driver(console(sink));
        Rings r = bringUp(d, VERSION_1);
        mem.write(OUT, ascii("abcd"));
        fill(OUT + 0x100, 8, 0xEE);
        fill(OUT + 0x200, 8, 0xEE);
        mem.write(OUT + 0x300, ascii("!"));
        int h0 = r.tx().offer(Desc.readable(OUT, 4), Desc.writable(OUT + 0x100, 8));
        int h1 = r.tx().offer(Desc.writable(OUT + 0x200, 8));
        int h2 = r.tx().offer(Desc.readable(OUT + 0x300, 1));
        d.kick(VirtioConsole.TRANSMIT_QUEUE);
        await(() -> r.tx().usedIdx() == 3, "all three chains are returned");
        assertEquals("abcd!", sink.text());
        assertEquals(new DriverRing.Used(h0, 0), r.tx().usedElem(0));
        assertEquals(new DriverRing.Used(h1, 0), r.tx().usedElem(1));
        assertEquals(new DriverRing.Used(h2, 0), r.tx().usedElem(2));
        byte[] untouched = new byte[8];
        Arrays.fill(untouched, (byte) 0xEE);
        assertArrayEquals(untouched, mem.read(OUT + 0x100, 8));
        assertArrayEquals(untouched, mem.read(OUT + 0x200, 8));
    }

    /** Output posted before DRIVER_OK (its kick ignored by the transport) goes out at activation. */
    @Test
    void outputPostedBeforeDriverOkGoesOutAtActivation() {
        Sink sink = new Sink();
        ModernPciDriver d = driver(console(sink));
        mem.write(OUT, ascii("early"));
        Rings r = bringUp(d, VERSION_1, rings -> {
            rings.tx().offer(Desc.readable(OUT, 5));
            d.kick(VirtioConsole.TRANSMIT_QUEUE);
        });
        await(() -> r.tx().usedIdx() == 1, "the chain is returned");
        assertEquals("early", sink.text());
    }

    /** A sink that is also Flushable may buffer: it is flushed once per chunk, not once per byte. */
    @Test
    void aFlushableOutputIsFlushedPerChunk() {
        List<String> flushed = new CopyOnWriteArrayList<>();
        final class Buffered implements ConsoleOutput, java.io.Flushable {
            private final StringBuilder buffer = new StringBuilder();

            @Override
            public synchronized void write(int b) {
                buffer.append((char) b);
            }

            @Override
            public synchronized void flush() {
                flushed.add(buffer.toString());
                buffer.setLength(0);
            }
        }
        ModernPciDriver d = driver(console(new Buffered()));
        Rings r = bringUp(d, VERSION_1);
        mem.write(OUT, ascii("one "));
        mem.write(OUT + 0x100, ascii("line\n"));
        r.tx().offer(Desc.readable(OUT, 4), Desc.readable(OUT + 0x100, 5));
        d.kick(VirtioConsole.TRANSMIT_QUEUE);
        await(() -> r.tx().usedIdx() == 1, "the chain is returned");
        assertEquals(List.of("one line\n"), flushed);
    }

    /** A sink that throws loses its bytes (counted), not the chain: it is returned, and output goes on. */
    @Test
    void aFailingOutputDropsBytesButReturnsTheChain() {
        Sink sink = new Sink();
        boolean[] broken = {true};
        VirtioConsole c = console(b -> {
            if (broken[0]) {
                throw new IOException("stdout closed");
            }
            sink.write(b);
        });
        ModernPciDriver d = driver(c);
        Rings r = bringUp(d, VERSION_1);
        mem.write(OUT, ascii("lost"));
        r.tx().offer(Desc.readable(OUT, 4));
        d.kick(VirtioConsole.TRANSMIT_QUEUE);
        await(() -> r.tx().usedIdx() == 1, "the chain is returned");
        assertEquals(4, c.droppedOutput());
        broken[0] = false; // the next chain is taken only after this one is returned: ordered by the ring
        mem.write(OUT + 0x100, ascii("ok"));
        r.tx().offer(Desc.readable(OUT + 0x100, 2));
        d.kick(VirtioConsole.TRANSMIT_QUEUE);
        await(() -> r.tx().usedIdx() == 2, "the next chain is returned");
        assertEquals("ok", sink.text());
    }

    /**
     * R2: a stalled host output must not stall jvmm. With the sink blocked, only the transmit thread waits: kicks
     * return, the chain stays with the device (the guest's hvc driver waits for it), configuration reads and
     * emergency writes from vCPUs complete, input is delivered, and a reset completes; once the reset is done the
     * stale chain is never returned into the ring.
     */
    @Test
    void aBlockedOutputBlocksOnlyTheTransmitThread() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicReference<Thread> writerThread = new AtomicReference<>();
        Sink sink = new Sink();
        VirtioConsole c = console(b -> {
            writerThread.compareAndSet(null, Thread.currentThread());
            entered.countDown();
            try {
                if (!release.await(20, TimeUnit.SECONDS)) {
                    throw new IOException("never released");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            sink.write(b);
        });
        try {
            ModernPciDriver d = driver(c);
            Rings r = bringUp(d, VERSION_1);
            mem.write(OUT, ascii("stuck"));
            r.tx().offer(Desc.readable(OUT, 5));
            d.kick(VirtioConsole.TRANSMIT_QUEUE); // returns: it only hands the chain over
            assertTrue(entered.await(10, TimeUnit.SECONDS), "the transmit thread is in the sink");
            assertNotEquals(Thread.currentThread(), writerThread.get());
            assertEquals(c.transmitThread(), writerThread.get());

            // The guest keeps going: more output (queued), config reads, emergency writes, input.
            mem.write(OUT + 0x100, ascii("more"));
            r.tx().offer(Desc.readable(OUT + 0x100, 4));
            d.kick(VirtioConsole.TRANSMIT_QUEUE);
            assertEquals(0, r.tx().usedIdx(), "the chains wait for the output");
            assertEquals(1, d.deviceConfig(VirtioConsole.CONFIG_MAX_NR_PORTS, 4));
            emergencyWrite(d, 4, '!');
            r.rx().offer(Desc.writable(IN, 16));
            d.kick(VirtioConsole.RECEIVE_QUEUE);
            assertEquals(3, c.pushInput(ascii("ls\n")));
            assertEquals(new DriverRing.Used(0, 3), r.rx().usedElem(0));
            assertTrue(raised.contains(RX_VECTOR));

            // A reset (a vCPU writing status 0) completes too, and forgets the chains.
            d.reset();
            assertEquals(0, d.status());
            release.countDown();
            // The chunk the thread was writing still comes out, then the emergency byte (kept over the reset);
            // the queued chain ("more") went with the reset.
            await(() -> sink.text().equals("stuck!"), "the blocked chunk and the emergency byte come out");
            Thread.sleep(50);
            assertEquals("stuck!", sink.text());
            assertEquals(0, r.tx().usedIdx(), "no chain is returned into a ring the driver has reset");
        } finally {
            release.countDown();
        }
    }

    /** A transmitq ring error met at the kick is the transport's: DEVICE_NEEDS_RESET. */
    @Test
    void aBrokenTransmitRingNeedsReset() {
        ModernPciDriver d = driver(console(ConsoleOutput.DISCARD));
        Rings r = bringUp(d, VERSION_1);
        r.tx().publish(99); // a head beyond the 16 descriptors
        d.kick(VirtioConsole.TRANSMIT_QUEUE);
        assertEquals(ModernPciDriver.NEEDS_RESET, d.status() & ModernPciDriver.NEEDS_RESET);
    }

    // --- input ------------------------------------------------------------------------------------------

    /** Input typed before the driver exists waits, and arrives once the driver posts buffers and kicks. */
    @Test
    void inputBeforeTheDriverIsReadyIsDeliveredLater() {
        VirtioConsole c = console(ConsoleOutput.DISCARD);
        assertEquals(5, c.pushInput(ascii("early")));
        assertEquals(5, c.pendingInput());
        ModernPciDriver d = driver(c);
        Rings r = bringUp(d, VERSION_1);
        assertEquals(0, r.rx().usedIdx(), "no buffers yet");
        assertEquals(5, c.pendingInput());

        int head = r.rx().offer(Desc.writable(IN, 64));
        d.kick(VirtioConsole.RECEIVE_QUEUE);
        assertEquals(new DriverRing.Used(head, 5), r.rx().usedElem(0));
        assertArrayEquals(ascii("early"), mem.read(IN, 5));
        assertEquals(List.of(RX_VECTOR), raised);
        assertEquals(0, c.pendingInput());
        assertEquals(5, c.rxBytes());
    }

    /** Buffers posted before DRIVER_OK (their kick ignored by the transport) get the waiting input at activation. */
    @Test
    void inputWaitingAtActivationFillsBuffersPostedBeforeDriverOk() {
        VirtioConsole c = console(ConsoleOutput.DISCARD);
        c.pushInput(ascii("x"));
        ModernPciDriver d = driver(c);
        Rings r = bringUp(d, VERSION_1, rings -> {
            rings.rx().offer(Desc.writable(IN, 64));
            d.kick(VirtioConsole.RECEIVE_QUEUE);
            assertEquals(0, rings.rx().usedIdx());
        });
        assertEquals(new DriverRing.Used(0, 1), r.rx().usedElem(0));
        assertEquals('x', mem.read(IN, 1)[0]);
    }

    /** Each chain's writable space (over its buffers) is filled before the next chain is taken. */
    @Test
    void inputLargerThanABufferSpansSeveralBuffers() {
        VirtioConsole c = console(ConsoleOutput.DISCARD);
        ModernPciDriver d = driver(c);
        Rings r = bringUp(d, VERSION_1);
        fill(IN, 0x400, 0xEE);
        int h0 = r.rx().offer(Desc.writable(IN, 8));
        int h1 = r.rx().offer(Desc.writable(IN + 0x100, 4), Desc.writable(IN + 0x200, 4));
        int h2 = r.rx().offer(Desc.writable(IN + 0x300, 8));
        d.kick(VirtioConsole.RECEIVE_QUEUE);
        assertEquals(0, r.rx().usedIdx(), "no input: no chain taken");
        assertEquals(1, r.rx().usedFlags(), "and no kicks wanted while there is nothing to deliver");

        assertEquals(20, c.pushInput(ascii("abcdefghijklmnopqrst")));
        assertEquals(3, r.rx().usedIdx());
        assertEquals(new DriverRing.Used(h0, 8), r.rx().usedElem(0));
        assertEquals(new DriverRing.Used(h1, 8), r.rx().usedElem(1));
        assertEquals(new DriverRing.Used(h2, 4), r.rx().usedElem(2));
        assertArrayEquals(ascii("abcdefgh"), mem.read(IN, 8));
        assertArrayEquals(ascii("ijkl"), mem.read(IN + 0x100, 4));
        assertArrayEquals(ascii("mnop"), mem.read(IN + 0x200, 4));
        assertArrayEquals(ascii("qrst"), mem.read(IN + 0x300, 4));
        assertEquals((byte) 0xEE, mem.read(IN + 0x304, 1)[0], "nothing past the input");
        assertEquals(List.of(RX_VECTOR), raised, "one interrupt for the batch");

        assertEquals(2, c.pushInput(ascii("uv")));
        assertEquals(2, c.pendingInput(), "no buffer left: kept");
        assertEquals(0, r.rx().usedFlags(), "a kick is wanted when buffers come");
        int h3 = r.rx().offer(Desc.writable(IN + 0x400, 8));
        d.kick(VirtioConsole.RECEIVE_QUEUE);
        assertEquals(new DriverRing.Used(h3, 2), r.rx().usedElem(3));
        assertArrayEquals(ascii("uv"), mem.read(IN + 0x400, 2));
    }

    /** With EVENT_IDX the device asks for the next kick only while input waits for buffers. */
    @Test
    void inputWithEventIdx() {
        VirtioConsole c = console(ConsoleOutput.DISCARD);
        ModernPciDriver d = driver(c);
        Rings r = bringUp(d, VERSION_1 | EVENT_IDX);
        assertEquals(4, c.pushInput(ascii("wait")));
        assertEquals(0, r.rx().availEvent(), "kick me when the first buffer comes");
        r.rx().offer(Desc.writable(IN, 2));
        r.rx().offer(Desc.writable(IN + 0x10, 2));
        d.kick(VirtioConsole.RECEIVE_QUEUE);
        assertEquals(2, r.rx().usedIdx());
        assertArrayEquals(ascii("wa"), mem.read(IN, 2));
        assertArrayEquals(ascii("it"), mem.read(IN + 0x10, 2));
        assertEquals(List.of(RX_VECTOR), raised, "used_event 0 was crossed");
    }

    /** Beyond the backlog input is dropped and counted; with buffers available it is not limited by the backlog. */
    @Test
    void backlogOverflowDropsAndCounts() {
        VirtioConsole c = console(ConsoleOutput.DISCARD, 16, null);
        byte[] input = ascii("0123456789abcdefghij");
        assertEquals(16, c.pushInput(input));
        assertEquals(4, c.droppedInput());
        assertEquals(0, c.pushInput(ascii("klmno")));
        assertEquals(9, c.droppedInput());
        assertEquals(16, c.pendingInput());

        ModernPciDriver d = driver(c);
        Rings r = bringUp(d, VERSION_1);
        r.rx().offer(Desc.writable(IN, 64));
        d.kick(VirtioConsole.RECEIVE_QUEUE);
        assertEquals(new DriverRing.Used(0, 16), r.rx().usedElem(0));
        assertArrayEquals(Arrays.copyOf(input, 16), mem.read(IN, 16));

        byte[] lots = new byte[40];
        Arrays.fill(lots, (byte) 'z');
        r.rx().offer(Desc.writable(IN + 0x100, 64));
        assertEquals(40, c.pushInput(lots), "straight into the buffer, past the 16-byte backlog");
        assertEquals(new DriverRing.Used(1, 40), r.rx().usedElem(1));
        assertArrayEquals(lots, mem.read(IN + 0x100, 40));
        assertEquals(9, c.droppedInput());

        assertThrows(IndexOutOfBoundsException.class, () -> c.pushInput(lots, 30, 20));
    }

    /**
     * §2.4: reset forgets the queues; nothing touches the old rings afterwards. The input backlog is kept and goes
     * to the next driver.
     */
    @Test
    void resetKeepsPendingInputForTheNextDriver() {
        VirtioConsole c = console(ConsoleOutput.DISCARD);
        ModernPciDriver d = driver(c);
        Rings r = bringUp(d, VERSION_1);
        assertEquals(6, c.pushInput(ascii("before")));
        d.reset();
        r.rx().offer(Desc.writable(IN, 64)); // a stale buffer in the old ring
        assertEquals(5, c.pushInput(ascii("after")));
        assertEquals(0, r.rx().usedIdx(), "the reset ring is not used");
        assertEquals(11, c.pendingInput());

        Rings again = bringUp(d, VERSION_1);
        int head = again.rx().offer(Desc.writable(IN + 0x100, 64));
        d.kick(VirtioConsole.RECEIVE_QUEUE);
        assertEquals(new DriverRing.Used(head, 11), again.rx().usedElem(0));
        assertArrayEquals(ascii("beforeafter"), mem.read(IN + 0x100, 11));
        assertEquals(0, c.pendingInput());
    }

    /** A receiveq ring error on the input thread stops input; the next receiveq kick reports it to the transport. */
    @Test
    void aBrokenReceiveRingFoundByInputIsReportedAtTheNextKick() {
        VirtioConsole c = console(ConsoleOutput.DISCARD);
        ModernPciDriver d = driver(c);
        Rings r = bringUp(d, VERSION_1);
        r.rx().publish(99);
        assertEquals(3, c.pushInput(ascii("abc")), "kept, not delivered");
        assertEquals(0, d.status() & ModernPciDriver.NEEDS_RESET);
        d.kick(VirtioConsole.RECEIVE_QUEUE);
        assertEquals(ModernPciDriver.NEEDS_RESET, d.status() & ModernPciDriver.NEEDS_RESET);
    }

    /**
     * The input thread and the driver (reclaiming used buffers and posting them again, kicking on another
     * thread) run at once: every byte arrives once, in order.
     */
    @Test
    void concurrentInputAndDriverLoseNothing() throws Exception {
        VirtioConsole c = console(ConsoleOutput.DISCARD, 1 << 20, null);
        ModernPciDriver d = driver(c);
        Rings r = bringUp(d, VERSION_1);
        DriverRing rx = r.rx();
        int total = 200_000;
        byte[] sent = new byte[total];
        for (int i = 0; i < total; i++) {
            sent[i] = (byte) (i * 7 + i / 251);
        }
        for (int i = 0; i < 16; i++) {
            rx.offer(Desc.writable(IN + 0x100L * i, 0x100));
        }
        d.kick(VirtioConsole.RECEIVE_QUEUE);

        Thread input = Thread.ofPlatform().start(() -> {
            for (int at = 0; at < total; ) {
                int n = Math.min(777, total - at);
                at += c.pushInput(sent, at, n);
            }
        });
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        int seen = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (got.size() < total) {
            assertTrue(System.nanoTime() < deadline, "timed out after " + got.size() + " bytes");
            int used = rx.usedIdx();
            boolean any = false;
            while (seen != used) {
                DriverRing.Used u = rx.usedElem(seen);
                got.write(mem.read(IN + 0x100L * u.id(), u.len()), 0, u.len());
                rx.offer(Desc.writable(IN + 0x100L * u.id(), 0x100)); // descriptors go round in order
                seen = (seen + 1) & 0xFFFF;
                any = true;
            }
            if (any) {
                d.kick(VirtioConsole.RECEIVE_QUEUE);
            } else {
                Thread.onSpinWait();
            }
        }
        input.join(10_000);
        assertArrayEquals(sent, got.toByteArray());
        assertEquals(0, c.droppedInput());
        assertEquals(total, c.rxBytes());
    }

    // --- life cycle -------------------------------------------------------------------------------------

    @Test
    void closeStopsTheTransmitThread() throws Exception {
        Sink sink = new Sink();
        VirtioConsole c = console(sink);
        ModernPciDriver d = driver(c);
        Rings r = bringUp(d, VERSION_1);
        Thread t = c.transmitThread();
        assertNotNull(t, "started at activation");
        c.close();
        t.join(10_000);
        assertFalse(t.isAlive());
        mem.write(OUT, ascii("late"));
        r.tx().offer(Desc.readable(OUT, 4));
        d.kick(VirtioConsole.TRANSMIT_QUEUE);
        emergencyWrite(d, 4, '!');
        Thread.sleep(20);
        assertEquals(0, r.tx().usedIdx());
        assertEquals("", sink.text());
        c.close(); // idempotent
    }
}
