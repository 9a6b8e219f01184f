package dev.jvmm.core.virtio.rng;

import dev.jvmm.core.virtio.VirtioDevice;
import dev.jvmm.core.virtio.VirtioDeviceType;
import dev.jvmm.core.virtio.VirtioInterrupt;
import dev.jvmm.core.virtio.queue.DescriptorChain;
import dev.jvmm.core.virtio.queue.SplitQueue;
import dev.jvmm.core.virtio.queue.VirtqueueException;
import java.security.SecureRandom;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.random.RandomGenerator;

/**
 * The entropy device (virtio 1.2 §5.4): one queue, {@code requestq}, whose device-writable buffers the device
 * fills with random bytes. No feature bits, no configuration space.
 *
 * <p>Each chain gets at most {@value #MAX_BYTES_PER_REQUEST} bytes ("the device MAY use less than the entire
 * buffer length", §5.4.6.1), which bounds the time one kick spends on the caller's thread whatever buffer sizes the
 * driver posts; Linux asks for at most a page. A chain without writable buffers is returned with 0 bytes. The bytes
 * come from a {@link SecureRandom} (the platform's {@code NativePRNG}, i.e. {@code /dev/urandom} on Linux) unless
 * the constructor is given another source.
 *
 * <p>Threading: {@link #queueNotified} runs with the transport's queue lock held, the only place the queue and the
 * scratch buffer are used; {@link #activate} and {@link #reset} are serialised with it by the transport.
 */
public final class VirtioRng implements VirtioDevice {
    /** The queue index of requestq. */
    public static final int REQUEST_QUEUE = 0;
    /** requestq's maximum size. */
    public static final int QUEUE_SIZE = 256;
    /** The most bytes one request is given. */
    public static final int MAX_BYTES_PER_REQUEST = 64 * 1024;

    private static final int CHUNK = 4096;

    private final RandomGenerator source;
    private final byte[] chunk = new byte[CHUNK];
    private volatile SplitQueue queue;
    private volatile VirtioInterrupt interrupt;

    /** An entropy device backed by a {@link SecureRandom}. */
    public VirtioRng() {
        this(new SecureRandom());
    }

    /** An entropy device backed by {@code source} (tests inject a predictable one). */
    public VirtioRng(RandomGenerator source) {
        this.source = Objects.requireNonNull(source);
    }

    @Override
    public VirtioDeviceType type() {
        return VirtioDeviceType.ENTROPY;
    }

    @Override
    public long features() {
        return 0; // §5.4.3: none
    }

    @Override
    public int numQueues() {
        return 1;
    }

    @Override
    public int queueMaxSize(int queue) {
        return QUEUE_SIZE;
    }

    @Override
    public void activate(long features, List<SplitQueue> queues, VirtioInterrupt interrupt) {
        this.interrupt = Objects.requireNonNull(interrupt);
        this.queue = queues.get(REQUEST_QUEUE);
    }

    @Override
    public void queueNotified(int q) throws VirtqueueException {
        SplitQueue requestq = queue;
        VirtioInterrupt irq = interrupt;
        if (q != REQUEST_QUEUE || requestq == null || irq == null || !requestq.isEnabled()) {
            return;
        }
        do {
            requestq.disableNotifications();
            for (Optional<DescriptorChain> c; (c = requestq.pop()).isPresent(); ) {
                DescriptorChain chain = c.get();
                requestq.pushUsed(chain, fill(chain));
            }
            if (requestq.needsInterrupt()) {
                irq.queue(REQUEST_QUEUE);
            }
        } while (requestq.enableNotifications());
    }

    /** Fills the chain's writable space, up to the per-request limit; returns the bytes written. */
    private int fill(DescriptorChain chain) {
        int want = (int) Math.min(chain.writableLength(), MAX_BYTES_PER_REQUEST);
        int done = 0;
        while (done < want) {
            int n = Math.min(CHUNK, want - done);
            byte[] bytes = n == CHUNK ? chunk : new byte[n];
            source.nextBytes(bytes);
            int written = chain.write(done, bytes, 0, n);
            if (written <= 0) {
                break;
            }
            done += written;
        }
        return done;
    }

    @Override
    public void reset() {
        queue = null;
        interrupt = null;
    }
}
