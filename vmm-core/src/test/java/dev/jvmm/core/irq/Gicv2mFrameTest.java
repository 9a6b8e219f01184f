package dev.jvmm.core.irq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jvmm.pcie.msi.RequesterId;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** GICv2m frame as Linux's irq-gic-v2m.c drives it (SBSA Appendix E register offsets). */
class Gicv2mFrameTest {
    private static final long BASE = 0x0802_0000L;
    private final List<Integer> pulses = new ArrayList<>();
    private final Gicv2mFrame frame = new Gicv2mFrame(BASE, 80, 64, pulses::add);

    @Test
    void typerNamesTheFirstSpiAndTheCount() {
        long typer = frame.read(Gicv2mFrame.MSI_TYPER, 4);
        assertEquals(80, (typer >> 16) & 0x3FF, "base INTID, bits [25:16]");
        assertEquals(64, typer & 0x3FF, "number of SPIs, bits [9:0]");
    }

    @Test
    void aGuestWriteToSetSpiRaisesThatSpi() {
        frame.write(Gicv2mFrame.MSI_SETSPI_NS, 4, 81);
        frame.write(Gicv2mFrame.MSI_SETSPI_NS, 4, 143);
        assertEquals(List.of(81, 143), pulses);
        assertEquals(2, frame.raised());
    }

    @Test
    void spisTheFrameDoesNotOwnAreRefused() {
        frame.write(Gicv2mFrame.MSI_SETSPI_NS, 4, 79); // below the range
        frame.write(Gicv2mFrame.MSI_SETSPI_NS, 4, 144); // past it
        frame.write(Gicv2mFrame.MSI_SETSPI_NS, 4, 33); // the UART's SPI: a guest must not raise it through v2m
        frame.write(Gicv2mFrame.MSI_SETSPI_NS, 4, -1);
        assertEquals(List.of(), pulses);
        assertEquals(4, frame.rejected());
    }

    @Test
    void deviceMsisToTheDoorbellRaiseTheirSpiOthersAreDropped() {
        RequesterId rid = new RequesterId(5, 0, 1);
        frame.signal(BASE + 0x40, 100, rid);
        frame.signal(BASE + 0x44, 101, rid); // not the doorbell
        frame.signal(0x0808_0000L + 0x10040, 102, rid); // the ITS's doorbell, not ours
        assertEquals(List.of(100), pulses);
        assertEquals(BASE + 0x40, frame.doorbell());
        assertEquals(2, frame.rejected());
    }

    @Test
    void otherRegistersReadZeroAndIgnoreWrites() {
        assertEquals(0, frame.read(0x0, 4));
        assertEquals(0, frame.read(Gicv2mFrame.MSI_TYPER, 1), "only 32-bit reads of MSI_TYPER");
        frame.write(Gicv2mFrame.MSI_TYPER, 4, 0xFFFF_FFFFL);
        frame.write(Gicv2mFrame.MSI_SETSPI_NS, 1, 81);
        assertEquals(List.of(), pulses);
        assertEquals(80, (frame.read(Gicv2mFrame.MSI_TYPER, 4) >> 16) & 0x3FF, "TYPER is read-only");
    }

    @Test
    void aFrameMustOwnRealSpis() {
        assertThrows(IllegalArgumentException.class, () -> new Gicv2mFrame(BASE, 16, 64, i -> {}));
        assertThrows(IllegalArgumentException.class, () -> new Gicv2mFrame(BASE, 1000, 64, i -> {}));
    }
}
