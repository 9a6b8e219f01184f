package dev.jvmm.cli;

import dev.jvmm.core.irq.GicMsiMode;
import dev.jvmm.core.machine.InvalidSetting;
import dev.jvmm.core.machine.Machine;
import dev.jvmm.core.machine.MachineConfig;
import dev.jvmm.core.machine.MachineException;
import dev.jvmm.core.machine.MemorySize;
import dev.jvmm.core.vcpu.GuestExit;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code jvmm run}: boot an aarch64 Linux guest and run it until it powers off. */
@Command(
        name = "run",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = "Boots an arm64 Linux kernel (direct kernel boot: Image or Image.gz, optional initramfs) on "
                + "this aarch64 KVM host, with an in-kernel GICv3, the architected timer, PSCI, a PL011 console on "
                + "stdin/stdout and an optional PCIe hierarchy, and runs it until the guest powers off.",
        exitCodeListHeading = "%nExit status:%n")
final class RunCommand implements Callable<Integer> {
    @Option(
            names = "--kernel",
            required = true,
            paramLabel = "FILE",
            description = "arm64 kernel: a raw Image or a gzip-compressed Image.gz.")
    Path kernel;

    @Option(names = "--initrd", paramLabel = "FILE", description = "initramfs (cpio, optionally compressed).")
    Path initrd;

    @Option(
            names = "--cmdline",
            paramLabel = "TEXT",
            defaultValue = "console=ttyAMA0",
            description = "Kernel command line, at most 2047 bytes (default: ${DEFAULT-VALUE}).")
    String cmdline;

    @Option(
            names = {"--memory", "-m"},
            paramLabel = "SIZE",
            defaultValue = "512M",
            description = "Guest RAM: a number with K, M or G (a plain number is MiB); 64M to 512G in steps of 2M "
                    + "(default: ${DEFAULT-VALUE}).")
    String memory;

    @Option(
            names = "--cpus",
            paramLabel = "N",
            defaultValue = "1",
            description = "Number of vCPUs, 1 to 123 (8 on a GICv2-only host) (default: ${DEFAULT-VALUE}).")
    int cpus;

    @Option(
            names = "--gic-msi",
            paramLabel = "MODE",
            defaultValue = "auto",
            description = "MSI controller: its (in-kernel GICv3 ITS), v2m (GICv2m frame emulated by jvmm, 64 SPIs), "
                    + "or auto (ITS when the host can, else v2m) (default: ${DEFAULT-VALUE}).")
    String gicMsi;

    @CommandLine.Mixin
    PcieOptions pcie = new PcieOptions();

    @Option(
            names = "--kvm-device",
            paramLabel = "PATH",
            defaultValue = "/dev/kvm",
            description = "KVM device (default: ${DEFAULT-VALUE}).")
    Path kvmDevice;

    @Option(
            names = "--stats",
            description =
                    "Print on stderr which MSI controller jvmm chose and why; when the guest has stopped, how long "
                            + "jvmm took to build the machine and to run the guest, the vCPU exits seen, per vCPU, and what "
                            + "became of the MSIs (delivered, blocked by the guest, failed, rejected; irqfd vs direct per device).")
    boolean stats;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        MachineConfig config = config();
        PrintWriter err = spec.commandLine().getErr();
        long t0 = System.nanoTime();
        SignalStop signals = new SignalStop(); // from here on SIGINT/SIGTERM end jvmm with status 5
        int status = ExitStatus.FAILURE.code();
        // The console goes to fd 1 directly, not through System.out: a stalled reader may leave the console writer
        // blocked in write(2) holding a stream's lock, and nothing on the way out may wait for it.
        try (Machine machine = Machine.create(config, kvmDevice, new FileOutputStream(FileDescriptor.out))) {
            if (stats) {
                err.printf(
                        "jvmm-stats msi-controller=%s gic=%s reason: %s%n",
                        machine.msi().msi().cliName(),
                        machine.msi().gicV3() ? "v3" : "v2",
                        machine.msi().reason());
                err.flush();
            }
            signals.attach(() -> machine.stop("stopped by a signal"));
            startConsoleInput(machine);
            long t1 = System.nanoTime();
            GuestExit exit = machine.run();
            long t2 = System.nanoTime();
            status = status(exit, err);
            if (stats) printStats(err, machine, t1 - t0, t2 - t1);
            machine.close();
            if (machine.consoleDropped() > 0) {
                err.printf(
                        "jvmm: %d bytes of guest console output were dropped: stdout did not keep up%n",
                        machine.consoleDropped());
            }
            return status;
        } catch (MachineException e) {
            status = e.badInput() ? ExitStatus.USAGE.code() : ExitStatus.FAILURE.code();
            throw new UserError(e.getMessage(), status, e);
        } finally {
            signals.disarm(status); // whatever ended the run, an exit now is not a signal's
        }
    }

    /**
     * Feeds stdin to the guest's console. Line-buffered as the terminal delivers it (no raw mode yet); a daemon
     * thread, so a blocked read never keeps jvmm alive after the guest is gone.
     */
    private static void startConsoleInput(Machine machine) {
        Thread.ofPlatform().daemon().name("console-input").start(() -> {
            byte[] buf = new byte[256];
            try {
                int n;
                while ((n = System.in.read(buf)) > 0) machine.consoleInput(buf, 0, n);
            } catch (java.io.IOException | IllegalStateException e) {
                // stdin closed or the machine is gone: nothing more to feed
            }
        });
    }

    /** One line, machine-readable: {@code jvmm-stats setup-ms=.. run-ms=.. exits=N[,N..] exits-total=N}. */
    private static void printStats(PrintWriter err, Machine machine, long setupNanos, long runNanos) {
        long[] exits = machine.exitCounts();
        StringBuilder perVcpu = new StringBuilder();
        long total = 0;
        for (long e : exits) {
            if (!perVcpu.isEmpty()) perVcpu.append(',');
            perVcpu.append(e);
            total += e;
        }
        err.printf(
                "jvmm-stats setup-ms=%d run-ms=%d exits=%s exits-total=%d unhandled-mmio=%d external-aborts=%d"
                        + " jvm-uptime-ms=%d%n",
                setupNanos / 1_000_000,
                runNanos / 1_000_000,
                perVcpu,
                total,
                machine.unhandledMmio(),
                machine.externalAborts(),
                java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime());
        err.printf("jvmm-stats setup: %s%n", machine.setupPhases());
        err.printf("jvmm-stats msi: %s%n", machine.msiStats());
        err.flush();
    }

    private static int status(GuestExit exit, PrintWriter err) {
        return switch (exit) {
            case GuestExit.PowerOff p -> ExitStatus.OK.code();
            case GuestExit.Reset r -> {
                err.println("jvmm: the guest reset (jvmm does not reboot guests yet)");
                yield ExitStatus.GUEST_RESET.code();
            }
            case GuestExit.Panic p -> {
                err.println("jvmm: the guest crashed: " + p.detail());
                yield ExitStatus.GUEST_PANIC.code();
            }
            case GuestExit.Failed f -> {
                err.println("jvmm: " + f.message());
                yield ExitStatus.FAILURE.code();
            }
            case GuestExit.Stopped s -> {
                err.println("jvmm: " + s.why());
                yield ExitStatus.STOPPED.code();
            }
        };
    }

    /** Validates the options into a machine config; a bad value is a usage error naming the option. */
    MachineConfig config() {
        inputFile("--kernel", kernel);
        if (initrd != null) inputFile("--initrd", initrd);
        if (Files.isDirectory(kvmDevice))
            throw usage("--kvm-device " + kvmDevice + ": is a directory, not the KVM device");
        long mem;
        try {
            mem = MemorySize.parse(memory);
        } catch (IllegalArgumentException e) {
            throw usage("--memory: " + e.getMessage());
        }
        GicMsiMode msi = GicMsiMode.parse(gicMsi)
                .orElseThrow(() -> usage("--gic-msi must be one of auto, its, v2m (got '" + gicMsi + "')"));
        try {
            return new MachineConfig(kernel, Optional.ofNullable(initrd), cmdline, mem, cpus, msi, pcie.toConfig());
        } catch (InvalidSetting e) {
            throw usage(e.describe(option(e.setting())));
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
    }

    /** The option that gives each machine setting: core errors name the setting, the user knows the option. */
    static String option(InvalidSetting.Setting setting) {
        return switch (setting) {
            case MEMORY -> "--memory";
            case CPUS -> "--cpus";
            case CMDLINE -> "--cmdline";
        };
    }

    /** A file jvmm reads whole: it must exist, be a regular file (not a directory or a device) and be readable. */
    private void inputFile(String option, Path file) {
        if (Files.isDirectory(file)) throw usage(option + " " + file + ": is a directory, not a file");
        if (!Files.exists(file)) throw usage(option + " " + file + ": no such file");
        if (!Files.isRegularFile(file)) throw usage(option + " " + file + ": not a regular file");
        if (!Files.isReadable(file)) throw usage(option + " " + file + ": not readable");
    }

    private CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }
}
