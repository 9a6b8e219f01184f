package dev.jvmm.core.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.LockInfo;
import java.lang.management.ManagementFactory;
import java.lang.management.MonitorInfo;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The MMIO fuzz harness: the bus a machine's vCPUs reach (PL011, PL031, GICv2m frame, the ECAM windows of two root
 * complexes with root ports, a switch and test endpoints, every BAR, and virtio-rng, virtio-blk and virtio-console
 * with their queues in guest RAM; {@link FuzzMachine}) driven by several threads at once with random addresses,
 * sizes and values, hostile ring contents and hostile driver sequences ({@link FuzzWorker}, {@link VirtioTarget}),
 * without KVM. Invariants:
 * <ul>
 *   <li>no exception escapes a bus access, and none is swallowed on the way: every catch in the devices logs, and a
 *       logged exception, an ERROR record or a thread that died fails the run ({@link LogFaults});</li>
 *   <li>every access: invalid sizes and unclaimed addresses are unhandled; values fit the access width; constant
 *       registers read their constants; unassigned ECAM and empty root-bus slots read all ones
 *       ({@link FuzzMachine#checkRead});</li>
 *   <li>no deadlock: a watchdog fails the run, with every thread's stack and held locks, when no operation finishes
 *       for {@code jvmm.fuzz.stallSeconds} (60);</li>
 *   <li>after the storm: the same hierarchy, BARs back in place, read-only configuration bits unchanged, every device
 *       serving requests again with interrupts reaching the GIC, the PL011's FIFO bounded and its line following
 *       UARTMIS, the v2m frame raising only its own SPIs ({@link FuzzMachine#checkAfterStorm});</li>
 *   <li>the generator reached every kind of address and the devices really worked (else the run proves little).</li>
 * </ul>
 *
 * <p><b>Replay.</b> The seed is printed first ({@code jvmm-fuzz seed=0x... ops=... threads=...}) and taken from
 * {@code -Djvmm.fuzz.seed=0x...}; every thread's stream, the set-up's and the virtio-rngs' entropy are split from
 * it. {@code -Djvmm.fuzz.ops=N} (total, default {@value #DEFAULT_OPS}; the Maven profile {@code fuzz} makes it
 * 10^6) and {@code -Djvmm.fuzz.threads=N} (default 4). With several threads the interleaving is the scheduler's, so
 * a seed replays each thread's operations but not their order. With {@code -Djvmm.fuzz.threads=1} a run replays
 * exactly what the guest does: the thread's operations are a function of the seed alone (nothing it decides depends
 * on what it reads), and after each one it waits until virtio-blk's I/O pool is idle, so the disk's writes into guest
 * RAM land before the next operation on every replay. What the machine's own threads do stays theirs: requests that
 * one notification hands to the I/O pool complete in parallel, in any order, and the console's transmit thread
 * returns a chain (a used ring entry) when it has written it out. Both touch only used rings and the buffers of those
 * requests, which later operations meet only through a hostile descriptor pointing there; the interrupts they raise
 * leave from those threads too, so two replays may count different MSIs (a mask or reset may come first).
 */
class MmioBusFuzzTest {
    /** Operations in a CI run, over all threads. */
    static final long DEFAULT_OPS = 200_000;

    /** What a run does; from system properties. */
    record Settings(long seed, long ops, int threads, int stallSeconds) {
        static Settings fromProperties() {
            String seed = System.getProperty("jvmm.fuzz.seed", "").trim();
            return new Settings(
                    seed.isEmpty() ? new SplittableRandom().nextLong() : parseSeed(seed),
                    Long.getLong("jvmm.fuzz.ops", DEFAULT_OPS),
                    Integer.getInteger("jvmm.fuzz.threads", 4),
                    Integer.getInteger("jvmm.fuzz.stallSeconds", 60));
        }

        /** {@code 0x} and 64 bits of hex, as printed, or a decimal number. */
        static long parseSeed(String s) {
            return s.startsWith("0x") || s.startsWith("0X")
                    ? Long.parseUnsignedLong(s.substring(2), 16)
                    : Long.parseLong(s);
        }

        long opsPerThread() {
            return (ops + threads - 1) / threads;
        }

        @Override
        public String toString() {
            return "jvmm-fuzz seed=0x%016x ops=%d threads=%d".formatted(seed, opsPerThread() * threads, threads);
        }
    }

    @Test
    void theBusSurvivesRandomTrafficFromSeveralThreads(@TempDir Path dir) throws Exception {
        Settings s = Settings.fromProperties();
        assertTrue(s.threads() >= 1 && s.ops() >= 1, s.toString());
        System.out.println(s);
        System.out.println("jvmm-fuzz replay: -Djvmm.fuzz.seed=0x%016x -Djvmm.fuzz.ops=%d -Djvmm.fuzz.threads=%d"
                .formatted(s.seed(), s.ops(), s.threads()));
        SplittableRandom root = new SplittableRandom(s.seed());
        Run run = new Run();
        try (LogFaults faults = LogFaults.install(f -> run.fail(f + "\n" + FuzzWorker.whereIsCurrentThread(), null))) {
            FuzzMachine m = FuzzMachine.create(dir, root.split());
            long start = System.nanoTime();
            try {
                m.setUp(root.split());
                long consoleBefore = m.consoleBytes();
                long msisBefore = m.v2m().raised();
                List<FuzzWorker> workers = new ArrayList<>();
                for (int i = 0; i < s.threads(); i++) {
                    workers.add(new FuzzWorker(m, i, s.opsPerThread(), root.split(), s.threads() == 1, run));
                }
                run.storm(workers, s.stallSeconds());
                long stormNanos = System.nanoTime() - start;
                m.checkAfterStorm(root.split());

                // The generator must have reached everything, or a green run would prove little.
                for (FuzzMachine.Kind k : FuzzMachine.Kind.values()) {
                    if (k != FuzzMachine.Kind.STRADDLING) assertTrue(m.checked(k) > 0, "no access checked at " + k);
                }
                long completed =
                        m.targets().stream().mapToLong(t -> t.completed.sum()).sum();
                String perDevice = m.targets().stream()
                        .map(t -> t.name + "=" + t.completed.sum())
                        .collect(java.util.stream.Collectors.joining(" "));
                assertTrue(completed > 0, "no well-formed request completed during the storm");
                assertTrue(m.v2m().raised() > msisBefore, "no MSI reached the v2m frame during the storm");
                assertTrue(m.consoleBytes() > consoleBefore, "nothing reached the console during the storm");
                System.out.printf(
                        "jvmm-fuzz done: %d ops in %.1f s (%.0f ops/s); checked %s; requests completed %d (%s);"
                                + " MSIs %d (rejected %d); console bytes %d; bus unhandled %d reads %d writes; log %s%n",
                        s.opsPerThread() * s.threads(),
                        stormNanos / 1e9,
                        s.opsPerThread() * s.threads() / (stormNanos / 1e9),
                        checkedSummary(m),
                        completed,
                        perDevice,
                        m.v2m().raised() - msisBefore,
                        m.v2m().rejected(),
                        m.consoleBytes() - consoleBefore,
                        m.bus().unhandledReads(),
                        m.bus().unhandledWrites(),
                        faults.levels());
            } catch (AssertionError e) {
                // An exception a device swallowed is often the cause of what failed: show both.
                if (faults.count() > 0)
                    e.addSuppressed(
                            new AssertionError("swallowed by the machine:\n" + String.join("\n", faults.first())));
                throw e;
            } finally {
                // Threads stuck in a deadlock still hold device locks and guest RAM: leave the machine to the JVM's
                // exit.
                if (run.allEnded()) m.close();
            }
            assertEquals(
                    0,
                    faults.count(),
                    () -> "exceptions swallowed by the machine (seed 0x%016x):%n%s"
                            .formatted(s.seed(), String.join("\n", faults.first())));
        }
    }

    private static String checkedSummary(FuzzMachine m) {
        StringBuilder sb = new StringBuilder();
        for (FuzzMachine.Kind k : FuzzMachine.Kind.values()) {
            if (k != FuzzMachine.Kind.STRADDLING)
                sb.append(sb.isEmpty() ? "" : " ").append(k).append('=').append(m.checked(k));
        }
        return sb.toString();
    }

    /** The workers' threads, their first failure and the watchdog. */
    static final class Run {
        private final AtomicReference<AssertionError> failure = new AtomicReference<>();
        private final List<Thread> threads = new ArrayList<>();
        private volatile boolean stopped;
        private boolean stalled;

        boolean stopped() {
            return stopped;
        }

        /** Records the first failure and stops every worker after its current operation. */
        void fail(String message, Throwable cause) {
            failure.compareAndSet(null, new AssertionError(message, cause));
            stopped = true;
        }

        boolean allEnded() {
            return threads.stream().noneMatch(Thread::isAlive);
        }

        /**
         * Runs the workers on their own threads until they are done, one fails, or none finishes an operation for
         * {@code stallSeconds} (then the failure carries every thread's stack and locks). Throws the first failure.
         */
        void storm(List<FuzzWorker> workers, int stallSeconds) throws InterruptedException {
            for (int i = 0; i < workers.size(); i++) {
                threads.add(Thread.ofPlatform().daemon().name("jvmm-fuzz-" + i).start(workers.get(i)));
            }
            long stall = TimeUnit.SECONDS.toNanos(stallSeconds);
            long last = -1;
            long since = System.nanoTime();
            while (!allEnded()) {
                long total = workers.stream().mapToLong(FuzzWorker::done).sum();
                long now = System.nanoTime();
                if (total != last) {
                    last = total;
                    since = now;
                } else if (now - since > stall) {
                    stalled = true;
                    fail(
                            "no operation finished for %d s (deadlock, or a device that never returns); %d done%n%s"
                                    .formatted(stallSeconds, total, threadDump()),
                            null);
                    break;
                }
                Thread.sleep(50);
            }
            if (failure.get() != null) {
                // Let the others finish their operation (not after a stall: they are stuck).
                long deadline = System.nanoTime() + stall;
                while (!allEnded() && !stalled && System.nanoTime() < deadline) Thread.sleep(10);
                throw failure.get();
            }
        }
    }

    /**
     * Every thread's state, stack (60 frames), the monitors and locks it holds and the one it waits for: deadlocked
     * threads first, then the workers, then the rest (device threads, the test runner).
     */
    static String threadDump() {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long[] ids = mx.findDeadlockedThreads();
        java.util.Set<Long> deadlocked = new java.util.HashSet<>();
        if (ids != null) for (long id : ids) deadlocked.add(id);
        List<ThreadInfo> all = new ArrayList<>(List.of(mx.dumpAllThreads(true, true)));
        all.sort(java.util.Comparator.comparing((ThreadInfo t) -> !deadlocked.contains(t.getThreadId()))
                .thenComparing(t -> !t.getThreadName().startsWith("jvmm-fuzz")));
        StringBuilder sb = new StringBuilder(
                deadlocked.isEmpty() ? "" : "deadlock among the first " + deadlocked.size() + " threads\n");
        for (ThreadInfo t : all) {
            sb.append('"').append(t.getThreadName()).append("\" ").append(t.getThreadState());
            if (t.getLockName() != null) sb.append(" on ").append(t.getLockName());
            if (t.getLockOwnerName() != null)
                sb.append(" owned by \"").append(t.getLockOwnerName()).append('"');
            sb.append('\n');
            StackTraceElement[] stack = t.getStackTrace();
            for (int i = 0; i < Math.min(stack.length, 60); i++) {
                sb.append("    at ").append(stack[i]).append('\n');
                for (MonitorInfo mi : t.getLockedMonitors()) {
                    if (mi.getLockedStackDepth() == i)
                        sb.append("    - locked ").append(mi).append('\n');
                }
            }
            if (stack.length > 60) sb.append("    ...\n");
            for (LockInfo li : t.getLockedSynchronizers())
                sb.append("    - holds ").append(li).append('\n');
        }
        return sb.toString();
    }
}
