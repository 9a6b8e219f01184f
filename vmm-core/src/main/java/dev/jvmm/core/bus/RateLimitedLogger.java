package dev.jvmm.core.bus;

import dev.jvmm.pcie.util.Sizes;
import java.lang.System.Logger.Level;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Logs guest-caused events without letting a guest flood the log: the first {@value #ALWAYS} events are logged,
 * after that only the 2^k-th (so a guest hammering a bad address costs O(log n) lines). Each line carries the
 * running count. Thread-safe; the counter is the only shared state.
 */
public final class RateLimitedLogger {
    static final int ALWAYS = 10;

    private final System.Logger logger;
    private final AtomicLong count = new AtomicLong();

    public RateLimitedLogger(System.Logger logger) {
        this.logger = logger;
    }

    /** Number of events reported so far, logged or not. */
    public long count() {
        return count.get();
    }

    /** Counts one event and logs it if the rate limit allows; the format is only expanded when it is logged. */
    public void log(Level level, String format, Object... args) {
        long n = count.incrementAndGet();
        if (shouldLog(n) && logger.isLoggable(level)) {
            logger.log(level, format.formatted(args) + (n > 1 ? " (event #" + n + ")" : ""));
        }
    }

    static boolean shouldLog(long n) {
        return n <= ALWAYS || Sizes.isPowerOfTwo(n);
    }
}
