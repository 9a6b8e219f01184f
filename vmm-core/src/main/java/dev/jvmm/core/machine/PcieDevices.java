package dev.jvmm.core.machine;

import dev.jvmm.core.bus.AddressRange;
import dev.jvmm.core.bus.RateLimitedLogger;
import dev.jvmm.core.devices.serial.ConsoleOutput;
import dev.jvmm.core.event.EventLoop;
import dev.jvmm.core.irq.MsiBackend;
import dev.jvmm.core.irq.MsiRoutes;
import dev.jvmm.core.irq.MsixIrqfds;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.pci.BarMapper;
import dev.jvmm.core.pci.PcieConfig;
import dev.jvmm.core.pci.PcieHost;
import dev.jvmm.core.pci.PcieHostBridge;
import dev.jvmm.core.virtio.VirtioDevice;
import dev.jvmm.core.virtio.blk.FileBackend;
import dev.jvmm.core.virtio.blk.VirtioBlk;
import dev.jvmm.core.virtio.console.VirtioConsole;
import dev.jvmm.core.virtio.pci.VirtioPciTransport;
import dev.jvmm.core.virtio.rng.VirtioRng;
import dev.jvmm.kvm.ErrnoException;
import dev.jvmm.kvm.EventFd;
import dev.jvmm.kvm.VmFd;
import dev.jvmm.pcie.PciFunction;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;
import java.util.stream.Collectors;

/**
 * The devices jvmm makes for the PCIe hierarchy ({@link PcieConfig.DeviceSpec}) and what connects them to KVM:
 * <ul>
 *   <li>interrupts: each function's MSI-X vectors get irqfds with GSI routes kept current by {@link MsixIrqfds};</li>
 *   <li>queue notifications: one eventfd per queue, registered as an ioeventfd (api.rst §4.59) at the notify
 *       address inside the BAR wherever the guest maps it, and watched by the {@link EventLoop}; the guest's
 *       notify write then costs no exit to userspace. While the BAR is not mapped (or KVM refused the ioeventfd)
 *       the write exits as MMIO and the transport handles it on the vCPU thread.</li>
 * </ul>
 */
final class PcieDevices implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(PcieDevices.class.getName());

    private final GuestMemory ram;
    private final int queuesPerDisk;
    private final ConsoleOutput consoleOut;
    private final Supplier<? extends RandomGenerator> entropy;
    private final List<Device> devices = new ArrayList<>();
    private VirtioConsole console;
    private final RateLimitedLogger ioeventfdErrors = new RateLimitedLogger(LOG);
    private MsiRoutes routes;

    /** One device: its transport and, once wired, its irqfds and notification eventfds. */
    private final class Device {
        final PcieConfig.DeviceSpec spec;
        final VirtioPciTransport transport;
        MsixIrqfds irqfds;
        final List<Notifier> notifiers = new ArrayList<>();

        Device(PcieConfig.DeviceSpec spec, VirtioPciTransport transport) {
            this.spec = spec;
            this.transport = transport;
        }
    }

    /** One queue's ioeventfd: where it is registered now, if anywhere. */
    private final class Notifier {
        final VirtioPciTransport.NotifyRegion region;
        final EventFd fd;
        final VmFd vm;
        Optional<VmFd.IoEvent> registered = Optional.empty();

        Notifier(VirtioPciTransport.NotifyRegion region, EventFd fd, VmFd vm) {
            this.region = region;
            this.fd = fd;
            this.vm = vm;
        }

        /** Moves the ioeventfd to follow BAR {@code bar} (called under the host bridge's BarSpace lock). */
        void barMapped(int bar, Optional<AddressRange> where) {
            if (bar != region.bar()) return;
            Optional<VmFd.IoEvent> next = where.map(r -> VmFd.IoEvent.mmio(r.base() + region.offset(), 0));
            if (next.equals(registered)) return;
            if (registered.isPresent()) {
                try {
                    vm.unregisterIoeventfd(registered.get(), fd);
                } catch (ErrnoException e) {
                    ioeventfdErrors.log(Level.WARNING, "queue %d: %s", region.queue(), e.getMessage());
                }
                registered = Optional.empty();
            }
            if (next.isPresent()) {
                try {
                    vm.registerIoeventfd(next.get(), fd);
                    registered = next;
                } catch (ErrnoException e) {
                    // The notify write then exits to the transport: slower, still correct.
                    ioeventfdErrors.log(
                            Level.WARNING, "queue %d: %s (notifications exit to jvmm)", region.queue(), e.getMessage());
                }
            }
        }
    }

    /** A device that could not be set up from its options (a disk image that is missing, locked, a directory ...). */
    static final class SetupException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        SetupException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * @param queuesPerDisk virtio-blk queues per disk (VIRTIO_BLK_F_MQ; one per vCPU)
     * @param consoleOut    where a virtio-console's output goes (the machine's console)
     * @param entropy       makes each virtio-rng's source: the machine's is {@code SecureRandom::new}; the fuzz
     *                      harness seeds its own so that a run replays
     */
    PcieDevices(
            GuestMemory ram, int queuesPerDisk, ConsoleOutput consoleOut, Supplier<? extends RandomGenerator> entropy) {
        this.ram = Objects.requireNonNull(ram);
        this.queuesPerDisk = queuesPerDisk;
        this.consoleOut = Objects.requireNonNull(consoleOut);
        this.entropy = Objects.requireNonNull(entropy);
    }

    /**
     * Makes the function of {@code spec} (the factory {@link PcieHost#create} calls while building the hierarchy).
     *
     * @throws SetupException when the device's host side cannot be opened
     */
    PciFunction create(PcieConfig.DeviceSpec spec, boolean integrated) {
        VirtioDevice device = switch (spec.kind()) {
            case VIRTIO_RNG -> new VirtioRng(entropy.get());
            case VIRTIO_BLK -> new VirtioBlk(openDisk(spec), queuesPerDisk);
            case VIRTIO_CONSOLE -> {
                if (console != null) throw new SetupException("only one virtio-console is supported", null);
                console = new VirtioConsole(consoleOut);
                yield console;
            }
        };
        VirtioPciTransport transport = new VirtioPciTransport(spec.name(), device, ram, integrated);
        devices.add(new Device(spec, transport));
        return transport.function();
    }

    private static FileBackend openDisk(PcieConfig.DeviceSpec spec) {
        PcieConfig.DiskOptions disk = spec.disk();
        try {
            return FileBackend.open(disk.file(), disk.readOnly(), spec.name());
        } catch (IOException | IllegalArgumentException e) {
            throw new SetupException("disk '%s' (%s): %s".formatted(spec.name(), disk.file(), e.getMessage()), e);
        }
    }

    boolean isEmpty() {
        return devices.isEmpty();
    }

    /** The transports of the devices made so far, in the order {@link #create} made them. */
    List<VirtioPciTransport> transports() {
        return devices.stream().map(d -> d.transport).toList();
    }

    /** The virtio-console, when the machine has one: it then takes the console input instead of the UART. */
    Optional<VirtioConsole> virtioConsole() {
        return Optional.ofNullable(console);
    }

    /** The irqfds of device {@code name}'s MSI-X vectors, once wired. */
    Optional<MsixIrqfds> irqfds(String name) {
        return devices.stream()
                .filter(d -> d.spec.name().equals(name) && d.irqfds != null)
                .map(d -> d.irqfds)
                .findFirst();
    }

    /**
     * Connects every device to KVM: irqfd routes through {@code backend}, refreshed on bus renumbering of its root
     * complex, and ioeventfds handled on {@code events}. Call after {@link PcieHost#attach} and before the vCPUs run.
     */
    void wire(VmFd vm, PcieHost pcie, MsiBackend backend, MsiRoutes routes, EventLoop events) throws ErrnoException {
        this.routes = routes;
        for (Device d : devices) {
            PciFunction f = d.transport.function();
            PcieHostBridge bridge = pcie.bridgeOf(f)
                    .orElseThrow(() -> new IllegalStateException(d.spec.name() + " is below no host bridge"));
            d.irqfds = MsixIrqfds.attach(d.spec.name(), d.transport.function(), bridge.segment(), routes, backend);
            bridge.rootComplex().addBusNumberListener(d.irqfds::refresh);
            d.transport.setInterruptSink(d.irqfds::raise);
            for (VirtioPciTransport.NotifyRegion r : d.transport.notifyRegions()) {
                EventFd fd = EventFd.create(true);
                Notifier n = new Notifier(r, fd, vm);
                d.notifiers.add(n);
                events.register(fd, () -> d.transport.notifyQueue(r.queue()));
            }
            BarMapper mapper = pcie.barMapper(f).orElseThrow();
            mapper.observe((bar, where) -> d.notifiers.forEach(n -> n.barMapped(bar, where)));
        }
    }

    /** Per device: interrupts raised through irqfds (fast) and through the MSI-X capability (slow). */
    String stats() {
        return devices.stream()
                .filter(d -> d.irqfds != null)
                .map(d ->
                        "%s irqfd=%d direct=%d".formatted(d.spec.name(), d.irqfds.fastRaises(), d.irqfds.slowRaises()))
                .collect(Collectors.joining(", "));
    }

    /**
     * Shuts the devices down (a disk completes or fails what is in flight, then flushes to stable storage), then
     * releases irqfds and eventfds. The vCPUs and the event loop must have stopped first; guest RAM is unmapped after.
     */
    @Override
    public void close() {
        for (Device d : devices) {
            if (!(d.transport.device() instanceof AutoCloseable c)) continue;
            try {
                c.close();
            } catch (Exception e) {
                // A disk whose last flush failed may have lost data: say so loudly, it is the user's data.
                LOG.log(Level.ERROR, "{0}: {1}", d.spec.name(), e.getMessage());
            }
        }
        if (routes != null) routes.close();
        for (Device d : devices) {
            if (d.irqfds != null) d.irqfds.close();
            for (Notifier n : d.notifiers) {
                try {
                    n.fd.close();
                } catch (ErrnoException e) {
                    LOG.log(Level.WARNING, "closing {0}: {1}", n.fd, e.getMessage());
                }
            }
        }
    }
}
