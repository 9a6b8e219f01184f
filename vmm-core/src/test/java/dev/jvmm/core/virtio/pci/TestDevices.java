package dev.jvmm.core.virtio.pci;

import dev.jvmm.core.virtio.VirtioDevice;
import dev.jvmm.core.virtio.VirtioDeviceType;
import dev.jvmm.core.virtio.VirtioInterrupt;
import dev.jvmm.core.virtio.queue.DescriptorChain;
import dev.jvmm.core.virtio.queue.SplitQueue;
import dev.jvmm.core.virtio.queue.VirtqueueException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;

/** Devices and sources for the transport tests. */
public final class TestDevices {
    private TestDevices() {}

    /** "Random" bytes 1, 2, 3, ... so a test can tell exactly which bytes a buffer got. */
    public static final class Counting implements RandomGenerator {
        private int next = 1;

        @Override
        public long nextLong() {
            long v = 0;
            for (int i = 0; i < 8; i++) {
                v |= (long) (next++ & 0xFF) << (8 * i);
            }
            return v;
        }

        @Override
        public void nextBytes(byte[] bytes) {
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = (byte) next++;
            }
        }

        /** The bytes a fresh source would produce first. */
        public static byte[] first(int n) {
            byte[] b = new byte[n];
            new Counting().nextBytes(b);
            return b;
        }
    }

    /**
     * A device with two queues (16 and 8 entries), feature bits 0, 5 and 55, and 8 bytes of configuration
     * (a little-endian 64-bit value, writable). Each kick fills every writable byte of every chain with 0xAB
     * (in a readable-to-writable echo it copies the readable bytes instead), returns it, and interrupts when the
     * queue asks for it. Optionally blocks in {@code queueNotified} until released.
     */
    public static final class Echo implements VirtioDevice {
        public static final long FEATURES = 1L | 1L << 5 | 1L << 55;
        public volatile long config = 0x1122_3344_5566_7788L;
        public final List<Long> activations = Collections.synchronizedList(new ArrayList<>());
        public final List<Integer> notified = Collections.synchronizedList(new ArrayList<>());
        public volatile int resets;
        public volatile VirtioInterrupt interrupt;
        private volatile List<SplitQueue> queues;
        public volatile CountDownLatch entered;
        public volatile CountDownLatch release;

        @Override
        public VirtioDeviceType type() {
            return VirtioDeviceType.BLOCK;
        }

        @Override
        public long features() {
            return FEATURES;
        }

        @Override
        public int numQueues() {
            return 2;
        }

        @Override
        public int queueMaxSize(int queue) {
            return queue == 0 ? 16 : 8;
        }

        @Override
        public int configSize() {
            return 8;
        }

        @Override
        public long readConfig(int offset, int size) {
            return config >>> (8 * offset);
        }

        @Override
        public void writeConfig(int offset, int size, long value) {
            long mask = size == 8 ? -1L : ((1L << (8 * size)) - 1) << (8 * offset);
            config = (config & ~mask) | (value << (8 * offset) & mask);
        }

        @Override
        public void activate(long features, List<SplitQueue> queues, VirtioInterrupt interrupt) {
            activations.add(features);
            this.queues = queues;
            this.interrupt = interrupt;
        }

        @Override
        public void queueNotified(int q) throws VirtqueueException {
            notified.add(q);
            CountDownLatch in = entered;
            CountDownLatch out = release;
            SplitQueue queue = queues.get(q);
            do {
                queue.disableNotifications();
                for (Optional<DescriptorChain> c; (c = queue.pop()).isPresent(); ) {
                    DescriptorChain chain = c.get();
                    if (in != null) {
                        in.countDown();
                        await(out);
                    }
                    byte[] data;
                    if (chain.readableLength() > 0) {
                        data = new byte[(int) chain.readableLength()];
                        chain.read(0, data, 0, data.length);
                    } else {
                        data = new byte[(int) chain.writableLength()];
                        java.util.Arrays.fill(data, (byte) 0xAB);
                    }
                    queue.pushUsed(chain, chain.write(0, data, 0, data.length));
                }
                if (queue.needsInterrupt()) {
                    interrupt.queue(q);
                }
            } while (queue.enableNotifications());
        }

        private static void await(CountDownLatch latch) {
            try {
                if (!latch.await(10, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("test latch never released");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void reset() {
            resets++;
            queues = null;
            interrupt = null;
        }
    }
}
