package dev.jvmm.core.devices.pvpanic;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PvPanicTest {
    private final List<String> heard = new ArrayList<>();
    private final PvPanic device = new PvPanic(new PvPanic.Listener() {
        @Override
        public void panicked() {
            heard.add("panicked");
        }

        @Override
        public void crashLoaded() {
            heard.add("crash-loaded");
        }
    });

    @Test
    void theRegisterOffersPanickedAndCrashLoaded() {
        assertEquals(3, device.read(0, 1), "Linux's pvpanic driver masks its events with this byte");
        assertEquals(0, device.read(1, 1));
        assertEquals(0, device.read(0x800, 4));
    }

    @Test
    void eachEventBitIsReportedOnce() {
        device.write(0, 1, PvPanic.PANICKED);
        device.write(0, 1, PvPanic.CRASH_LOADED);
        device.write(0, 1, PvPanic.PANICKED | PvPanic.CRASH_LOADED);
        assertEquals(List.of("panicked", "crash-loaded", "panicked", "crash-loaded"), heard);
    }

    @Test
    void otherBitsAndOffsetsAreIgnored() {
        device.write(0, 1, 0);
        device.write(0, 1, 0xfc); // shutdown (bit 2) and reserved bits: not offered
        device.write(1, 1, PvPanic.PANICKED);
        device.write(8, 8, -1);
        assertEquals(List.of(), heard);
    }
}
