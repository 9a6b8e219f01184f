package dev.jvmm.core.machine;

import dev.jvmm.core.arch.aarch64.MemoryMap;
import dev.jvmm.core.bus.Bus;
import dev.jvmm.core.devices.pvpanic.PvPanic;
import dev.jvmm.core.devices.rtc.Pl031;
import dev.jvmm.core.devices.serial.ConsoleOutput;
import dev.jvmm.core.devices.serial.Pl011;
import dev.jvmm.core.irq.DeviceIdMapping;
import dev.jvmm.core.irq.GicMsiMode;
import dev.jvmm.core.irq.Gicv2mFrame;
import dev.jvmm.core.irq.IrqLine;
import dev.jvmm.core.irq.ItsMsiDelivery;
import dev.jvmm.core.irq.MsiBackend;
import dev.jvmm.core.pci.PcieHost;
import java.util.function.IntFunction;

/**
 * The MMIO bus a machine's vCPUs reach, with the devices on it: the PL011 and the PL031 on their SPIs, the PCIe host
 * bridges ({@link PcieHost#attach}: ECAM windows, all-ones backgrounds, BARs wherever the guest puts them) and the
 * MSI controller ({@link #assemble} explains both kinds).
 *
 * <p>Assembled apart from the rest of {@link Machine} so that the MMIO fuzz harness builds exactly the bus a machine
 * has without a KVM: KVM enters only through the two functions {@link #assemble} takes, the wired SPIs
 * (KVM_IRQ_LINE) and KVM_SIGNAL_MSI.
 *
 * @param mmio the bus the vCPU threads dispatch MMIO exits to
 * @param uart the PL011, which also takes the console's input when there is no virtio-console
 * @param msi  where the PCIe hierarchy's MSIs go
 */
record MachineBus(Bus mmio, Pl011 uart, MsiBackend msi) {
    /**
     * Builds the bus and connects every root complex's MSIs to the backend {@code mode} names. ITS: each segment's
     * requester ids become DeviceIDs of that segment's own ITS ({@link DeviceIdMapping}, the mapping the device
     * tree's msi-map describes), injected with {@code signalMsi}; the ITS itself is in the kernel, not on the bus.
     * v2m: the emulated frame sits on the bus and a message raises the SPI it names, as an edge.
     *
     * @param mode      {@link GicMsiMode#ITS} or {@link GicMsiMode#V2M} (AUTO is resolved before)
     * @param spi       the wired line of SPI n (not INTID: SPI 0 is INTID 32)
     * @param signalMsi KVM_SIGNAL_MSI with a DeviceID (ITS only)
     * @param panics    hears the guest kernel's pvpanic reports
     */
    static MachineBus assemble(
            PcieHost pcie,
            ConsoleOutput console,
            GicMsiMode mode,
            DeviceIdMapping its,
            IntFunction<IrqLine> spi,
            ItsMsiDelivery.Injector signalMsi,
            PvPanic.Listener panics) {
        Bus mmio = new Bus("mmio");
        Pl011 uart = new Pl011(console, spi.apply(MemoryMap.SPI_UART));
        mmio.register("pl011", MemoryMap.UART, Bus.PRIORITY_DEVICE, uart);
        // Linux reads the wall clock from the PL031 at boot (rtc-pl031 is built into the cloud kernel).
        mmio.register("pl031", MemoryMap.RTC, Bus.PRIORITY_DEVICE, new Pl031(spi.apply(MemoryMap.SPI_RTC)));
        mmio.register("pvpanic", MemoryMap.PVPANIC, Bus.PRIORITY_DEVICE, new PvPanic(panics));
        pcie.attach(mmio);
        MsiBackend backend = switch (mode) {
            case ITS -> new ItsMsiDelivery(its, signalMsi);
            case V2M -> {
                var frame = new Gicv2mFrame(
                        MemoryMap.GIC_V2M.base(),
                        MemoryMap.spiIntid(MemoryMap.SPI_V2M_BASE),
                        MemoryMap.V2M_SPI_COUNT,
                        intid -> {
                            // v2m SPIs are edge-triggered: raise and lower the line, one edge per message.
                            IrqLine line = spi.apply(intid - 32);
                            line.set(true);
                            line.set(false);
                        });
                mmio.register("gicv2m", MemoryMap.GIC_V2M, Bus.PRIORITY_DEVICE, frame);
                yield frame;
            }
            case AUTO -> throw new AssertionError("AUTO is resolved before the bus is built");
        };
        pcie.connectMsi(bridge -> backend.sink(bridge.segment()));
        return new MachineBus(mmio, uart, backend);
    }
}
