package dev.jvmm.core.irq;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Counters of one MSI backend, for {@code --stats} and tests. A message counts as delivered only when KVM says so:
 * KVM_SIGNAL_MSI answers &gt; 0 when the interrupt was delivered and 0 when the guest blocked it (e.g. an ITS
 * DeviceID or EventID the guest never mapped, api.rst §4.71); such a message is {@code blocked}, not delivered.
 */
public final class MsiStats {
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong blocked = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();

    void delivered() {
        delivered.incrementAndGet();
    }

    void blocked() {
        blocked.incrementAndGet();
    }

    /** Returns the new count, for rate-limited logging. */
    long failed() {
        return failed.incrementAndGet();
    }

    void rejected() {
        rejected.incrementAndGet();
    }

    /** Messages the interrupt controller accepted. */
    public long deliveredCount() {
        return delivered.get();
    }

    /** Messages KVM reported as not delivered (answer 0): blocked by the guest's controller state. */
    public long blockedCount() {
        return blocked.get();
    }

    /** Messages whose injection failed with an error (e.g. EBUSY while the guest has not enabled its ITS). */
    public long failedCount() {
        return failed.get();
    }

    /** Messages the backend itself dropped: a wrong doorbell address, a segment without an ITS, an SPI not owned. */
    public long rejectedCount() {
        return rejected.get();
    }

    /** One line: {@code delivered=N blocked=N failed=N rejected=N}. */
    @Override
    public String toString() {
        return "delivered=%d blocked=%d failed=%d rejected=%d"
                .formatted(deliveredCount(), blockedCount(), failedCount(), rejectedCount());
    }
}
