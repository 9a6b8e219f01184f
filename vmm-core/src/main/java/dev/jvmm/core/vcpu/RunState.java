package dev.jvmm.core.vcpu;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The one outcome of a machine's run, decided by whichever thread sees it first (a vCPU exit, a device, a
 * management request). Later reports are ignored: the first cause is the one the user needs.
 */
public final class RunState {
    private final CompletableFuture<GuestExit> outcome = new CompletableFuture<>();

    /** Records the outcome if none is set yet; returns true when this call decided it. */
    public boolean finish(GuestExit exit) {
        return outcome.complete(exit);
    }

    public boolean isFinished() {
        return outcome.isDone();
    }

    public GuestExit await() throws InterruptedException {
        try {
            return outcome.get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new AssertionError(e);
        }
    }

    public GuestExit await(long timeout, TimeUnit unit) throws InterruptedException, TimeoutException {
        try {
            return outcome.get(timeout, unit);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new AssertionError(e);
        }
    }
}
