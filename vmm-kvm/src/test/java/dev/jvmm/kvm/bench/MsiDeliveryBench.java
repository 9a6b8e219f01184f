package dev.jvmm.kvm.bench;

import dev.jvmm.kvm.Aarch64Vgic;
import dev.jvmm.kvm.Errno;
import dev.jvmm.kvm.ErrnoException;
import dev.jvmm.kvm.EventFd;
import dev.jvmm.kvm.HostArch;
import dev.jvmm.kvm.IrqRoute;
import dev.jvmm.kvm.Kvm;
import dev.jvmm.kvm.VcpuExit;
import dev.jvmm.kvm.VcpuFd;
import dev.jvmm.kvm.VcpuRunner;
import dev.jvmm.kvm.VmFd;
import dev.jvmm.kvm.X86Guest;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;

/**
 * MSI deliveries per second through jvmm's public KVM API, next to the same loops in C
 * (vmm-kvm/src/test/c/msi_delivery_bench.c, which documents the set-up; both are run by scripts/bench-msi).
 * Prints {@code ROUND java <benchmark> <ops per wall-clock s> <ops per CPU s of the calling thread>} for each timed
 * round and then {@code RESULT java <benchmark> <median> <min> <max>} (ops per wall-clock second) over them. The CPU
 * time figure leaves out the time other processes held the CPU, which matters on a shared machine; JIT and GC
 * threads are not counted in it, so the untimed warm-up rounds must leave the loop compiled.
 *
 * <p>A plain main rather than JMH: the question is the cost of one Java call next to one C call of the same
 * syscall, so both sides run the same simple timed loop (untimed warm-up rounds first, which also let C2 compile
 * the Java loop), with nothing of a harness in one and not the other.
 *
 * <p>With {@code --peer PROGRAM} (the C program), each timed Java round is paired with one timed round of the
 * same benchmark in a fresh run of the C program ({@code --only NAME --rounds 1}, its own warm-up), right before or
 * after it (alternating), and the C program's ROUND lines are printed too: where the machine's speed drifts, as it
 * does under emulation, each pair is measured under the same conditions.
 *
 * <p>Usage: {@code MsiDeliveryBench [--calls N] [--rounds R] [--warmup W] [--peer PROGRAM [--peer-warmup W]]}
 */
public final class MsiDeliveryBench {
    private static final long X86_MSI_ADDRESS = 0xFEE0_0000L; // LAPIC of APIC id 0
    private static final int X86_MSI_DATA = 0x30; // fixed delivery, vector 0x30
    private static final int X86_GSI = 24;
    private static final int ARM_SPI = 10; // INTID 42
    private static final long ARM_ITS_BASE = 0x0808_0000L; // as on QEMU's virt board
    private static final int ARM_DEVID = 0x0008; // 00:01.0; no guest ever maps it

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private static long calls = 100_000;
    private static int rounds = 5;
    private static int warmup = 3;
    private static String peer;
    private static int peerWarmup = 1;
    private static final String USAGE =
            "usage: MsiDeliveryBench [--calls N] [--rounds R] [--warmup W] [--peer PROGRAM [--peer-warmup W]]";

    @FunctionalInterface
    private interface Loop {
        void run(long n) throws ErrnoException;
    }

    private MsiDeliveryBench() {}

    public static void main(String[] args) throws Exception {
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--calls" -> calls = Long.parseLong(args[i + 1]);
                case "--rounds" -> rounds = Integer.parseInt(args[i + 1]);
                case "--warmup" -> warmup = Integer.parseInt(args[i + 1]);
                case "--peer" -> peer = args[i + 1];
                case "--peer-warmup" -> peerWarmup = Integer.parseInt(args[i + 1]);
                default -> {
                    System.err.println(USAGE);
                    System.exit(2);
                }
            }
        }
        if (args.length % 2 != 0 || calls < 1 || rounds < 1 || warmup < 0 || peerWarmup < 0) {
            System.err.println(USAGE);
            System.exit(2);
        }
        try (EventFd plain = EventFd.create(true)) {
            Loop eventfdWrite = n -> {
                for (long i = 0; i < n; i++) plain.signal();
                plain.read(); // keep the counter far from its limit
            };
            Kvm kvm;
            try {
                kvm = Kvm.open();
            } catch (ErrnoException e) {
                System.out.println(
                        "NOTE java: no usable /dev/kvm (" + e.getMessage() + "): only eventfd_write is measured");
                bench("eventfd_write", eventfdWrite);
                return;
            }
            try (kvm) {
                switch (HostArch.current()) {
                    case X86_64 -> x86(kvm, eventfdWrite);
                    case AARCH64 -> {
                        try (VmFd vm = kvm.createVm()) {
                            arm64(vm, eventfdWrite);
                        }
                    }
                    case OTHER -> throw new IllegalStateException("x86_64 or aarch64 only");
                }
            }
        }
    }

    /**
     * The C program's x86_setup, through the Java API (the tests' {@link X86Guest}): a LAPIC enabled by the guest,
     * a vCPU stopped in userspace.
     */
    private static void x86(Kvm kvm, Loop eventfdWrite) throws ErrnoException {
        byte[] code = X86Guest.enablingTheLapic(
                (byte) 0xE6,
                (byte) 0x10, // out 0x10, al
                (byte) 0xF4); // hlt
        try (X86Guest g = new X86Guest(kvm, true, code);
                EventFd irqfd = EventFd.create(true)) {
            VmFd vm = g.vm;
            g.setDsBase(X86_MSI_ADDRESS);
            try (VcpuRunner r = g.vcpu.runner()) {
                if (!(r.run() instanceof VcpuExit.IoOut io) || io.port() != 0x10) {
                    throw new IllegalStateException("the guest did not reach its port write to 0x10");
                }
            }
            vm.setGsiRouting(List.of(new IrqRoute.Msi(X86_GSI, X86_MSI_ADDRESS, X86_MSI_DATA, OptionalInt.empty())));
            vm.registerIrqfd(irqfd, X86_GSI);
            int delivered = vm.signalMsi(X86_MSI_ADDRESS, X86_MSI_DATA, OptionalInt.empty());
            System.out.println(
                    "# java: x86_64, first KVM_SIGNAL_MSI returned " + delivered + " (1 = delivered to one LAPIC)");
            bench("eventfd_write", eventfdWrite);
            bench("signal_msi", n -> {
                for (long i = 0; i < n; i++) vm.signalMsi(X86_MSI_ADDRESS, X86_MSI_DATA, OptionalInt.empty());
            });
            bench("irqfd_msi", n -> {
                for (long i = 0; i < n; i++) irqfd.signal();
            });
            vm.unregisterIrqfd(irqfd, X86_GSI);
        }
    }

    /**
     * The C program's arm64_setup: vGICv3 + one vCPU, SPI 10 by KVM_IRQ_LINE and by an irqfd, and an ITS that no
     * guest has enabled (KVM answers KVM_SIGNAL_MSI to it with EBUSY, which jvmm throws as an ErrnoException).
     */
    private static void arm64(VmFd vm, Loop eventfdWrite) throws ErrnoException {
        try (Aarch64Vgic gic = Aarch64Vgic.createV3(vm, 0x0800_0000L, 0x080A_0000L, 128);
                VcpuFd vcpu = vm.createVcpu(0);
                EventFd irqfd = EventFd.create(true)) {
            vcpu.armVcpuInit(vm.armPreferredTarget());
            gic.initialize();
            gic.addIts(vm, ARM_ITS_BASE);
            int line = Aarch64Vgic.spiLine(32 + ARM_SPI);
            // An irqchip route's pin is the SPI index: KVM adds the 32 private interrupts (vgic-irqfd.c).
            vm.setGsiRouting(List.of(new IrqRoute.Irqchip(ARM_SPI, 0, ARM_SPI)));
            vm.registerIrqfd(irqfd, ARM_SPI);
            long doorbell = ARM_ITS_BASE + Aarch64Vgic.ITS_TRANSLATER_OFFSET;
            OptionalInt devid = OptionalInt.of(ARM_DEVID);
            String first;
            try {
                first = "returned " + vm.signalMsi(doorbell, 0, devid);
            } catch (ErrnoException e) {
                first = "failed: " + e.getMessage();
            }
            System.out.println(
                    "# java: aarch64, vGICv3 + an ITS the guest never enabled; first KVM_SIGNAL_MSI to it " + first);
            bench("eventfd_write", eventfdWrite);
            bench("irq_line_spi", n -> {
                for (long i = 0; i < n; i++) {
                    vm.irqLine(line, true);
                    vm.irqLine(line, false);
                }
            });
            bench("irqfd_spi", n -> {
                for (long i = 0; i < n; i++) irqfd.signal();
            });
            bench("signal_msi_its_off", n -> {
                for (long i = 0; i < n; i++) {
                    try {
                        vm.signalMsi(doorbell, 0, devid);
                        throw new IllegalStateException("KVM_SIGNAL_MSI to a disabled ITS succeeded");
                    } catch (ErrnoException e) {
                        if (!e.is(Errno.EBUSY)) throw e;
                    }
                }
            });
            vm.unregisterIrqfd(irqfd, ARM_SPI);
        }
    }

    private static void bench(String name, Loop loop) throws ErrnoException {
        for (int i = 0; i < warmup; i++) loop.run(calls);
        double[] ops = new double[rounds];
        for (int i = 0; i < rounds; i++) {
            if (peer != null && i % 2 == 1) runPeer(name);
            long c0 = THREADS.getCurrentThreadCpuTime(); // CLOCK_THREAD_CPUTIME_ID, user + system
            long t0 = System.nanoTime();
            loop.run(calls);
            long t1 = System.nanoTime();
            long c1 = THREADS.getCurrentThreadCpuTime();
            ops[i] = calls / ((t1 - t0) / 1e9);
            System.out.printf("ROUND java %s %.0f %.0f%n", name, ops[i], calls / ((c1 - c0) / 1e9));
            if (peer != null && i % 2 == 0) runPeer(name);
        }
        Arrays.sort(ops);
        System.out.printf("RESULT java %s %.0f %.0f %.0f%n", name, ops[rounds / 2], ops[0], ops[rounds - 1]);
        System.out.flush();
    }

    /** One timed round of benchmark {@code name} in the C program; its ROUND line is printed as it is. */
    private static void runPeer(String name) {
        System.out.flush();
        try {
            Process p = new ProcessBuilder(
                            peer,
                            "--calls",
                            Long.toString(calls),
                            "--rounds",
                            "1",
                            "--warmup",
                            Integer.toString(peerWarmup),
                            "--only",
                            name)
                    .redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            int status = p.waitFor();
            out.lines().filter(l -> l.startsWith("ROUND ")).forEach(System.out::println);
            if (status != 0) throw new IllegalStateException(peer + " exited with status " + status);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
