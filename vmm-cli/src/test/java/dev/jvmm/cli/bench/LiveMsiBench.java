package dev.jvmm.cli.bench;

import dev.jvmm.core.irq.GicMsiMode;
import dev.jvmm.core.irq.MsixIrqfds;
import dev.jvmm.core.machine.Machine;
import dev.jvmm.core.machine.MachineConfig;
import dev.jvmm.core.machine.MemorySize;
import dev.jvmm.core.pci.PcieConfig;
import dev.jvmm.core.vcpu.GuestExit;
import dev.jvmm.kvm.IrqRoute;
import dev.jvmm.pcie.EndpointFunction;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * MSI deliveries per second into a live guest, end to end through jvmm: a {@link Machine} with one virtio-rng
 * ({@code rng0}), booted with the test guest of tools/guest; once the guest's driver has enabled MSI-X (and, with
 * {@code --gic-msi its}, the guest has enabled its ITS and mapped the device), the host raises the device's
 * <b>config vector</b> (vector 0) N times in a row, by each path in turn:
 * <ul>
 *   <li>{@code irqfd}: {@link MsixIrqfds#raise}, a write to the vector's irqfd, whose GSI route KVM holds (ITS: an
 *       MSI route with the device id; v2m: an irqchip route to the frame's SPI);</li>
 *   <li>{@code signal}: {@link EndpointFunction#signal} on the function, the path without irqfd: jvmm's MSI-X
 *       model, then the MSI backend: KVM_SIGNAL_MSI with the device id (ITS), or the emulated GICv2m frame's
 *       KVM_IRQ_LINE raise + lower (v2m).</li>
 * </ul>
 * The config vector, because Linux's handler for it (virtio_pci's vp_config_changed) returns IRQ_HANDLED; a queue
 * vector with no used buffers counts as unhandled, and Linux disables an interrupt after about 100,000 of those.
 *
 * <p>Rounds alternate the order of the two paths. After each timed loop the host asks the guest (a line on its
 * console) how many config interrupts it has taken so far, so each round also reports how many of the N raises
 * the guest saw as separate interrupts (a raise while the previous one is still pending merges with it).
 *
 * <p>Prints {@code ROUND live-<mode> <path> <raises per wall s> <raises per CPU s of the raising thread>
 * <interrupts the guest took>} per timed round, then a summary. Exits 1 if a check fails: the vector had no irqfd
 * route, a raise took the wrong path, a KVM_SIGNAL_MSI was not delivered (ITS: KVM's answer 0 = blocked).
 *
 * <p>Usage: {@code LiveMsiBench --kernel Image --initrd initramfs.cpio.gz [--gic-msi its,v2m] [--cpus 1]
 * [--memory 256M] [--raises 2000] [--rounds 11] [--warmup 1] [--boot-timeout 300]}. Run by
 * {@code scripts/bench-msi --live}, which starts it inside the emulated arm64 host on x86_64.
 */
public final class LiveMsiBench {
    private static final String MARK = "JVMM-BENCH ";
    private static final int CONFIG_VECTOR = 0;
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final Pattern BACKEND =
            Pattern.compile("^\\w+: delivered=(\\d+) blocked=(\\d+) failed=(\\d+) rejected=(\\d+)");

    /**
     * The guest side, appended to the initramfs as /jvmm.d/70-msi-bench.sh: it stays up and idle, and answers a
     * line "n" typed at its console with the count of config interrupts it took, "q" ends it (then the guest powers
     * off). Console bytes are VM exits, so it says little.
     */
    static final String GUEST_SCRIPT = """
            #!/bin/sh
            # LiveMsiBench's guest side (dev.jvmm.cli.bench): idle until the host types q.
            irqs() { awk '/virtio0-config/ { s = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i; print s; exit }' /proc/interrupts; }
            grep -m1 'virtio0-config' /proc/interrupts | sed 's/^ */JVMM-BENCH irq-line /'
            echo "JVMM-BENCH ready irqs=$(irqs)"
            while read -t 300 cmd < /dev/console; do
                case $cmd in
                    n) echo "JVMM-BENCH irqs=$(irqs)" ;;
                    q) break ;;
                esac
            done
            echo "JVMM-BENCH bye"
            """;

    private static Path kernel;
    private static Path initrd;
    private static List<GicMsiMode> modes = List.of(GicMsiMode.ITS, GicMsiMode.V2M);
    private static int cpus = 1;
    private static long memory = 256L << 20;
    private static int raises = 2000;
    private static int rounds = 11;
    private static int warmup = 1;
    private static int bootTimeout = 300;

    private LiveMsiBench() {}

    public static void main(String[] args) throws Exception {
        try {
            parse(args);
        } catch (RuntimeException e) {
            System.err.println("LiveMsiBench: " + e.getMessage());
            System.err.println("usage: LiveMsiBench --kernel Image --initrd initramfs.cpio.gz [--gic-msi its,v2m] "
                    + "[--cpus N] [--memory SIZE] [--raises N] [--rounds R] [--warmup W] [--boot-timeout S]");
            System.exit(2);
        }
        Path withScript = Files.createTempFile("jvmm-msi-bench", ".cpio");
        int status = 0;
        try {
            appendScript(initrd, withScript);
            System.out.printf(
                    "# live: %d raises of vector %d per round, %d warm-up + %d timed rounds per path, "
                            + "guest with %d vCPU(s), %s%n",
                    raises, CONFIG_VECTOR, warmup, rounds, cpus, MemorySize.format(memory));
            List<String> summary = new ArrayList<>();
            for (GicMsiMode mode : modes) {
                if (!runMode(mode, withScript, summary)) status = 1;
            }
            System.out.println();
            System.out.printf(
                    "%-10s %-7s %28s %20s %18s%n",
                    "mode", "path", "raises/wall s median (range)", "raises/CPU s median", "guest took (sum)");
            summary.forEach(System.out::println);
        } finally {
            Files.deleteIfExists(withScript);
        }
        System.out.flush();
        System.exit(status); // the machine's daemon threads are gone, but be sure nothing keeps the JVM
    }

    private static void parse(String[] args) {
        for (int i = 0; i < args.length; i += 2) {
            if (i + 1 >= args.length) throw new IllegalArgumentException(args[i] + " needs a value");
            String v = args[i + 1];
            switch (args[i]) {
                case "--kernel" -> kernel = Path.of(v);
                case "--initrd" -> initrd = Path.of(v);
                case "--gic-msi" ->
                    modes = Arrays.stream(v.split(","))
                            .map(m -> GicMsiMode.parse(m)
                                    .orElseThrow(() -> new IllegalArgumentException("--gic-msi: not a mode: " + m)))
                            .toList();
                case "--cpus" -> cpus = Integer.parseInt(v);
                case "--memory" -> memory = MemorySize.parse(v);
                case "--raises" -> raises = Integer.parseInt(v);
                case "--rounds" -> rounds = Integer.parseInt(v);
                case "--warmup" -> warmup = Integer.parseInt(v);
                case "--boot-timeout" -> bootTimeout = Integer.parseInt(v);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (kernel == null || initrd == null) throw new IllegalArgumentException("--kernel and --initrd are required");
        if (raises < 1 || rounds < 1 || warmup < 0)
            throw new IllegalArgumentException("bad --raises/--rounds/--warmup");
    }

    /** One machine, booted, measured, stopped. Returns false when a check failed. */
    private static boolean runMode(GicMsiMode mode, Path initramfs, List<String> summary) throws Exception {
        String tag = "live-" + mode.cliName();
        PcieConfig pcie = new PcieConfig(
                List.of(),
                List.of(),
                List.of(),
                List.of(),
                List.of(new PcieConfig.DeviceSpec(PcieConfig.DeviceKind.VIRTIO_RNG, "rng0", null)));
        MachineConfig config = new MachineConfig(
                kernel, Optional.of(initramfs), "console=ttyAMA0 quiet panic=-1", memory, cpus, mode, pcie);
        Console console = new Console(System.out);
        boolean ok = true;
        long t0 = System.nanoTime();
        try (Machine machine = Machine.create(config, Path.of("/dev/kvm"), console)) {
            System.out.printf(
                    "# %s: msi-controller=%s (%s), machine built in %d ms%n",
                    tag, machine.msi().msi().cliName(), machine.msi().reason(), (System.nanoTime() - t0) / 1_000_000);
            AtomicReference<Object> outcome = new AtomicReference<>();
            Thread runner = Thread.ofPlatform().name("machine-run").start(() -> {
                try {
                    outcome.set(machine.run());
                } catch (Exception e) {
                    outcome.set(e);
                }
            });
            Optional<String> ready = console.await("ready", bootTimeout);
            if (ready.isEmpty()) {
                System.out.println("FAIL " + tag + ": the guest did not print " + MARK + "ready within " + bootTimeout
                        + " s (outcome: " + outcome.get() + ")");
                machine.stop("benchmark: no ready marker");
                runner.join(30_000);
                return false;
            }
            System.out.printf(
                    "# %s: guest ready %.1f s after the machine was built%n", tag, (System.nanoTime() - t0) / 1e9);
            MsixIrqfds vectors =
                    machine.msixVectors("rng0").orElseThrow(() -> new IllegalStateException("rng0 has no irqfds"));
            Optional<IrqRoute> route = vectors.route(CONFIG_VECTOR);
            if (route.isEmpty()) {
                System.out.println("FAIL " + tag + ": vector " + CONFIG_VECTOR + " has no irqfd route (the irqfd path "
                        + "would not be measured); msi: " + machine.msiStats());
                ok = false;
            } else {
                System.out.printf(
                        "# %s: vector %d irqfd route %s (gsi %d)%n",
                        tag, CONFIG_VECTOR, route.get(), vectors.gsi(CONFIG_VECTOR));
                ok = measure(tag, machine, vectors, console, fieldOf(ready.get(), "irqs"), summary);
            }
            System.out.printf("# %s: msi stats after: %s%n", tag, machine.msiStats());
            // "q" ends the guest's script; the guest then powers off by itself.
            typeLine(machine, "q");
            runner.join(120_000);
            if (runner.isAlive()) {
                machine.stop("benchmark done");
                runner.join(30_000);
            }
            Object end = outcome.get();
            System.out.printf("# %s: guest ended: %s%n", tag, end);
            if (!(end instanceof GuestExit.PowerOff) && !(end instanceof GuestExit.Stopped)) ok = false;
        }
        return ok;
    }

    private enum PathKind {
        IRQFD,
        SIGNAL
    }

    private static boolean measure(
            String tag, Machine machine, MsixIrqfds vectors, Console console, long irqsAtStart, List<String> summary)
            throws Exception {
        EndpointFunction function = vectors.function();
        Map<PathKind, List<double[]>> results = new LinkedHashMap<>();
        for (PathKind p : PathKind.values()) results.put(p, new ArrayList<>());
        long guestIrqs = irqsAtStart;
        boolean ok = true;
        for (int r = 0; r < warmup + rounds; r++) {
            PathKind[] order = r % 2 == 0
                    ? new PathKind[] {PathKind.IRQFD, PathKind.SIGNAL}
                    : new PathKind[] {PathKind.SIGNAL, PathKind.IRQFD};
            for (PathKind p : order) {
                long fast0 = vectors.fastRaises(), slow0 = vectors.slowRaises();
                long[] backend0 = backend(machine);
                int notSent = 0;
                long c0 = THREADS.getCurrentThreadCpuTime();
                long t0 = System.nanoTime();
                if (p == PathKind.IRQFD) {
                    for (int i = 0; i < raises; i++) vectors.raise(CONFIG_VECTOR);
                } else {
                    for (int i = 0; i < raises; i++) if (!function.signal(CONFIG_VECTOR)) notSent++;
                }
                long t1 = System.nanoTime();
                long c1 = THREADS.getCurrentThreadCpuTime();
                long[] backend1 = backend(machine);
                long fast = vectors.fastRaises() - fast0, slow = vectors.slowRaises() - slow0;
                long delivered = backend1[0] - backend0[0], blocked = backend1[1] - backend0[1];
                long failed = backend1[2] - backend0[2] + backend1[3] - backend0[3];
                // Checks: each raise took the path it was meant to, and the backend delivered each direct one. The
                // device's own interrupts (its request queue, if the guest reads the rng meanwhile) also count as
                // irqfd raises: more than asked is background, fewer is a failure.
                String problem = switch (p) {
                    case IRQFD ->
                        fast < raises || slow != 0 || delivered != 0
                                ? "irqfd round: %d irqfd raises, %d direct, %d through the backend (want %d, 0, 0)"
                                        .formatted(fast, slow, delivered, raises)
                                : null;
                    case SIGNAL ->
                        notSent != 0 || delivered < raises || blocked != 0 || failed != 0
                                ? "signal round: %d not sent, delivered=%d blocked=%d failed+rejected=%d (want 0, %d, 0, 0)"
                                        .formatted(notSent, delivered, blocked, failed, raises)
                                : null;
                };
                long background = (p == PathKind.IRQFD ? fast : delivered) - raises;
                if (background > 0) System.out.printf("# %s: %d other MSIs during the round%n", tag, background);
                if (problem != null) {
                    System.out.println("FAIL " + tag + ": " + problem);
                    ok = false;
                }
                long after = askIrqs(machine, console);
                long took = after < 0 || guestIrqs < 0 ? -1 : after - guestIrqs;
                guestIrqs = after;
                double wall = raises / ((t1 - t0) / 1e9), cpu = raises / ((c1 - c0) / 1e9);
                String kind = p.name().toLowerCase(java.util.Locale.ROOT);
                if (r < warmup) {
                    System.out.printf("# %s %s warm-up: %.0f raises/s, guest took %d%n", tag, kind, wall, took);
                } else {
                    System.out.printf("ROUND %s %s %.0f %.0f %d%n", tag, kind, wall, cpu, took);
                    results.get(p).add(new double[] {wall, cpu, took});
                }
            }
        }
        for (var e : results.entrySet()) {
            double[] wall =
                    e.getValue().stream().mapToDouble(x -> x[0]).sorted().toArray();
            double[] cpu = e.getValue().stream().mapToDouble(x -> x[1]).sorted().toArray();
            long took = e.getValue().stream().mapToLong(x -> (long) x[2]).sum();
            boolean tookKnown = e.getValue().stream().allMatch(x -> x[2] >= 0);
            summary.add("%-10s %-7s %28s %20s %18s"
                    .formatted(
                            tag,
                            e.getKey().name().toLowerCase(java.util.Locale.ROOT),
                            "%s (%s-%s)".formatted(si(median(wall)), si(wall[0]), si(wall[wall.length - 1])),
                            si(median(cpu)),
                            tookKnown ? "%d of %d".formatted(took, (long) raises * wall.length) : "?"));
        }
        // Each round ran both paths back to back: their ratio per round is what drift of the machine's speed
        // disturbs least.
        List<double[]> fast = results.get(PathKind.IRQFD), slow = results.get(PathKind.SIGNAL);
        double[] ratio = new double[fast.size()];
        for (int i = 0; i < ratio.length; i++) ratio[i] = fast.get(i)[0] / slow.get(i)[0];
        Arrays.sort(ratio);
        summary.add("%-10s irqfd/signal per round (wall): median %.2f, range %.2f-%.2f"
                .formatted(tag, median(ratio), ratio[0], ratio[ratio.length - 1]));
        return ok;
    }

    /** delivered, blocked, failed, rejected of the machine's MSI backend (the path without irqfd). */
    private static long[] backend(Machine machine) {
        Matcher m = BACKEND.matcher(machine.msiStats());
        if (!m.find()) throw new IllegalStateException("unexpected msi stats: " + machine.msiStats());
        return new long[] {
            Long.parseLong(m.group(1)),
            Long.parseLong(m.group(2)),
            Long.parseLong(m.group(3)),
            Long.parseLong(m.group(4))
        };
    }

    /** Asks the guest for its config interrupt count; -1 when it does not answer within 60 s. */
    private static long askIrqs(Machine machine, Console console) throws InterruptedException {
        typeLine(machine, "n");
        return console.await("irqs=", 60).map(l -> fieldOf(l, "irqs")).orElse(-1L);
    }

    private static void typeLine(Machine machine, String line) {
        byte[] b = (line + "\n").getBytes(StandardCharsets.US_ASCII);
        machine.consoleInput(b, 0, b.length);
    }

    private static long fieldOf(String line, String key) {
        Matcher m = Pattern.compile(key + "=(\\d+)").matcher(line);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static String si(double x) {
        return x >= 1e6 ? "%.2fM".formatted(x / 1e6) : x >= 1e4 ? "%.1fk".formatted(x / 1e3) : "%.0f".formatted(x);
    }

    /** {@code initramfs}, zero padding to 4 bytes, and a newc cpio holding /jvmm.d/70-msi-bench.sh (tools/guest/README.md). */
    static void appendScript(Path initramfs, Path target) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(Files.readAllBytes(initramfs));
        while (out.size() % 4 != 0) out.write(0);
        cpioEntry(out, 1, "jvmm.d", 0040755, null);
        cpioEntry(out, 2, "jvmm.d/70-msi-bench.sh", 0100755, GUEST_SCRIPT.getBytes(StandardCharsets.UTF_8));
        cpioEntry(out, 0, "TRAILER!!!", 0, null);
        Files.write(target, out.toByteArray());
    }

    /** "070701", 13 fields of 8 hex digits, the NUL-terminated name, the data, each padded to 4 bytes. */
    private static void cpioEntry(ByteArrayOutputStream out, int ino, String name, int mode, byte[] data) {
        byte[] nameBytes = (name + "\0").getBytes(StandardCharsets.US_ASCII);
        int size = data == null ? 0 : data.length;
        int nlink = (mode & 0040000) != 0 ? 2 : 1;
        int[] fields = {ino, mode, 0, 0, nlink, 0, size, 0, 0, 0, 0, nameBytes.length, 0};
        StringBuilder h = new StringBuilder("070701");
        for (int f : fields) h.append("%08x".formatted(f));
        out.writeBytes(h.toString().getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(nameBytes);
        while (out.size() % 4 != 0) out.write(0);
        if (data != null) out.writeBytes(data);
        while (out.size() % 4 != 0) out.write(0);
    }

    /**
     * The guest's console: passed through to {@code out}, and every line that starts with {@value #MARK} queued for
     * {@link #await}. Written byte by byte from vCPU threads.
     */
    private static final class Console extends OutputStream {
        private final PrintStream out;
        private final StringBuilder line = new StringBuilder();
        private final BlockingQueue<String> marked = new LinkedBlockingQueue<>();

        Console(PrintStream out) {
            this.out = out;
        }

        @Override
        public synchronized void write(int b) {
            out.write(b);
            if (b == '\n') {
                out.flush();
                String l = line.toString().strip();
                int i = l.indexOf(MARK);
                if (i >= 0) marked.add(l.substring(i + MARK.length()));
                line.setLength(0);
            } else if (b != '\r' && line.length() < 4096) {
                line.append((char) (b & 0xFF));
            }
        }

        @Override
        public void flush() {}

        /** The next marked line containing {@code word}, skipping others; empty after {@code seconds}. */
        Optional<String> await(String word, int seconds) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (true) {
                long left = deadline - System.nanoTime();
                if (left <= 0) return Optional.empty();
                String l = marked.poll(left, TimeUnit.NANOSECONDS);
                if (l == null) return Optional.empty();
                if (l.contains(word)) return Optional.of(l);
            }
        }
    }
}
