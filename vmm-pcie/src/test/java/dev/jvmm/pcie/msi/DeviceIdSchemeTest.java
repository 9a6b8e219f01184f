package dev.jvmm.pcie.msi;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * devid = (segment << 16) | RID, limited to the ITS DeviceID width; KVM's vITS has 16 bits
 * (VITS_TYPER_DEVBITS, ARCHITECTURE.md §3), so only segment 0 fits there.
 */
class DeviceIdSchemeTest {

    @ParameterizedTest(name = "segment {0}, rid {1}, {2} bits -> {3}")
    @CsvSource({
            "0, 0x0000, 16, 0x00000",
            "0, 0xFFFF, 16, 0x0FFFF",
            "0, 0x0508, 16, 0x00508",
            "1, 0x0508, 16, ",
            "1, 0x0508, 17, 0x10508",
            "2, 0x0508, 17, ",
            "0xFFFF, 0xFFFF, 32, 0xFFFFFFFF",
            "-1, 0x0000, 32, ",
            "0x10000, 0x0000, 32, "})
    void composition(int segment, String rid, int bits, String expected) {
        OptionalInt devid = new DeviceIdScheme(bits).deviceId(segment, RequesterId.of(Integer.decode(rid)));
        if (expected == null) {
            assertEquals(OptionalInt.empty(), devid);
        } else {
            assertEquals(OptionalInt.of(Long.decode(expected).intValue()), devid);
        }
    }

    @Test
    void kvmSchemeHasSixteenBits() {
        assertEquals(16, DeviceIdScheme.KVM_VITS.deviceIdBits());
        assertEquals(OptionalInt.empty(), DeviceIdScheme.KVM_VITS.deviceId(1, new RequesterId(0, 0, 0)));
    }

    @Test
    void widthIsChecked() {
        assertThrows(IllegalArgumentException.class, () -> new DeviceIdScheme(15));
        assertThrows(IllegalArgumentException.class, () -> new DeviceIdScheme(33));
    }

    /** The per-segment decorator passes the devid on, or drops and counts the message; it never throws. */
    @Test
    void decoratorAddsDevidOrDrops() {
        record Sent(long address, int data, int devid) {}
        List<Sent> sent = new ArrayList<>();
        AtomicLong dropped = new AtomicLong();
        MsiSink seg0 = DeviceIdScheme.KVM_VITS.forSegment(0, (a, d, id) -> sent.add(new Sent(a, d, id)), dropped);
        MsiSink seg1 = DeviceIdScheme.KVM_VITS.forSegment(1, (a, d, id) -> sent.add(new Sent(a, d, id)), dropped);
        seg0.signal(0x0808_0040L, 7, new RequesterId(2, 0, 1));
        seg1.signal(0x0808_0040L, 8, new RequesterId(2, 0, 1));
        seg1.signal(0x0808_0040L, 9, new RequesterId(2, 0, 1));
        assertEquals(List.of(new Sent(0x0808_0040L, 7, 0x0201)), sent);
        assertEquals(2, dropped.get());
    }
}
