package dev.jvmm.pcie.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** {@link ConfigSpace#onRead}: registers whose value lives elsewhere, refreshed just before a guest read. */
class ConfigSpaceReadHookTest {

    @Test
    void hookRefreshesTheRegisterBeforeTheReadReturnsIt() {
        ConfigSpace cs = new ConfigSpace();
        cs.define(0x40, 4, 0, 0xFFFF_FFFFL, 0);
        AtomicInteger source = new AtomicInteger(0x1234_5678);
        cs.onRead(0x40, 4, () -> cs.set(0x40, 4, source.get()));
        assertEquals(0x1234_5678, cs.read(0x40, 4));
        source.set(0xCAFE_F00D);
        assertEquals(0xF00D, cs.read(0x40, 2), "a partial read sees the refreshed value too");
        assertEquals(0xCA, cs.read(0x43, 1));
    }

    @Test
    void hookRunsOnlyForValidGuestReadsThatTouchItsRange() {
        ConfigSpace cs = new ConfigSpace();
        AtomicInteger runs = new AtomicInteger();
        cs.onRead(0x44, 4, runs::incrementAndGet);
        cs.read(0x40, 4);
        cs.read(0x48, 4);
        assertEquals(0, runs.get(), "neighbouring registers");
        cs.read(0x42, 4);
        assertEquals(0, runs.get(), "an unaligned access is invalid and reads all ones without the hook");
        cs.get(0x44, 4);
        cs.snapshot();
        assertEquals(0, runs.get(), "the model view does not run read hooks");
        cs.read(0x47, 1);
        cs.read(0x44, 2);
        assertEquals(2, runs.get());
    }

    @Test
    void readHooksAreNotWriteHooks() {
        ConfigSpace cs = new ConfigSpace();
        cs.define(0x40, 4, 0, 0xFFFF_FFFFL, 0);
        List<String> calls = new ArrayList<>();
        cs.onRead(0x40, 4, () -> calls.add("read"));
        cs.onWrite(0x40, 4, () -> calls.add("write"));
        cs.write(0x40, 4, 1);
        cs.reset();
        assertEquals(List.of("write", "write"), calls, "writes and reset run write hooks only");
        cs.read(0x40, 4);
        assertEquals(List.of("write", "write", "read"), calls);
    }
}
