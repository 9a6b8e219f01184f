package dev.jvmm.core.devices.serial;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ConsoleWriterTest {
    /** An output whose first write blocks until released: a pipe whose reader stopped reading. */
    static final class StalledOutput extends OutputStream {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        long received;

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            entered.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            synchronized (this) {
                received += len;
            }
        }
    }

    @Test
    void everyByteArrivesInOrderAndCloseWaitsForThem() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] sent = new byte[300_000];
        for (int i = 0; i < sent.length; i++) sent[i] = (byte) (i * 31 + i / 7);
        ConsoleWriter w = new ConsoleWriter(out, 4096);
        // More than the ring holds: the writer must keep up while the producer only drops when the ring is full.
        // Feed slowly enough that nothing is dropped: wait whenever the ring is nearly full.
        for (int i = 0; i < sent.length; i++) {
            while (i - w.written() >= 4000) Thread.onSpinWait();
            w.write(sent[i] & 0xff);
        }
        w.close(5, TimeUnit.SECONDS);
        assertEquals(0, w.dropped());
        assertEquals(sent.length, w.written());
        assertArrayEquals(sent, out.toByteArray());
    }

    @Test
    void aStalledReaderNeverBlocksTheGuestNorClose() throws Exception {
        StalledOutput out = new StalledOutput();
        ConsoleWriter w = new ConsoleWriter(out, 1024);
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            w.write('x');
            assertTrue(out.entered.await(5, TimeUnit.SECONDS), "the writer thread is now blocked in write");
            for (int i = 0; i < 1_000_000; i++) w.write('y'); // a vCPU flooding the console: must not block
            // The ring holds the 'x' being written (it leaves the ring once written) and 1023 of the y's.
            assertEquals(1_000_000 - 1023, w.dropped(), "everything beyond the ring is dropped and counted");
            long t0 = System.nanoTime();
            w.close(200, TimeUnit.MILLISECONDS);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms >= 150 && ms < 3000, "close gave up after the stall timeout, took " + ms + " ms");
        });
        assertEquals(1_000_001, w.dropped() + w.written(), "each byte is written or counted as dropped");
        w.write('z');
        assertEquals(1_000_001 + 1, w.dropped() + w.written(), "after close, bytes are dropped");
        out.release.countDown();
    }

    @Test
    void aReaderThatWentAwayMakesEverythingDropQuietly() throws Exception {
        OutputStream broken = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("Broken pipe");
            }
        };
        ConsoleWriter w = new ConsoleWriter(broken, 1024);
        w.write('a');
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (w.dropped() == 0 && System.nanoTime() < deadline) Thread.sleep(5);
        for (int i = 0; i < 5000; i++) w.write('b');
        w.close(1, TimeUnit.SECONDS);
        assertEquals(5001, w.dropped());
        assertEquals(0, w.written());
    }

    @Test
    void aSlowButLiveReaderGetsEverythingAtClose() {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        OutputStream slow = new OutputStream() {
            @Override
            public void write(int b) {
                sink.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                try {
                    Thread.sleep(30); // each chunk takes a while, but the reader never stops
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                sink.write(b, off, len);
            }
        };
        ConsoleWriter w = new ConsoleWriter(slow, 64 * 1024);
        for (int i = 0; i < 60_000; i++) w.write('0' + i % 10);
        w.close(200, TimeUnit.MILLISECONDS); // shorter than all the chunks together; each chunk is progress
        assertEquals(0, w.dropped());
        assertEquals(60_000, sink.size());
    }
}
