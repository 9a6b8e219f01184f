package dev.jvmm.core.machine;

import dev.jvmm.core.arch.aarch64.Aarch64DeviceTree;
import dev.jvmm.core.arch.aarch64.MemoryMap;
import dev.jvmm.core.arch.aarch64.PcieDeviceTree;
import dev.jvmm.core.boot.Aarch64Image;
import dev.jvmm.core.boot.BootException;
import dev.jvmm.core.boot.BootLayout;
import dev.jvmm.core.boot.Initrd;
import dev.jvmm.core.boot.KernelLoader;
import dev.jvmm.core.bus.Bus;
import dev.jvmm.core.devices.pvpanic.PvPanic;
import dev.jvmm.core.devices.serial.ConsoleWriter;
import dev.jvmm.core.devices.serial.Pl011;
import dev.jvmm.core.event.EventLoop;
import dev.jvmm.core.host.HostLimits;
import dev.jvmm.core.irq.DeviceIdMapping;
import dev.jvmm.core.irq.GicMsiMode;
import dev.jvmm.core.irq.IrqLine;
import dev.jvmm.core.irq.MsiBackend;
import dev.jvmm.core.irq.MsiControllerChoice;
import dev.jvmm.core.irq.MsiRoutes;
import dev.jvmm.core.irq.MsixIrqfds;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.pci.PcieHost;
import dev.jvmm.core.vcpu.ExternalAborts;
import dev.jvmm.core.vcpu.GuestExit;
import dev.jvmm.core.vcpu.RunState;
import dev.jvmm.core.vcpu.VcpuThread;
import dev.jvmm.kvm.Aarch64Regs;
import dev.jvmm.kvm.Aarch64VcpuFeature;
import dev.jvmm.kvm.Aarch64Vgic;
import dev.jvmm.kvm.Cap;
import dev.jvmm.kvm.ErrnoException;
import dev.jvmm.kvm.EventFd;
import dev.jvmm.kvm.HostArch;
import dev.jvmm.kvm.IrqRoute;
import dev.jvmm.kvm.Kvm;
import dev.jvmm.kvm.KvmHostProbe;
import dev.jvmm.kvm.MemorySlot;
import dev.jvmm.kvm.Mmap;
import dev.jvmm.kvm.VcpuFd;
import dev.jvmm.kvm.VmFd;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * An aarch64 virtual machine: guest RAM, vCPUs, the in-kernel vGICv3 (one ITS per PCIe segment) or vGICv2 (with
 * jvmm's GICv2m frame) and timer, a PL011 console, PCIe devices with their back ends on an event loop, and a
 * kernel booted directly (Documentation/arch/arm64/booting.rst).
 *
 * <p>Bring-up order follows what KVM requires (devices/arm-vgic-v3.rst, arm-vgic.rst): vGIC created and placed,
 * every vCPU created and initialized, then the vGIC's CTRL_INIT, then the ITSes; GSI routes and irqfds after the
 * vGIC is initialized. Teardown is the reverse: vCPU threads joined, then the event loop, then device eventfds,
 * KVM objects, and guest memory last.
 */
public final class Machine implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Machine.class.getName());
    /** The boot CPU's registers: x0 = DTB address, x1..x3 = 0 (booting.rst "CPU mode"). */
    private static final int BOOT_ARGS = 4;

    private final MachineConfig config;
    private final Kvm kvm;
    private final VmFd vm;
    private final Aarch64Vgic vgic;
    private final List<VcpuFd> vcpus;
    private final Arena ramArena;
    private final GuestMemory ram;
    private final Bus mmio;
    private final Pl011 uart;
    private final PanicWatcher console;
    private final ConsoleWriter consoleWriter;
    private final MsiControllerChoice msi;
    private final PcieHost pcie;
    private final PcieDevices devices;
    private final EventLoop events;
    private final MsiBackend msiBackend;
    private final BootLayout boot;
    private final SetupPhases setupPhases;
    private final RunState state;
    private final java.util.concurrent.atomic.AtomicBoolean crashKernelLoaded;
    private final ExternalAborts aborts;
    // Appended by run() while a signal handler's stop() may iterate it: copy-on-write, writes are rare.
    private final List<VcpuThread> threads = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    private Machine(Builder b) {
        this.config = b.config;
        this.kvm = b.kvm;
        this.vm = b.vm;
        this.vgic = b.vgic;
        this.vcpus = List.copyOf(b.vcpus);
        this.ramArena = b.ramArena;
        this.ram = b.ram;
        this.mmio = b.mmio;
        this.uart = b.uart;
        this.console = b.console;
        this.consoleWriter = b.consoleWriter;
        this.msi = b.msi;
        this.pcie = b.pcie;
        this.devices = b.devices;
        this.events = b.events;
        this.msiBackend = b.msiBackend;
        this.boot = b.boot;
        this.setupPhases = b.phases;
        this.aborts = new ExternalAborts(b.injectAborts);
        this.state = b.state;
        this.crashKernelLoaded = b.crashKernelLoaded;
    }

    /**
     * Starts initializing the KVM layer on a background thread, to overlap its cost (seconds under emulation)
     * with the caller's own start-up. Harmless when the machine is never built.
     */
    public static void preloadInBackground() {
        Thread.ofPlatform().daemon().name("jvmm-preload").start(Kvm::preload);
    }

    /** Builds the machine; on failure everything created so far is released again. */
    public static Machine create(MachineConfig config, Path kvmDevice, OutputStream consoleOut)
            throws MachineException {
        Builder b = new Builder(config);
        try {
            b.consoleWriter = new ConsoleWriter(consoleOut);
            b.build(kvmDevice, b.consoleWriter);
            return new Machine(b);
        } catch (ErrnoException e) {
            b.release();
            throw new MachineException(e.getMessage(), e);
        } catch (BootException e) {
            b.release();
            throw new MachineException(e.getMessage(), e, true);
        } catch (MachineException | RuntimeException e) {
            b.release();
            throw e;
        }
    }

    public MachineConfig config() {
        return config;
    }

    public MsiControllerChoice msi() {
        return msi;
    }

    public BootLayout bootLayout() {
        return boot;
    }

    /** The PCIe hierarchy, its host bridges and BAR mappings. */
    public PcieHost pcie() {
        return pcie;
    }

    /** Starts every vCPU and waits for the guest's outcome; all vCPU threads have ended when this returns. */
    public GuestExit run() throws MachineException {
        try {
            for (VcpuFd v : vcpus) {
                VcpuThread t = new VcpuThread(v, mmio, state, aborts);
                threads.add(t);
                t.start();
            }
            GuestExit exit = state.await();
            stopVcpus();
            if (exit instanceof GuestExit.Reset && console.panic().isPresent()) {
                return new GuestExit.Panic(console.panic().get());
            }
            if (exit instanceof GuestExit.Reset && crashKernelLoaded.get()) {
                return new GuestExit.Panic("the guest kernel crashed and restarted from its crash kernel (pvpanic)");
            }
            return exit;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            state.finish(new GuestExit.Stopped("interrupted"));
            stopVcpus();
            return new GuestExit.Stopped("interrupted");
        }
    }

    /** Ends the run from outside (signal, management request). */
    public void stop(String why) {
        if (state.finish(new GuestExit.Stopped(why))) {
            for (VcpuThread t : threads) t.kick();
        }
    }

    private void stopVcpus() {
        for (VcpuThread t : threads) t.kick();
        boolean interrupted = false;
        for (VcpuThread t : threads) {
            while (true) {
                try {
                    t.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
        long unhandled = unhandledMmio();
        if (unhandled > 0)
            LOG.log(System.Logger.Level.INFO, "{0} guest MMIO accesses were decoded by no device", unhandled);
    }

    /**
     * Bytes typed at the console, for the guest's console: the virtio-console when there is one, else the UART's
     * receive FIFO. Returns how many were accepted (the UART keeps
     * a bounded backlog; the rest is dropped, as a real line would).
     */
    public int consoleInput(byte[] data, int offset, int length) {
        return devices.virtioConsole()
                .map(c -> c.pushInput(data, offset, length))
                .orElseGet(() -> uart.pushInput(data, offset, length));
    }

    /** How long each step of building this machine took ("kernel-read=812ms ..."), for --stats. */
    public String setupPhases() {
        return setupPhases.toString();
    }

    /**
     * Guest MMIO accesses no device decoded, over all vCPUs: those to addresses nothing claims (reads complete as
     * 0) and those straddling a region's end (the bus answers all ones or drops them).
     */
    public long unhandledMmio() {
        return mmio.unhandledReads() + mmio.unhandledWrites() + mmio.straddlingReads() + mmio.straddlingWrites();
    }

    /**
     * MSI figures for --stats: what the backend did with messages sent through it (KVM_SIGNAL_MSI or v2m), and per
     * device how many interrupts went through irqfds and how many the slow way.
     */
    public String msiStats() {
        return msi.msi().cliName() + ": " + msiBackend.stats() + (devices.isEmpty() ? "" : "; " + devices.stats());
    }

    /**
     * The MSI-X vectors of device {@code name} (a {@code --rng id=...} and the like): its irqfd fast path and, through
     * the function, the KVM_SIGNAL_MSI path; for diagnostics and benchmarks.
     */
    public Optional<MsixIrqfds> msixVectors(String name) {
        return devices.irqfds(name);
    }

    /** External data aborts given to the guest for MMIO accesses KVM could not decode (KVM_EXIT_ARM_NISV). */
    public long externalAborts() {
        return aborts.count();
    }

    /** Exits seen by each vCPU, for diagnostics and benchmarks. */
    public long[] exitCounts() {
        return threads.stream().mapToLong(VcpuThread::exits).toArray();
    }

    /** Stops the guest if it still runs, joins every vCPU thread, then releases KVM objects and guest RAM. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        stop("machine closed");
        stopVcpus();
        Builder.releaseAll(events, devices, vcpus, vgic, vm, kvm, ramArena);
        consoleWriter.close(); // last: the devices may have written to it while closing
    }

    /** Console bytes the guest sent that never reached the host's stdout (its reader stalled or went away). */
    public long consoleDropped() {
        return consoleWriter.dropped();
    }

    /** Creation steps, with what was made so far kept for release on failure. */
    private static final class Builder {
        final MachineConfig config;
        Kvm kvm;
        VmFd vm;
        Aarch64Vgic vgic;
        final List<VcpuFd> vcpus = new ArrayList<>();
        Arena ramArena;
        GuestMemory ram;
        Bus mmio;
        Pl011 uart;
        PanicWatcher console;
        ConsoleWriter consoleWriter;
        MsiControllerChoice msi;
        PcieHost pcie;
        PcieDevices devices;
        EventLoop events;
        MsiBackend msiBackend;
        BootLayout boot;
        boolean injectAborts;
        final RunState state = new RunState();
        final java.util.concurrent.atomic.AtomicBoolean crashKernelLoaded =
                new java.util.concurrent.atomic.AtomicBoolean();
        final SetupPhases phases = new SetupPhases();

        Builder(MachineConfig config) {
            this.config = config;
        }

        void build(Path kvmDevice, ConsoleWriter consoleOut) throws ErrnoException, BootException, MachineException {
            // Read and check the guest's files before touching KVM: a bad kernel is the most likely mistake.
            // Before any allocation: RAM the host cannot give would end in an OOM kill once the guest touches it.
            var noRam = HostLimits.current().flatMap(h -> h.memoryProblem(config.memoryBytes()));
            if (noRam.isPresent()) throw new MachineException(noRam.get(), null, true);
            Aarch64Image kernel = Aarch64Image.load(config.kernel());
            phases.mark("kernel-read");
            ramArena = Arena.ofShared();
            Initrd initrd =
                    config.initrd().isPresent() ? Initrd.open(config.initrd().get()) : null;
            phases.mark("initrd-open");

            kvm = Kvm.open(kvmDevice);
            vm = kvm.createVm();
            phases.mark("kvm-open");
            msi = chooseMsi(); // first: on a non-arm64 host it names the real problem
            requireCaps();
            var tooMany = HostLimits.vcpuProblem(
                    config.cpus(), vm.checkExtension(Cap.MAX_VCPUS), vm.checkExtension(Cap.NR_VCPUS));
            if (tooMany.isPresent()) throw new MachineException(tooMany.get(), null, true);
            if (!msi.gicV3() && config.cpus() > MemoryMap.GIC_V2_MAX_VCPUS) {
                throw new MachineException(
                        "this host's KVM offers only a GICv2, which serves at most %d vCPUs (asked for %d)"
                                .formatted(MemoryMap.GIC_V2_MAX_VCPUS, config.cpus()),
                        null,
                        true);
            }
            MemoryMap map = MemoryMap.create(config.cpus(), config.memoryBytes(), 40);

            // RAM first: the PCIe devices' back ends work on it.
            ram = new GuestMemory(MemoryMap.RAM_BASE, Mmap.anonymous(config.memoryBytes(), ramArena));
            vm.setUserMemoryRegion(new MemorySlot(0, 0, MemoryMap.RAM_BASE, ram.backing()));
            console = new PanicWatcher(consoleOut);
            devices = new PcieDevices(ram, config.cpus(), console, SecureRandom::new);
            try {
                pcie = PcieHost.create(config.pcie(), map, devices::create);
            } catch (PcieDevices.SetupException e) {
                throw new MachineException(e.getMessage(), e.getCause(), true);
            }
            DeviceIdMapping its = DeviceIdMapping.forSegments(pcie.segments());

            vgic = msi.gicV3()
                    ? Aarch64Vgic.createV3(
                            vm, MemoryMap.GIC_DIST.base(), MemoryMap.GIC_REDIST_BASE, MemoryMap.GIC_NR_IRQS)
                    : Aarch64Vgic.createV2(
                            vm, MemoryMap.GIC_DIST.base(), MemoryMap.GIC_CPU.base(), MemoryMap.GIC_NR_IRQS);
            int target = vm.armPreferredTarget();
            for (int i = 0; i < config.cpus(); i++) {
                VcpuFd v = vm.createVcpu(i);
                vcpus.add(v);
                // Secondary vCPUs start powered off; the guest starts them with PSCI CPU_ON, which KVM handles.
                if (i == 0) v.armVcpuInit(target, Aarch64VcpuFeature.PSCI_0_2);
                else v.armVcpuInit(target, Aarch64VcpuFeature.PSCI_0_2, Aarch64VcpuFeature.POWER_OFF);
                long mpidr = v.getOneReg(Aarch64Regs.MPIDR_EL1) & 0xff_00ff_ffffL;
                if (mpidr != MemoryMap.mpidr(i)) {
                    throw new MachineException("vCPU %d has MPIDR 0x%x but the device tree would name 0x%x"
                            .formatted(i, mpidr, MemoryMap.mpidr(i)));
                }
            }
            vgic.initialize();
            phases.mark("vgic-vcpus");
            if (msi.msi() == GicMsiMode.ITS) {
                for (DeviceIdMapping.Its i : its.its()) vgic.addIts(vm, i.base());
            }
            // Undecodable MMIO (ISV = 0) comes to jvmm as KVM_EXIT_ARM_NISV instead of failing KVM_RUN with ENOSYS,
            // so the guest can get the external abort hardware would give it (api.rst §7.19, §8.23).
            if (vm.checkExtension(Cap.ARM_NISV_TO_USER) > 0) vm.enableCap(Cap.ARM_NISV_TO_USER);
            injectAborts = vm.checkExtension(Cap.ARM_INJECT_EXT_DABT) > 0;

            VmFd v = vm;
            MachineBus bus = MachineBus.assemble(
                    pcie,
                    console,
                    msi.msi(),
                    its,
                    this::spi,
                    (address, data, devid) -> v.signalMsi(address, data, OptionalInt.of(devid)),
                    pvpanic());
            mmio = bus.mmio();
            uart = bus.uart();
            msiBackend = bus.msi();
            events = EventLoop.start("jvmm-events");
            devices.wire(
                    vm, pcie, msiBackend, new MsiRoutes(routingKernel(vm), vm.checkExtension(Cap.IRQ_ROUTING)), events);

            Aarch64DeviceTree.MsiController dtMsi = switch (msi.msi()) {
                case ITS -> Aarch64DeviceTree.MsiController.ITS;
                case V2M -> Aarch64DeviceTree.MsiController.GICV2M;
                case AUTO -> throw new AssertionError("AUTO is resolved by chooseMsi");
            };
            phases.mark("ram-devices");
            boot = KernelLoader.load(
                    ram,
                    kernel,
                    initrd,
                    config.cmdline(),
                    (cmdline, initrdRange) -> Aarch64DeviceTree.build(new Aarch64DeviceTree.Config(
                            map,
                            cmdline,
                            initrdRange,
                            dtMsi,
                            true,
                            PcieDeviceTree.of(pcie, dtMsi),
                            msi.gicV3() ? Aarch64DeviceTree.Gic.V3 : Aarch64DeviceTree.Gic.V2,
                            its)));

            VcpuFd bsp = vcpus.get(0);
            bsp.setOneReg(Aarch64Regs.PC, boot.entryPoint());
            bsp.setOneReg(Aarch64Regs.x(0), boot.x0());
            for (int i = 1; i < BOOT_ARGS; i++) bsp.setOneReg(Aarch64Regs.x(i), 0);
            bsp.setOneReg(Aarch64Regs.PSTATE, Aarch64Regs.PSTATE_EL1H_DAIF_MASKED);
            phases.mark("load-boot-regs");
        }

        /**
         * What the guest kernel's pvpanic notifier reports: a panic ends the run as a crash at once (even a guest
         * with {@code panic=0}, which would otherwise hang); a crash kernel taking over lets the guest dump and
         * restart, and that restart counts as a crash.
         */
        private PvPanic.Listener pvpanic() {
            return new PvPanic.Listener() {
                @Override
                public void panicked() {
                    state.finish(new GuestExit.Panic("the guest kernel reported a panic (pvpanic)"));
                }

                @Override
                public void crashLoaded() {
                    if (!crashKernelLoaded.getAndSet(true)) {
                        LOG.log(
                                System.Logger.Level.WARNING,
                                "the guest kernel crashed and runs its crash kernel (pvpanic)");
                    }
                }
            };
        }

        /** The VM's GSI routing and irqfd ioctls, for {@link MsiRoutes}. */
        private static MsiRoutes.Kernel routingKernel(VmFd vm) {
            return new MsiRoutes.Kernel() {
                @Override
                public void setGsiRouting(List<IrqRoute> routes) throws ErrnoException {
                    vm.setGsiRouting(routes);
                }

                @Override
                public void assignIrqfd(EventFd event, int gsi) throws ErrnoException {
                    vm.registerIrqfd(event, gsi);
                }

                @Override
                public void deassignIrqfd(EventFd event, int gsi) throws ErrnoException {
                    vm.unregisterIrqfd(event, gsi);
                }
            };
        }

        /** A wired SPI from a device to the vGIC: KVM_IRQ_LINE, errors logged (a device must not stop the VM). */
        IrqLine spi(int spi) {
            int line = Aarch64Vgic.spiLine(MemoryMap.spiIntid(spi));
            VmFd v = vm;
            return level -> {
                try {
                    v.irqLine(line, level);
                } catch (ErrnoException e) {
                    LOG.log(System.Logger.Level.WARNING, "SPI {0}: {1}", spi, e.getMessage());
                }
            };
        }

        private void requireCaps() throws ErrnoException, MachineException {
            for (Cap c : new Cap[] {
                Cap.ARM_PSCI_0_2,
                Cap.ONE_REG,
                Cap.DEVICE_CTRL,
                Cap.USER_MEMORY,
                Cap.SIGNAL_MSI,
                Cap.IRQFD,
                Cap.IRQ_ROUTING,
                Cap.IOEVENTFD
            }) {
                if (vm.checkExtension(c) <= 0) {
                    throw new MachineException("the host's KVM lacks " + c.kvmName() + ", which jvmm needs");
                }
            }
        }

        private MsiControllerChoice chooseMsi() throws ErrnoException, MachineException {
            var host = new MsiControllerChoice.HostGic(
                    HostArch.current() == HostArch.AARCH64,
                    vm.canCreateDevice(KvmHostProbe.DEVICE_TYPES.get("KVM_DEV_TYPE_ARM_VGIC_V3")),
                    vm.canCreateDevice(KvmHostProbe.DEVICE_TYPES.get("KVM_DEV_TYPE_ARM_VGIC_V2")),
                    vm.canCreateDevice(KvmHostProbe.DEVICE_TYPES.get("KVM_DEV_TYPE_ARM_VGIC_ITS")));
            try {
                return MsiControllerChoice.choose(config.gicMsi(), host);
            } catch (MsiControllerChoice.Unavailable u) {
                throw new MachineException(u.getMessage(), u);
            }
        }

        void release() {
            releaseAll(events, devices, vcpus, vgic, vm, kvm, ramArena);
            if (consoleWriter != null) consoleWriter.close();
        }

        /** In this order: no device thread may touch guest RAM or an fd once they are released. */
        static void releaseAll(
                EventLoop events,
                PcieDevices devices,
                List<VcpuFd> vcpus,
                Aarch64Vgic vgic,
                VmFd vm,
                Kvm kvm,
                Arena ramArena) {
            quietly(events);
            quietly(devices);
            for (VcpuFd v : vcpus) quietly(v);
            quietly(vgic);
            quietly(vm);
            quietly(kvm);
            if (ramArena != null) ramArena.close();
        }

        private static void quietly(AutoCloseable c) {
            if (c == null) return;
            try {
                c.close();
            } catch (Exception e) {
                LOG.log(System.Logger.Level.WARNING, "closing {0}: {1}", c, e.getMessage());
            }
        }
    }
}
