package dev.jvmm.pcie.config;

import dev.jvmm.pcie.msi.MsiSink;
import dev.jvmm.pcie.msi.RequesterId;
import java.util.ArrayList;
import java.util.List;

/** Remembers every message, for assertions. */
final class RecordingSink implements MsiSink {
    record Message(long address, int data, RequesterId rid) {}

    final List<Message> messages = new ArrayList<>();

    @Override
    public synchronized void signal(long address, int data, RequesterId requesterId) {
        messages.add(new Message(address, data, requesterId));
    }
}
