package dev.jvmm.core.devices.serial;

import dev.jvmm.core.bus.MmioDevice;
import dev.jvmm.core.bus.RateLimitedLogger;
import dev.jvmm.core.irq.IrqLine;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.util.concurrent.atomic.AtomicLong;

/**
 * ARM PrimeCell UART (PL011), as described by the PrimeCell UART (PL011) Technical Reference Manual, ARM DDI 0183
 * (r1p5, issue G): the UART Linux binds with {@code arm,pl011} (drivers/tty/serial/amba-pl011.c) and the one
 * {@code earlycon=pl011,0x09000000} writes to.
 *
 * <p><b>Model.</b> Transmission is instantaneous: a byte written to UARTDR goes straight to the
 * {@link ConsoleOutput}, so the transmit FIFO is always empty (UARTFR: TXFE = 1, TXFF = 0, BUSY = 0) and polling
 * loops never spin. Received bytes come from {@link #pushInput} (a console reader thread) into a host-side
 * backlog, from which the modelled receive FIFO (16 entries with UARTLCR_H.FEN, else the 1-byte holding
 * register, TRM §2.4.3) is refilled as the guest reads, while the UART and its receiver are enabled (UARTCR
 * UARTEN and RXE). The transmitter is not gated on UARTCR: an early console writes to a UART that no firmware
 * has enabled. The modem inputs read as a connected terminal (CTS, DSR, DCD asserted; their status never
 * changes). Baud rate, line control and DMA control are stored and otherwise ignored. UARTCR.LBE (loopback)
 * sends transmitted bytes to the receive FIFO instead of the console.
 *
 * <p><b>Interrupts</b> (TRM §2.9, §3.3.12-3.3.15): UARTRIS bits are
 * <ul>
 *   <li>TXRIS: set when a byte is transmitted (the FIFO falls to empty, at or below any trigger level), cleared
 *       by UARTICR; as on hardware, not set at reset (Linux's driver writes first and enables TXIM only when
 *       the FIFO was full, which never happens here);</li>
 *   <li>RXRIS: the receive FIFO holds at least the UARTIFLS trigger level (1 byte without FIFO), as a level;</li>
 *   <li>RTRIS: the receive FIFO is not empty. Hardware raises it 32 bit periods after the last byte arrived;
 *       input here arrives in whole chunks, so the timeout is taken to have expired at once. A level, like RXRIS:
 *       UARTICR cannot clear a condition that still holds (Linux clears both by reading the FIFO empty);</li>
 *   <li>OERIS: a loopback byte found the FIFO full (cleared by UARTICR); the other error and modem bits stay 0.</li>
 * </ul>
 * The {@link IrqLine} level is (UARTRIS &amp; UARTIMSC) != 0 (UARTINTR, TRM §2.9.6), driven on every change.
 *
 * <p><b>Identification</b> (TRM §3.3.16-17): UARTPeriphID0-3 = 0x11, 0x10, 0x04, 0x00 (part 0x011, designer
 * 0x41 ARM, revision 0: Linux's amba bus matches 0x00041011 under mask 0x000fffff and, for revision &lt; 3,
 * assumes a 16-entry FIFO, as modelled) and UARTPCellID0-3 = 0x0D, 0xF0, 0x05, 0xB1.
 *
 * <p><b>Accesses.</b> Registers are 32 bits wide at word offsets; Linux uses 16-bit accesses (UPIO_MEM) and
 * earlycon 8- or 32-bit ones, so reads of any size return the addressed bytes of the register, and writes of
 * any size at a word offset write the register. Writes at other offsets, unknown registers and writes to
 * read-only registers are ignored and logged rate-limited. Thread-safe: vCPU threads and the input thread
 * share one lock.
 */
public final class Pl011 implements MmioDevice {
    // Register offsets, TRM §3.2 Table 3-1.
    static final int UARTDR = 0x000;
    static final int UARTRSR = 0x004; // UARTECR on write
    static final int UARTFR = 0x018;
    static final int UARTILPR = 0x020;
    static final int UARTIBRD = 0x024;
    static final int UARTFBRD = 0x028;
    static final int UARTLCR_H = 0x02C;
    static final int UARTCR = 0x030;
    static final int UARTIFLS = 0x034;
    static final int UARTIMSC = 0x038;
    static final int UARTRIS = 0x03C;
    static final int UARTMIS = 0x040;
    static final int UARTICR = 0x044;
    static final int UARTDMACR = 0x048;
    static final int PERIPH_ID0 = 0xFE0;
    static final int PCELL_ID0 = 0xFF0;

    // UARTFR bits, TRM §3.3.3.
    static final int FR_CTS = 1,
            FR_DSR = 1 << 1,
            FR_DCD = 1 << 2,
            FR_BUSY = 1 << 3,
            FR_RXFE = 1 << 4,
            FR_TXFF = 1 << 5,
            FR_RXFF = 1 << 6,
            FR_TXFE = 1 << 7;
    // UARTLCR_H, TRM §3.3.7.
    static final int LCR_H_FEN = 1 << 4;
    // UARTCR, TRM §3.3.8.
    static final int CR_UARTEN = 1, CR_LBE = 1 << 7, CR_TXE = 1 << 8, CR_RXE = 1 << 9;
    // Interrupt bits (IMSC/RIS/MIS/ICR), TRM §3.3.10-3.3.14.
    static final int INT_RX = 1 << 4, INT_TX = 1 << 5, INT_RT = 1 << 6, INT_OE = 1 << 10, INT_ALL = 0x7FF;

    static final int FIFO_DEPTH = 16;
    /** Reset values, TRM §3.3: UARTCR 0x0300 (TXE, RXE), UARTIFLS 0x12 (both triggers at 1/2). */
    static final int CR_RESET = CR_TXE | CR_RXE, IFLS_RESET = 0x12;
    /** PrimeCell ids, read as four byte-wide registers each. */
    static final int[] PERIPH_ID = {0x11, 0x10, 0x04, 0x00};

    static final int[] PCELL_ID = {0x0D, 0xF0, 0x05, 0xB1};
    /** Host-side input waiting for room in the FIFO; more is dropped (and counted). */
    public static final int DEFAULT_BACKLOG = 64 * 1024;

    private static final System.Logger LOG = System.getLogger(Pl011.class.getName());

    private final ConsoleOutput output;
    private final IrqLine irq;
    private final RateLimitedLogger guestErrors = new RateLimitedLogger(LOG);
    private final RateLimitedLogger outputErrors = new RateLimitedLogger(LOG);
    private final AtomicLong txBytes = new AtomicLong();
    private final AtomicLong rxBytes = new AtomicLong();
    private final AtomicLong droppedInput = new AtomicLong();

    // All below guarded by this.
    private final byte[] backlog;
    private int backlogHead, backlogCount;
    private final byte[] fifo = new byte[FIFO_DEPTH];
    private int fifoHead, fifoCount;
    private int ilpr, ibrd, fbrd, lcrH, cr, ifls, imsc, dmacr;
    private boolean txRis;
    private int latchedRis; // OE and other sticky bits
    private boolean irqLevel;

    public Pl011(ConsoleOutput output, IrqLine irq) {
        this(output, irq, DEFAULT_BACKLOG);
    }

    public Pl011(ConsoleOutput output, IrqLine irq, int backlogBytes) {
        if (backlogBytes < 1) throw new IllegalArgumentException("backlog must hold at least one byte");
        this.output = output;
        this.irq = irq;
        this.backlog = new byte[backlogBytes];
        resetLocked();
    }

    /** Back to the TRM reset state (registers, FIFO, interrupts); queued host input is kept. */
    public synchronized void reset() {
        resetLocked();
        fillFifo();
        updateIrq();
    }

    private void resetLocked() {
        fifoHead = fifoCount = 0;
        ilpr = ibrd = fbrd = lcrH = imsc = dmacr = 0;
        cr = CR_RESET;
        ifls = IFLS_RESET;
        txRis = false;
        latchedRis = 0;
    }

    /**
     * Queues input for the guest (from a console reader thread). Returns how many bytes were accepted; the rest
     * did not fit in the backlog and are dropped (counted in {@link #droppedInput()}).
     */
    public synchronized int pushInput(byte[] data, int offset, int length) {
        int room = backlog.length - backlogCount;
        int n = Math.min(room, length);
        for (int i = 0; i < n; i++) {
            backlog[(backlogHead + backlogCount + i) % backlog.length] = data[offset + i];
        }
        backlogCount += n;
        if (n < length) droppedInput.addAndGet(length - n);
        fillFifo();
        updateIrq();
        return n;
    }

    /** {@link #pushInput(byte[], int, int)} of a whole array. */
    public int pushInput(byte[] data) {
        return pushInput(data, 0, data.length);
    }

    /** Bytes the guest transmitted to the console (loopback excluded). */
    public long txBytes() {
        return txBytes.get();
    }

    /** Bytes the guest read from the receive FIFO. */
    public long rxBytes() {
        return rxBytes.get();
    }

    /** Input bytes dropped because the backlog was full. */
    public long droppedInput() {
        return droppedInput.get();
    }

    @Override
    public synchronized long read(long offset, int size) {
        if (offset < 0 || offset >= 0x1000) return 0;
        int reg = (int) (offset & ~3L);
        int shift = (int) (offset & 3) * 8;
        long value = Integer.toUnsignedLong(readRegister(reg, shift == 0)) >>> shift;
        if (reg == UARTDR) updateIrq(); // a read may drain the FIFO below the trigger level
        return size >= 8 ? value : value & ((1L << (size * 8)) - 1);
    }

    @Override
    public synchronized void write(long offset, int size, long value) {
        if ((offset & 3) != 0 || offset < 0 || offset >= 0x1000) {
            guestErrors.log(Level.DEBUG, "pl011: ignored %d-byte write at unaligned offset 0x%x", size, offset);
            return;
        }
        writeRegister((int) offset, (int) value);
        updateIrq();
    }

    private int readRegister(int reg, boolean lowByteIncluded) {
        return switch (reg) {
            case UARTDR -> lowByteIncluded ? popFifo() : 0; // bits 11:8 (errors) are always 0
            case UARTRSR -> 0;
            case UARTFR -> flags();
            case UARTILPR -> ilpr;
            case UARTIBRD -> ibrd;
            case UARTFBRD -> fbrd;
            case UARTLCR_H -> lcrH;
            case UARTCR -> cr;
            case UARTIFLS -> ifls;
            case UARTIMSC -> imsc;
            case UARTRIS -> ris();
            case UARTMIS -> ris() & imsc;
            case UARTICR -> 0; // write-only
            case UARTDMACR -> dmacr;
            default -> {
                if (reg >= PERIPH_ID0 && reg < PERIPH_ID0 + 16) yield PERIPH_ID[(reg - PERIPH_ID0) / 4];
                if (reg >= PCELL_ID0 && reg < PCELL_ID0 + 16) yield PCELL_ID[(reg - PCELL_ID0) / 4];
                guestErrors.log(Level.DEBUG, "pl011: read of unknown register 0x%x", reg);
                yield 0;
            }
        };
    }

    private void writeRegister(int reg, int value) {
        switch (reg) {
            case UARTDR -> transmit(value & 0xFF);
            case UARTRSR -> latchedRis &= ~0x780; // UARTECR: clears the error flags (none are ever set here)
            case UARTILPR -> ilpr = value & 0xFF;
            case UARTIBRD -> ibrd = value & 0xFFFF;
            case UARTFBRD -> fbrd = value & 0x3F;
            case UARTLCR_H -> {
                lcrH = value & 0xFF;
                fillFifo(); // FEN may have grown the FIFO
            }
            case UARTCR -> {
                cr = value & 0xFFFF;
                fillFifo(); // UARTEN/RXE may have enabled reception
            }
            case UARTIFLS -> ifls = value & 0x3F;
            case UARTIMSC -> imsc = value & INT_ALL;
            case UARTICR -> {
                if ((value & INT_TX) != 0) txRis = false;
                latchedRis &= ~value;
            }
            case UARTDMACR -> dmacr = value & 0x7;
            default ->
                guestErrors.log(
                        Level.DEBUG,
                        "pl011: ignored write of 0x%x to %s register 0x%x",
                        value,
                        reg == UARTFR || reg == UARTRIS || reg == UARTMIS || reg >= PERIPH_ID0
                                ? "read-only"
                                : "unknown",
                        reg);
        }
    }

    private void transmit(int b) {
        txRis = true;
        if ((cr & CR_LBE) != 0) {
            if (fifoCount < capacity()) pushFifo((byte) b);
            else latchedRis |= INT_OE;
            return;
        }
        txBytes.incrementAndGet();
        try {
            output.write(b);
        } catch (IOException | RuntimeException e) {
            outputErrors.log(Level.WARNING, "pl011: console output failed, byte dropped: %s", e);
        }
    }

    private int flags() {
        int fr = FR_CTS | FR_DSR | FR_DCD | FR_TXFE;
        if (fifoCount == 0) fr |= FR_RXFE;
        if (fifoCount >= capacity()) fr |= FR_RXFF;
        return fr;
    }

    private int ris() {
        int ris = latchedRis;
        if (txRis) ris |= INT_TX;
        if (fifoCount >= rxTrigger()) ris |= INT_RX;
        if (fifoCount > 0) ris |= INT_RT;
        return ris;
    }

    private int capacity() {
        return (lcrH & LCR_H_FEN) != 0 ? FIFO_DEPTH : 1;
    }

    /** TRM §3.3.9 UARTIFLS.RXIFLSEL: 1/8, 1/4, 1/2, 3/4, 7/8 full; reserved encodings act as 1/2. */
    private int rxTrigger() {
        if ((lcrH & LCR_H_FEN) == 0) return 1;
        return switch ((ifls >> 3) & 7) {
            case 0 -> 2;
            case 1 -> 4;
            case 3 -> 12;
            case 4 -> 14;
            default -> 8;
        };
    }

    private int popFifo() {
        if (fifoCount == 0) return 0;
        int b = fifo[fifoHead] & 0xFF;
        fifoHead = (fifoHead + 1) % FIFO_DEPTH;
        fifoCount--;
        rxBytes.incrementAndGet();
        fillFifo();
        return b;
    }

    private void pushFifo(byte b) {
        fifo[(fifoHead + fifoCount) % FIFO_DEPTH] = b;
        fifoCount++;
    }

    /** Moves backlog bytes into the FIFO while the receiver is enabled and the FIFO has room. */
    private void fillFifo() {
        if ((cr & (CR_UARTEN | CR_RXE)) != (CR_UARTEN | CR_RXE)) return;
        int cap = capacity();
        while (backlogCount > 0 && fifoCount < cap) {
            pushFifo(backlog[backlogHead]);
            backlogHead = (backlogHead + 1) % backlog.length;
            backlogCount--;
        }
    }

    private void updateIrq() {
        boolean level = (ris() & imsc) != 0;
        if (level != irqLevel) {
            irqLevel = level;
            irq.set(level);
        }
    }
}
