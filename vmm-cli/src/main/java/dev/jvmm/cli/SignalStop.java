package dev.jvmm.cli;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Turns SIGINT/SIGTERM into jvmm's own exit status 5, whenever the signal comes.
 *
 * <p>The JVM runs shutdown hooks on a signal, and once shutdown has begun {@code System.exit} from the main thread
 * blocks forever (Runtime.exit javadoc). So the hook ends the process itself with {@code halt}. During set-up
 * (before {@link #attach}) there is no guest to stop and nothing written yet: it halts at once. Once the machine
 * runs, it asks the machine to stop, waits (bounded) for the main thread to finish its teardown (disks flushed) and
 * report a status, and halts with that status. {@link #disarm} removes the hook whichever way the run ends (a
 * status, an exception, an Error), so only a real signal can reach the hook.
 */
final class SignalStop {
    private static final long TEARDOWN_SECONDS = 10;

    private final CountDownLatch finished = new CountDownLatch(1);
    private final AtomicInteger status = new AtomicInteger(ExitStatus.STOPPED.code());
    private final AtomicReference<Runnable> stop = new AtomicReference<>();
    private final Thread hook;

    SignalStop() {
        hook = Thread.ofPlatform().name("jvmm-signal-stop").unstarted(this::onSignal);
        Runtime.getRuntime().addShutdownHook(hook);
    }

    private void onSignal() {
        Runnable s = stop.getAndSet(() -> {}); // from now on attach() sees a stop already under way
        if (s == null) {
            System.err.println("jvmm: stopped by a signal during set-up");
            System.err.flush();
            Runtime.getRuntime().halt(ExitStatus.STOPPED.code());
        }
        s.run();
        try {
            finished.await(TEARDOWN_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        System.err.flush();
        Runtime.getRuntime().halt(status.get());
    }

    /**
     * From now on a signal stops the guest through {@code stopAction} (instead of halting at once). If a signal came
     * first, nothing changes: the hook is already halting the process.
     */
    void attach(Runnable stopAction) {
        stop.compareAndSet(null, stopAction);
    }

    /** The run is over with this status; without a signal the caller exits normally, else the hook exits with it. */
    void disarm(int exitStatus) {
        status.set(exitStatus);
        finished.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shutdownInProgress) {
            // the hook owns the exit now
        }
    }
}
