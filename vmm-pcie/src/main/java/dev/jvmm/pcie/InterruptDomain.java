package dev.jvmm.pcie;

import dev.jvmm.pcie.msi.MsiSink;
import dev.jvmm.pcie.msi.RequesterId;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * What every function below one root complex shares: the segment's MSI sink, connected late by the machine,
 * and the listeners that must hear about bus renumbering (irqfd routes hold a devid computed from the bus
 * numbers, so renumbering makes them stale).
 */
final class InterruptDomain implements MsiSink {
    private volatile MsiSink sink = MsiSink.DISCONNECTED;
    private final List<Runnable> busNumberListeners = new CopyOnWriteArrayList<>();

    void connect(MsiSink sink) {
        this.sink = Objects.requireNonNull(sink);
    }

    @Override
    public void signal(long address, int data, RequesterId requesterId) {
        sink.signal(address, data, requesterId);
    }

    void addBusNumberListener(Runnable listener) {
        busNumberListeners.add(Objects.requireNonNull(listener));
    }

    void busNumbersChanged() {
        for (Runnable listener : busNumberListeners) {
            listener.run();
        }
    }
}
