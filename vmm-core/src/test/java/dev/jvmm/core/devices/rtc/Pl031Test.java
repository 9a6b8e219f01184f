package dev.jvmm.core.devices.rtc;

import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.core.devices.PrimeCellIds;
import dev.jvmm.core.irq.IrqLine;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** PL031 per the PrimeCell RTC (PL031) TRM, ARM DDI 0224. */
class Pl031Test {
    static final int DR = 0x00, MR = 0x04, LR = 0x08, CR = 0x0C, IMSC = 0x10, RIS = 0x14, MIS = 0x18, ICR = 0x1C;

    static final class FakeClock implements InstantSource {
        Instant now = Instant.parse("2026-11-22T10:00:00.250Z");

        @Override
        public Instant instant() {
            return now;
        }

        void advance(long seconds) {
            now = now.plusSeconds(seconds);
        }
    }

    final FakeClock clock = new FakeClock();
    final AtomicBoolean irq = new AtomicBoolean();
    final Pl031 rtc = new Pl031(clock, irq::set, null);

    private long r(int off) {
        return rtc.read(off, 4);
    }

    private void w(int off, long v) {
        rtc.write(off, 4, v);
    }

    @Test
    void primeCellIdentification() {
        assertEquals(
                0x00041031L, PrimeCellIds.periphId(rtc), "Linux rtc-pl031: { .id = 0x00041031, .mask = 0x000fffff }");
        assertEquals(PrimeCellIds.AMBA_CID, PrimeCellIds.cellId(rtc));
    }

    @Test
    void counterIsUtcSecondsAndAdvances() {
        assertEquals(clock.now.getEpochSecond(), r(DR));
        clock.advance(5);
        assertEquals(clock.now.getEpochSecond(), r(DR));
        assertEquals(1, r(CR), "started");
        w(CR, 0);
        assertEquals(1, r(CR), "TRM §3.3.4: writes after start have no effect");
    }

    @Test
    void loadRegisterSetsTheCounter() {
        w(LR, 1000);
        assertEquals(1000, r(DR));
        assertEquals(1000, r(LR), "RTCLR reads back the last value loaded");
        clock.advance(3);
        assertEquals(1003, r(DR));
        w(LR, 0xFFFF_FFFFL);
        clock.advance(2);
        assertEquals(1, r(DR), "wraps modulo 2^32");
    }

    @Test
    void matchRaisesTheInterruptWhenTheCounterGetsThere() {
        w(LR, 100);
        w(MR, 103);
        w(IMSC, 1);
        clock.advance(2);
        assertEquals(0, r(RIS));
        assertFalse(irq.get());
        clock.advance(5); // passes 103 between two accesses
        assertEquals(1, r(RIS));
        assertEquals(1, r(MIS));
        assertTrue(irq.get());
        w(ICR, 1);
        assertEquals(0, r(RIS));
        assertFalse(irq.get());
        clock.advance(10);
        assertEquals(0, r(RIS), "no second match until the counter wraps");
    }

    @Test
    void maskedMatchIsRawOnly() {
        w(LR, 10);
        w(MR, 11);
        clock.advance(1);
        rtc.poll();
        assertEquals(1, r(RIS));
        assertEquals(0, r(MIS));
        assertFalse(irq.get());
        w(IMSC, 1);
        assertTrue(irq.get(), "unmasking a pending match raises the line");
    }

    @Test
    void matchEqualToTheCounterFiresAtOnce() {
        w(LR, 500);
        w(IMSC, 1);
        w(MR, 500);
        assertTrue(irq.get());
    }

    @Test
    void subWordReads() {
        w(LR, 0x1234_5678);
        assertEquals(0x78, rtc.read(LR, 1));
        assertEquals(0x56, rtc.read(LR + 1, 1));
        assertEquals(0x1234, rtc.read(LR + 2, 2));
    }

    /** With a scheduler the alarm arrives without any register access (about one second of wall time). */
    @Test
    void schedulerDeliversTheAlarmOnTime() throws Exception {
        ScheduledExecutorService ses = Executors.newSingleThreadScheduledExecutor();
        try {
            CountDownLatch fired = new CountDownLatch(1);
            Pl031 real = new Pl031(
                    InstantSource.system(),
                    level -> {
                        if (level) fired.countDown();
                    },
                    ses);
            real.write(IMSC, 4, 1);
            real.write(MR, 4, Integer.toUnsignedLong(real.counter() + 1));
            assertTrue(fired.await(3, TimeUnit.SECONDS), "alarm did not fire");
        } finally {
            ses.shutdownNow();
        }
    }

    @Test
    void unknownRegistersAreHarmless() {
        assertEquals(0, r(0x20));
        w(0x20, 1);
        w(DR, 5); // read-only
        rtc.write(2, 2, 1); // unaligned
        assertEquals(clock.now.getEpochSecond(), r(DR));
        new Pl031(IrqLine.NONE).read(DR, 4);
    }
}
