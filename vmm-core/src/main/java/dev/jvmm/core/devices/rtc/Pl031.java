package dev.jvmm.core.devices.rtc;

import dev.jvmm.core.bus.MmioDevice;
import dev.jvmm.core.bus.RateLimitedLogger;
import dev.jvmm.core.irq.IrqLine;
import dev.jvmm.pcie.util.Sizes;
import java.lang.System.Logger.Level;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * ARM PrimeCell Real Time Clock (PL031), per the PrimeCell RTC (PL031) Technical Reference Manual, ARM DDI 0224:
 * a 32-bit seconds counter with a match interrupt. Linux binds it with {@code arm,pl031}
 * (drivers/rtc/rtc-pl031.c) and reads the wall clock from it at boot.
 *
 * <p><b>Model.</b> The counter is the host's UTC time in seconds since the epoch plus an offset that a write to
 * RTCLR sets (counter := value at that instant), modulo 2^32. RTCCR reads 1: the RTC is started, as firmware
 * leaves it, and TRM §3.3.4 makes further writes to the start bit ineffective until reset. The match interrupt
 * (RTCRIS bit 0, TRM §3.3.6) is raised when the counter reaches RTCMR; it is evaluated on every register access
 * and, when a {@link ScheduledExecutorService} is given, at the second the match falls due, so the guest gets
 * its alarm without polling. The {@link IrqLine} level is RTCMIS != 0 (RTCINTR).
 *
 * <p>PrimeCell ids (TRM §3.3.9-10): RTCPeriphID0-3 = 0x31, 0x10, 0x04, 0x00 (0x00041031),
 * RTCPCellID0-3 = 0x0D, 0xF0, 0x05, 0xB1. Registers are 32 bits at word offsets; sub-word reads return the
 * addressed bytes. Unknown offsets read 0 and ignore writes. Thread-safe.
 */
public final class Pl031 implements MmioDevice {
    // TRM §3.2 Table 3-1.
    static final int RTCDR = 0x00,
            RTCMR = 0x04,
            RTCLR = 0x08,
            RTCCR = 0x0C,
            RTCIMSC = 0x10,
            RTCRIS = 0x14,
            RTCMIS = 0x18,
            RTCICR = 0x1C,
            PERIPH_ID0 = 0xFE0,
            PCELL_ID0 = 0xFF0;
    static final int[] PERIPH_ID = {0x31, 0x10, 0x04, 0x00};
    static final int[] PCELL_ID = {0x0D, 0xF0, 0x05, 0xB1};

    private static final System.Logger LOG = System.getLogger(Pl031.class.getName());

    private final InstantSource clock;
    private final IrqLine irq;
    private final ScheduledExecutorService scheduler; // may be null
    private final RateLimitedLogger guestErrors = new RateLimitedLogger(LOG);

    // Guarded by this.
    private long offset; // counter = epochSecond + offset (mod 2^32)
    private int match, load, imsc;
    private boolean ris;
    private long lastCounter; // counter at the previous evaluation, as an unwrapped second count
    private boolean irqLevel;
    private ScheduledFuture<?> pending;

    /**
     * @param clock     wall clock (UTC)
     * @param irq       RTCINTR
     * @param scheduler fires the match interrupt on time; null to evaluate it only on register accesses
     */
    public Pl031(InstantSource clock, IrqLine irq, ScheduledExecutorService scheduler) {
        this.clock = clock;
        this.irq = irq;
        this.scheduler = scheduler;
        this.lastCounter = clock.instant().getEpochSecond();
    }

    /** A PL031 on the system clock, with the match evaluated on register accesses only. */
    public Pl031(IrqLine irq) {
        this(InstantSource.system(), irq, null);
    }

    /** The current counter value (RTCDR). */
    public synchronized int counter() {
        return (int) unwrappedCounter(clock.instant());
    }

    /** Evaluates the match condition now (called by the scheduler, and usable by a machine's timer). */
    public synchronized void poll() {
        evaluateMatch();
        if (!ris) schedule(); // woke up before the second turned (wall clock vs. scheduler clock): try again
        updateIrq();
    }

    @Override
    public synchronized long read(long offset, int size) {
        if (offset < 0 || offset >= 0x1000) return 0;
        evaluateMatch();
        int reg = (int) (offset & ~3L);
        int value = switch (reg) {
            case RTCDR -> (int) unwrappedCounter(clock.instant());
            case RTCMR -> match;
            case RTCLR -> load;
            case RTCCR -> 1;
            case RTCIMSC -> imsc;
            case RTCRIS -> ris ? 1 : 0;
            case RTCMIS -> ris && imsc != 0 ? 1 : 0;
            default -> {
                if (reg >= PERIPH_ID0 && reg < PERIPH_ID0 + 16) yield PERIPH_ID[(reg - PERIPH_ID0) / 4];
                if (reg >= PCELL_ID0 && reg < PCELL_ID0 + 16) yield PCELL_ID[(reg - PCELL_ID0) / 4];
                guestErrors.log(Level.DEBUG, "pl031: read of unknown register 0x%x", reg);
                yield 0;
            }
        };
        updateIrq();
        long v = Integer.toUnsignedLong(value) >>> ((offset & 3) * 8);
        return v & Sizes.sizeMask(size);
    }

    @Override
    public synchronized void write(long offset, int size, long value) {
        if ((offset & 3) != 0 || offset < 0 || offset >= 0x1000) {
            guestErrors.log(Level.DEBUG, "pl031: ignored %d-byte write at offset 0x%x", size, offset);
            return;
        }
        evaluateMatch();
        int v = (int) value;
        switch ((int) offset) {
            case RTCMR -> {
                match = v;
                matchIfEqualNow();
                schedule();
            }
            case RTCLR -> {
                load = v;
                Instant now = clock.instant();
                this.offset = Integer.toUnsignedLong(v) - now.getEpochSecond();
                lastCounter = unwrappedCounter(now);
                matchIfEqualNow();
                schedule();
            }
            case RTCCR -> {} // started for good (TRM §3.3.4)
            case RTCIMSC -> imsc = v & 1;
            case RTCICR -> {
                if ((v & 1) != 0) ris = false;
            }
            default -> guestErrors.log(Level.DEBUG, "pl031: ignored write of 0x%x to register 0x%x", v, offset);
        }
        updateIrq();
    }

    private long unwrappedCounter(Instant now) {
        return now.getEpochSecond() + offset;
    }

    /**
     * Raises RTCRIS if the counter took the value RTCMR since the last evaluation (seconds may have gone by
     * unobserved). A clock that stepped backwards only moves the reference point.
     */
    private void evaluateMatch() {
        long now = unwrappedCounter(clock.instant());
        if (now > lastCounter) {
            long dist = Integer.toUnsignedLong(match - (int) lastCounter); // seconds until the counter reads RTCMR
            if (dist != 0 && dist <= now - lastCounter) ris = true;
        }
        lastCounter = now;
    }

    /** The counter reads RTCMR right now (after an RTCMR or RTCLR write): match at once, as QEMU's PL031 does. */
    private void matchIfEqualNow() {
        if ((int) lastCounter == match) ris = true;
    }

    private void schedule() {
        if (scheduler == null) return;
        if (pending != null) pending.cancel(false);
        Instant now = clock.instant();
        long dist = Integer.toUnsignedLong(match - (int) unwrappedCounter(now));
        if (dist == 0) return; // matched already (matchIfEqualNow)
        long delayMs = dist * 1000 - now.getNano() / 1_000_000;
        pending = scheduler.schedule(this::poll, Math.max(0, delayMs), TimeUnit.MILLISECONDS);
    }

    private void updateIrq() {
        boolean level = ris && imsc != 0;
        if (level != irqLevel) {
            irqLevel = level;
            irq.set(level);
        }
    }
}
