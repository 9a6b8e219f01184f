package dev.jvmm.core.irq;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jvmm.kvm.Errno;
import dev.jvmm.kvm.ErrnoException;
import dev.jvmm.pcie.msi.DeviceIdScheme;
import dev.jvmm.pcie.msi.RequesterId;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ItsMsiDeliveryTest {
    private static final long ITS = 0x0808_0000L;
    private final List<String> injected = new ArrayList<>();

    @Test
    void messagesToGitsTranslaterGoToKvmWithTheirDeviceId() {
        var its = new ItsMsiDelivery(ITS, (a, d, id) -> injected.add("0x%x/%d/0x%x".formatted(a, d, id)));
        var sink = DeviceIdScheme.KVM_VITS.forSegment(0, its, new AtomicLong());
        sink.signal(ITS + 0x10040, 3, new RequesterId(5, 0, 1));
        assertEquals(List.of("0x8090040/3/0x501"), injected, "devid = (segment << 16) | RID, RID 05:00.1 = 0x0501");
        assertEquals(1, its.delivered());
    }

    @Test
    void aVectorProgrammedWithAnotherAddressIsDropped() {
        var its = new ItsMsiDelivery(ITS, (a, d, id) -> injected.add("sent"));
        its.signal(ITS, 1, 0x100);        // the ITS control frame, not GITS_TRANSLATER
        its.signal(0x0802_0040L, 1, 0x100); // the v2m doorbell
        assertEquals(List.of(), injected);
        assertEquals(2, its.wrongAddress());
    }

    @Test
    void segmentsWhoseDeviceIdsDoNotFitSixteenBitsAreDroppedNotInjected() {
        var its = new ItsMsiDelivery(ITS, (a, d, id) -> injected.add("sent"));
        var dropped = new AtomicLong();
        DeviceIdScheme.KVM_VITS.forSegment(1, its, dropped).signal(ITS + 0x10040, 0, new RequesterId(1, 0, 0));
        assertEquals(List.of(), injected);
        assertEquals(1, dropped.get());
    }

    @Test
    void kernelRefusalsAreCountedNotThrown() {
        // EBUSY is what KVM answers while the guest has not enabled its ITS.
        var its = new ItsMsiDelivery(ITS, (a, d, id) -> { throw new ErrnoException("KVM_SIGNAL_MSI", Errno.EBUSY); });
        for (int i = 0; i < 5; i++) its.signal(ITS + 0x10040, i, 0x0501);
        assertEquals(5, its.failed());
        assertEquals(0, its.delivered());
    }
}
