package dev.jvmm.cli;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Turns SIGINT/SIGTERM into an orderly stop with jvmm's own exit status.
 *
 * <p>The JVM runs shutdown hooks on a signal, and once shutdown has begun {@code System.exit} from the main thread
 * blocks forever (Runtime.exit javadoc). So the hook asks the machine to stop, waits (bounded) for the main thread
 * to finish its teardown and report a status, and ends the process with that status itself. When the run ends
 * on its own, {@link #disarm()} removes the hook and the main thread exits normally.
 */
final class SignalStop {
    private static final long TEARDOWN_SECONDS = 10;

    private final CountDownLatch finished = new CountDownLatch(1);
    private final AtomicInteger status = new AtomicInteger(RunCommand.STOPPED);
    private final Thread hook;

    SignalStop(Runnable stop) {
        hook = Thread.ofPlatform().name("jvmm-signal-stop").unstarted(() -> {
            stop.run();
            try {
                finished.await(TEARDOWN_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            System.out.flush();
            System.err.flush();
            Runtime.getRuntime().halt(status.get());
        });
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** The run is over with this status; returns true when no signal is being handled (exit normally). */
    boolean disarm(int exitStatus) {
        status.set(exitStatus);
        finished.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
            return true;
        } catch (IllegalStateException shutdownInProgress) {
            return false; // the hook owns the exit now
        }
    }
}
