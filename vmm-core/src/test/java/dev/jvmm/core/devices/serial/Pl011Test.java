package dev.jvmm.core.devices.serial;

import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.core.arch.aarch64.MemoryMap;
import dev.jvmm.core.bus.AddressRange;
import dev.jvmm.core.bus.BackgroundRegion;
import dev.jvmm.core.bus.Bus;
import dev.jvmm.core.devices.PrimeCellIds;
import dev.jvmm.core.irq.IrqLine;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** PL011 behaviour per the PrimeCell UART (PL011) TRM, ARM DDI 0183G; offsets and bits written out from the TRM. */
class Pl011Test {
    // TRM §3.2 Table 3-1.
    static final int DR = 0x00,
            FR = 0x18,
            IBRD = 0x24,
            FBRD = 0x28,
            LCR_H = 0x2C,
            CR = 0x30,
            IFLS = 0x34,
            IMSC = 0x38,
            RIS = 0x3C,
            MIS = 0x40,
            ICR = 0x44;
    // TRM §3.3.3 UARTFR.
    static final int BUSY = 0x08, RXFE = 0x10, TXFF = 0x20, RXFF = 0x40, TXFE = 0x80;
    // TRM §3.3.12.
    static final int RXIS = 0x10, TXIS = 0x20, RTIS = 0x40;
    static final int UARTEN = 0x1, LBE = 0x80, TXE = 0x100, RXE = 0x200, FEN = 0x10, WLEN8 = 0x60;

    /** Records every level the device drives, to check it only drives changes. */
    static final class RecordingIrq implements IrqLine {
        final List<Boolean> levels = new ArrayList<>();

        @Override
        public synchronized void set(boolean level) {
            levels.add(level);
        }

        synchronized boolean level() {
            return !levels.isEmpty() && levels.getLast();
        }
    }

    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final RecordingIrq irq = new RecordingIrq();
    final Pl011 uart = new Pl011(out::write, irq);

    private long r(int off) {
        return uart.read(off, 4);
    }

    private void w(int off, long v) {
        uart.write(off, 4, v);
    }

    /** What Linux's pl011_startup / pl011_set_termios leave behind: FIFOs on, 8N1, RX + RX-timeout interrupts. */
    private void linuxStartup() {
        w(IMSC, 0);
        w(ICR, 0x7FF);
        w(IBRD, 13);
        w(FBRD, 1);
        w(LCR_H, FEN | WLEN8);
        w(CR, UARTEN | TXE | RXE);
        w(IMSC, RXIS | RTIS);
    }

    @Test
    void primeCellIdentification() {
        assertEquals(
                0x00041011L, PrimeCellIds.periphId(uart), "Linux amba_pl011: { .id = 0x00041011, .mask = 0x000fffff }");
        assertEquals(PrimeCellIds.AMBA_CID, PrimeCellIds.cellId(uart));
        assertEquals(0x0D, uart.read(0xFF0, 1));
        assertEquals(0x11, uart.read(0xFE0, 2));
    }

    @Test
    void resetValues() {
        assertEquals(0x300, r(CR), "TRM: UARTCR resets to 0x0300 (TXE, RXE)");
        assertEquals(0x12, r(IFLS), "TRM: UARTIFLS resets to 0x12");
        assertEquals(0, r(IMSC));
        assertEquals(0, r(RIS));
        assertEquals(0, r(MIS));
        assertEquals(0, r(LCR_H));
        long fr = r(FR);
        assertEquals(TXFE | RXFE, fr & (TXFE | RXFE | TXFF | RXFF | BUSY));
        assertEquals(0x7, fr & 0x7, "CTS, DSR, DCD: a connected terminal");
        assertTrue(irq.levels.isEmpty(), "no interrupt at reset");
    }

    /** earlycon=pl011: poll FR.TXFF, write DR (8- or 32-bit), poll FR.BUSY; works on a UART nobody enabled. */
    @ParameterizedTest(name = "DR access size {0}")
    @CsvSource({"1", "2", "4"})
    void earlyconWritesReachTheConsole(int size) {
        for (byte c : "Booting Linux\n".getBytes(StandardCharsets.US_ASCII)) {
            int spins = 0;
            while ((r(FR) & TXFF) != 0) assertTrue(++spins < 10, "TXFF never clears");
            uart.write(DR, size, c);
            while ((r(FR) & BUSY) != 0) assertTrue(++spins < 10, "BUSY never clears");
        }
        assertEquals("Booting Linux\n", out.toString(StandardCharsets.US_ASCII));
        assertEquals(14, uart.txBytes());
        assertEquals(0, r(CR) & UARTEN, "the UART was never enabled");
    }

    @Test
    void writesOnlyTheLowByteOfDr() {
        w(DR, 0xABC41);
        assertEquals("A", out.toString(StandardCharsets.US_ASCII));
    }

    @Test
    void inputWaitsUntilTheReceiverIsEnabled() {
        uart.pushInput("ab".getBytes(StandardCharsets.US_ASCII));
        assertEquals(RXFE, r(FR) & RXFE, "UARTEN is 0 after reset");
        w(CR, UARTEN | TXE | RXE);
        assertEquals(0, r(FR) & RXFE);
        assertEquals('a', r(DR));
        assertEquals('b', r(DR));
        assertEquals(RXFE, r(FR) & RXFE);
        w(CR, UARTEN | TXE); // RXE off
        uart.pushInput(new byte[] {'c'});
        assertEquals(RXFE, r(FR) & RXFE);
    }

    /** TRM §2.4.3: without FEN the receive side is a one-byte holding register. */
    @Test
    void fifoDisabledIsAOneByteHoldingRegister() {
        w(CR, UARTEN | TXE | RXE);
        uart.pushInput("xyz".getBytes(StandardCharsets.US_ASCII));
        assertEquals(RXFF, r(FR) & (RXFF | RXFE), "holding register full");
        StringBuilder got = new StringBuilder();
        while ((r(FR) & RXFE) == 0) got.append((char) r(DR));
        assertEquals("xyz", got.toString());
        assertEquals(3, uart.rxBytes());
    }

    @Test
    void fifoEnabledHolds16AndKeepsOrder() {
        w(LCR_H, FEN | WLEN8);
        w(CR, UARTEN | TXE | RXE);
        byte[] in = "0123456789abcdefghijklmnop".getBytes(StandardCharsets.US_ASCII);
        uart.pushInput(in);
        assertEquals(RXFF, r(FR) & RXFF, "16 entries full");
        StringBuilder got = new StringBuilder();
        for (int i = 0; i < in.length; i++) {
            assertEquals(0, r(FR) & RXFE);
            got.append((char) r(DR));
        }
        assertEquals("0123456789abcdefghijklmnop", got.toString());
        assertEquals(RXFE, r(FR) & RXFE);
        assertEquals(0, r(DR), "reading an empty FIFO is harmless");
    }

    /** TRM §3.3.9: RXIFLSEL 0b010 = 1/2 full = 8 of 16 entries. */
    @Test
    void rxInterruptAtTheTriggerLevelAndTimeoutBelowIt() {
        w(LCR_H, FEN | WLEN8);
        w(CR, UARTEN | TXE | RXE);
        w(IMSC, RXIS);
        uart.pushInput(new byte[7]);
        assertEquals(RTIS, r(RIS) & (RXIS | RTIS), "below the trigger: only the receive timeout");
        assertFalse(irq.level());
        uart.pushInput(new byte[1]);
        assertEquals(RXIS | RTIS, r(RIS) & (RXIS | RTIS));
        assertEquals(RXIS, r(MIS));
        assertTrue(irq.level());
        r(DR);
        assertFalse(irq.level(), "7 < 8 after one read");
        w(IMSC, RXIS | RTIS);
        assertTrue(irq.level(), "the timeout is pending while data remains");
        w(ICR, RTIS);
        assertTrue(irq.level(), "ICR cannot clear a condition that still holds");
        for (int i = 0; i < 7; i++) r(DR);
        assertFalse(irq.level());
        assertEquals(0, r(RIS) & (RXIS | RTIS));
    }

    @ParameterizedTest(name = "RXIFLSEL {0} -> trigger {1}")
    @CsvSource({"0, 2", "1, 4", "2, 8", "3, 12", "4, 14"})
    void rxTriggerLevels(int sel, int trigger) {
        w(LCR_H, FEN | WLEN8);
        w(CR, UARTEN | TXE | RXE);
        w(IFLS, sel << 3);
        uart.pushInput(new byte[trigger - 1]);
        assertEquals(0, r(RIS) & RXIS);
        uart.pushInput(new byte[1]);
        assertEquals(RXIS, r(RIS) & RXIS);
    }

    @Test
    void txInterruptIsRaisedByTransmissionAndClearedByIcr() {
        w(IMSC, TXIS);
        assertFalse(irq.level(), "an idle transmitter does not interrupt (TRM §2.9.3)");
        w(DR, 'a');
        assertEquals(TXIS, r(RIS) & TXIS);
        assertEquals(TXIS, r(MIS));
        assertTrue(irq.level());
        w(ICR, TXIS);
        assertEquals(0, r(RIS) & TXIS);
        assertFalse(irq.level());
        w(IMSC, 0);
        w(DR, 'b');
        assertEquals(TXIS, r(RIS) & TXIS, "RIS is raw: set even when masked");
        assertEquals(0, r(MIS));
        assertFalse(irq.level());
    }

    @Test
    void irqLineOnlyDrivenOnChanges() {
        linuxStartup();
        uart.pushInput(new byte[] {1});
        uart.pushInput(new byte[] {2});
        w(IMSC, RXIS | RTIS);
        r(DR);
        r(DR);
        assertEquals(List.of(true, false), irq.levels);
    }

    /** The interrupt path of Linux's pl011_int + pl011_fifo_to_tty, driven from the test. */
    @Test
    void linuxInterruptHandlerDrainsInput() {
        linuxStartup();
        uart.pushInput("root\n".getBytes(StandardCharsets.US_ASCII));
        assertTrue(irq.level());
        StringBuilder got = new StringBuilder();
        long status = r(MIS) & (RXIS | RTIS);
        assertNotEquals(0, status);
        w(ICR, status & ~(TXIS | RTIS | RXIS));
        while ((r(FR) & RXFE) == 0) got.append((char) (r(DR) & 0xFF));
        assertEquals("root\n", got.toString());
        assertEquals(0, r(MIS));
        assertFalse(irq.level());
    }

    @Test
    void backlogRefillsTheFifoAsTheGuestReads() {
        linuxStartup();
        byte[] paste = new byte[1000];
        for (int i = 0; i < paste.length; i++) paste[i] = (byte) i;
        assertEquals(1000, uart.pushInput(paste));
        for (int i = 0; i < paste.length; i++) {
            assertEquals(0, r(FR) & RXFE, "byte " + i);
            assertEquals(i & 0xFF, r(DR));
        }
        assertEquals(RXFE, r(FR) & RXFE);
        assertFalse(irq.level());
    }

    @Test
    void backlogOverflowIsCountedNotThrown() {
        Pl011 small = new Pl011(ConsoleOutput.DISCARD, IrqLine.NONE, 4);
        assertEquals(4, small.pushInput(new byte[10]));
        assertEquals(6, small.droppedInput());
    }

    /** TRM §3.3.8 LBE: transmitted data goes to the receive side. */
    @Test
    void loopback() {
        w(CR, UARTEN | TXE | RXE | LBE);
        w(DR, 'q');
        assertEquals(0, out.size());
        assertEquals('q', r(DR));
        w(DR, '1');
        w(DR, '2'); // holding register full (no FEN): overrun
        assertEquals(0x400, r(RIS) & 0x400, "OERIS");
        w(ICR, 0x400);
        assertEquals(0, r(RIS) & 0x400);
    }

    @Test
    void subWordAccesses() {
        assertEquals(0x03, uart.read(CR + 1, 1), "bits 15:8 of UARTCR (TXE, RXE)");
        assertEquals(0x00, uart.read(CR, 1));
        assertEquals(0x300, uart.read(CR, 2));
        uart.write(IBRD, 2, 0x1234);
        assertEquals(0x1234, r(IBRD));
        uart.write(IBRD + 2, 2, 0xFFFF); // not at a word offset: ignored
        assertEquals(0x1234, r(IBRD));
        uart.write(FBRD, 4, 0xFFFF_FFFFL);
        assertEquals(0x3F, r(FBRD), "UARTFBRD is 6 bits");
    }

    @Test
    void readOnlyAndUnknownRegistersIgnoreWrites() {
        w(FR, 0);
        assertEquals(TXFE | RXFE, r(FR) & (TXFE | RXFE));
        w(0xFE0, 0x99);
        assertEquals(0x11, r(0xFE0));
        w(0x800, 1);
        assertEquals(0, r(0x800));
        assertEquals(0, uart.read(0x2000, 4), "outside the 4 KiB frame");
        uart.write(-4, 4, 1);
    }

    @Test
    void failingConsoleDropsTheByteWithoutThrowing() {
        Pl011 broken = new Pl011(
                b -> {
                    throw new IOException("pipe closed");
                },
                IrqLine.NONE);
        assertDoesNotThrow(() -> broken.write(DR, 1, 'x'));
        assertEquals(1, broken.txBytes());
    }

    @Test
    void resetRestoresRegistersButKeepsQueuedInput() {
        linuxStartup();
        uart.pushInput("abc".getBytes(StandardCharsets.US_ASCII));
        r(DR);
        uart.reset();
        assertEquals(0x300, r(CR));
        assertEquals(0, r(IMSC));
        assertEquals(RXFE, r(FR) & RXFE, "FIFO emptied, receiver disabled");
        w(CR, UARTEN | TXE | RXE);
        assertEquals(RXFE, r(FR) & RXFE, "bytes that were in the FIFO at reset are lost, as on hardware");
    }

    @Test
    void inputFromAnotherThreadArrivesInOrder() throws Exception {
        linuxStartup();
        int n = 20_000;
        Thread producer = Thread.ofPlatform().start(() -> {
            for (int i = 0; i < n; ) {
                byte[] chunk = new byte[Math.min(97, n - i)];
                for (int j = 0; j < chunk.length; j++) chunk[j] = (byte) (i + j);
                int accepted = uart.pushInput(chunk); // the backlog is larger than n: never partial
                assertEquals(chunk.length, accepted);
                i += accepted;
            }
        });
        int got = 0;
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (got < n && System.nanoTime() < deadline) {
            if ((r(FR) & RXFE) == 0) {
                assertEquals(got & 0xFF, r(DR), "byte " + got);
                got++;
            }
        }
        producer.join();
        assertEquals(n, got);
        assertEquals(0, uart.droppedInput());
    }

    /** The UART on an MMIO bus at its machine address, enabled to transmit, above {@code background} if given. */
    private Bus uartOnTheBus(AddressRange background) {
        Bus bus = new Bus("mmio");
        if (background != null) BackgroundRegion.map(bus, "platform (unassigned)", background);
        bus.register("pl011", MemoryMap.UART, Bus.PRIORITY_DEVICE, uart);
        w(CR, UARTEN | TXE);
        return bus;
    }

    /** Bus rule for an access a region holds only in part: all ones, write dropped, no device asked. */
    @Test
    void anAccessStraddlingTheUartsEndIntoABackgroundReadsAllOnes() {
        long base = MemoryMap.UART.base(), end = MemoryMap.UART.end();
        Bus bus = uartOnTheBus(new AddressRange(base - 0x1000, 0x3000));
        assertEquals(OptionalLong.of(0xB1), bus.read(base + 0xFFC, 4), "UARTPCellID3, wholly inside: as before");
        assertEquals(OptionalLong.of(0x05), bus.read(base + 0xFF8, 8), "UARTPCellID2, an 8-byte read inside");
        assertEquals(OptionalLong.of(-1L), bus.read(base + 0xFFC, 8), "half ID register, half background");
        assertEquals(OptionalLong.of(0xFFFF_FFFFL), bus.read(end, 4), "the background itself");
        // From the background into UARTDR: had the UART seen its half, it would have sent 'A'.
        assertTrue(bus.write(base - 4, 8, (long) 'A' << 32));
        assertEquals(0, uart.txBytes());
        assertTrue(bus.write(base, 4, 'B'));
        assertEquals("B", out.toString(StandardCharsets.US_ASCII), "a write wholly inside still transmits");
        assertEquals(2, bus.straddlingReads() + bus.straddlingWrites());
    }

    @Test
    void anAccessStraddlingTheUartsEndIntoUnclaimedSpaceReadsAllOnes() {
        long base = MemoryMap.UART.base(), end = MemoryMap.UART.end();
        Bus bus = uartOnTheBus(null); // the machine's layout: nothing between the UART and the RTC
        assertEquals(OptionalLong.of(-1L), bus.read(base + 0xFFC, 8));
        assertEquals(OptionalLong.of(0xFFFF_FFFFL), bus.read(end - 2, 4));
        assertTrue(bus.write(base - 4, 8, (long) 'A' << 32), "from unclaimed space into UARTDR: dropped");
        assertEquals(0, uart.txBytes());
        assertEquals(OptionalLong.empty(), bus.read(end, 4), "wholly unclaimed: the vCPU loop's answer, as before");
        assertEquals(2, bus.straddlingReads());
        assertEquals(1, bus.straddlingWrites());
        assertEquals(1, bus.unhandledReads());
    }
}
