package dev.jvmm.core.machine;

import dev.jvmm.core.virtio.queue.VirtqueueException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * What jvmm's devices swallow. A device must never throw into the vCPU thread, and the bus, the ECAM and BAR adapters,
 * the virtio transport and the devices all catch what a device throws so that a guest cannot stop the VM; each such
 * catch logs. So the log is where a device bug shows up once the exception is caught, and this handler turns those
 * records into failures: every ERROR, and every record that carries a throwable other than a
 * {@link VirtqueueException} (a device's legitimate answer to a malformed ring). Exceptions that end a thread
 * (a device's own threads, an I/O pool) are caught too, through the default uncaught-exception handler.
 *
 * <p>While installed, jvmm's loggers go to this handler only (the console would drown in a million guest errors,
 * each logger rate-limited or not) and at DEBUG, where the transport logs the exception behind a device failure.
 * {@link #close} puts everything back.
 */
final class LogFaults extends Handler implements AutoCloseable {
    private static final int KEPT = 20;

    private final Logger logger = Logger.getLogger("dev.jvmm");
    private final Level oldLevel = logger.getLevel();
    private final boolean oldParents = logger.getUseParentHandlers();
    private final Thread.UncaughtExceptionHandler oldUncaught = Thread.getDefaultUncaughtExceptionHandler();
    private final ConcurrentLinkedQueue<String> faults = new ConcurrentLinkedQueue<>();
    private final AtomicLong faultCount = new AtomicLong();
    private final Map<String, AtomicLong> byLevel = new TreeMap<>();
    private final Consumer<String> onFault;

    private LogFaults(Consumer<String> onFault) {
        this.onFault = onFault;
        setLevel(Level.ALL);
        logger.setLevel(Level.FINE);
        logger.setUseParentHandlers(false);
        logger.addHandler(this);
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> fault("thread " + t.getName() + " died: " + trace(e)));
    }

    /** Installs the handler; {@code onFault} hears of each fault at once, on the thread that logged it. */
    static LogFaults install(Consumer<String> onFault) {
        return new LogFaults(onFault);
    }

    @Override
    public void publish(LogRecord r) {
        synchronized (byLevel) {
            byLevel.computeIfAbsent(r.getLevel().getName(), k -> new AtomicLong())
                    .incrementAndGet();
        }
        Throwable thrown = r.getThrown();
        if (r.getLevel().intValue() >= Level.SEVERE.intValue()
                || thrown != null && !(thrown instanceof VirtqueueException)) {
            fault("%s %s: %s%s"
                    .formatted(
                            r.getLevel(), r.getLoggerName(), message(r), thrown == null ? "" : "\n" + trace(thrown)));
        }
    }

    private void fault(String what) {
        if (faultCount.getAndIncrement() < KEPT) faults.add(what);
        onFault.accept(what);
    }

    private static String message(LogRecord r) {
        Object[] p = r.getParameters();
        String m = r.getMessage();
        if (p == null || p.length == 0 || m == null) return m;
        return java.text.MessageFormat.format(m, p);
    }

    private static String trace(Throwable t) {
        StringWriter w = new StringWriter();
        t.printStackTrace(new PrintWriter(w));
        return w.toString();
    }

    /** Faults so far: swallowed exceptions, ERROR records, dead threads. */
    long count() {
        return faultCount.get();
    }

    /** The first faults, for the failure message. */
    List<String> first() {
        return List.copyOf(faults);
    }

    /** Log records seen per level, for the run's summary. */
    String levels() {
        synchronized (byLevel) {
            return byLevel.toString();
        }
    }

    @Override
    public void flush() {}

    @Override
    public void close() {
        logger.removeHandler(this);
        logger.setUseParentHandlers(oldParents);
        logger.setLevel(oldLevel);
        Thread.setDefaultUncaughtExceptionHandler(oldUncaught);
    }
}
