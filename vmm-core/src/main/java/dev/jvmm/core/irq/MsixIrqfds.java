package dev.jvmm.core.irq;

import dev.jvmm.core.bus.RateLimitedLogger;
import dev.jvmm.kvm.ErrnoException;
import dev.jvmm.kvm.EventFd;
import dev.jvmm.kvm.IrqRoute;
import dev.jvmm.pcie.EndpointFunction;
import dev.jvmm.pcie.config.MsixCapability;
import dev.jvmm.pcie.msi.RequesterId;
import java.lang.System.Logger.Level;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The irqfd fast path of one function's MSI-X vectors: each vector has a GSI and an eventfd bound to it with
 * KVM_IRQFD, and while the vector would deliver a message (MSI-X enabled, Bus Master Enable set, neither the
 * function nor the entry masked, the function has a requester id) its GSI routes exactly that message, with the
 * devid the {@link MsiBackend} computes from the requester id <em>now</em>. {@link #raise} then costs one eventfd
 * write and no ioctl; otherwise it goes through {@link EndpointFunction#signal}, which keeps the MSI-X rules
 * (pending bit while masked, nothing while disabled, PCIe Base 6.0 §6.1.4.5).
 *
 * <p>{@link #refresh} recomputes the routes; the machine calls it whenever a route could go stale: any MSI-X table
 * or control change (MsixCapability's change listener: entry rewrite, mask, function mask, enable, Bus Master
 * Enable) and any bus renumbering below the root complex (the requester id, and so the devid, changes). So a
 * route with a stale vector or devid cannot survive a guest write.
 *
 * <p>Locking: {@link #raise} and {@link #refresh} are serialized on this object, so a raise sees either the old
 * route or the new one, never an irqfd whose route was just removed (that message would be lost instead of
 * becoming a pending bit). Order: function configuration lock (when refresh runs from a config hook) → this →
 * MsixCapability → MsiRoutes. Nothing here takes a configuration lock.
 */
public final class MsixIrqfds implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(MsixIrqfds.class.getName());

    private final String name;
    private final EndpointFunction function;
    private final MsixCapability msix;
    private final int segment;
    private final MsiRoutes routes;
    private final MsiBackend backend;
    private final int[] gsi;
    private final EventFd[] irqfd;
    private final IrqRoute[] current;
    private final RateLimitedLogger errors = new RateLimitedLogger(LOG);
    private final AtomicLong fastRaises = new AtomicLong();
    private final AtomicLong slowRaises = new AtomicLong();

    private MsixIrqfds(String name, EndpointFunction function, int segment, MsiRoutes routes, MsiBackend backend)
            throws ErrnoException {
        this.name = Objects.requireNonNull(name);
        this.function = Objects.requireNonNull(function);
        this.msix = function.msix().orElseThrow(() -> new IllegalArgumentException(name + " has no MSI-X capability"));
        this.segment = segment;
        this.routes = Objects.requireNonNull(routes);
        this.backend = Objects.requireNonNull(backend);
        int n = msix.tableSize();
        this.gsi = new int[n];
        this.irqfd = new EventFd[n];
        this.current = new IrqRoute[n];
        try {
            for (int v = 0; v < n; v++) {
                gsi[v] = routes.allocateGsi();
                irqfd[v] = EventFd.create();
            }
        } catch (ErrnoException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Gives {@code function}'s MSI-X vectors irqfds and keeps their routes current: installs itself as the MSI-X
     * change listener. The caller also wires {@link #refresh} to bus renumbering of the function's root complex.
     */
    public static MsixIrqfds attach(
            String name, EndpointFunction function, int segment, MsiRoutes routes, MsiBackend backend)
            throws ErrnoException {
        MsixIrqfds m = new MsixIrqfds(name, function, segment, routes, backend);
        m.msix.setChangeListener(m::refresh);
        m.refresh();
        return m;
    }

    /** Raises {@code vector}: through its irqfd while it has a route, else through the MSI-X capability. */
    public synchronized void raise(int vector) {
        if (vector < 0 || vector >= current.length) return;
        if (current[vector] != null) {
            try {
                irqfd[vector].signal();
                fastRaises.incrementAndGet();
                return;
            } catch (ErrnoException e) {
                errors.log(
                        Level.WARNING,
                        "%s vector %d: irqfd write failed, sending directly: %s",
                        name,
                        vector,
                        e.getMessage());
            }
        }
        slowRaises.incrementAndGet();
        function.signal(vector);
    }

    /** Recomputes every vector's route from the MSI-X table and the requester id as they are now. */
    public synchronized void refresh() {
        Optional<RequesterId> rid = function.msiTarget().requesterId();
        Map<Integer, IrqRoute> changes = new HashMap<>();
        Map<Integer, EventFd> fds = new HashMap<>();
        IrqRoute[] want = new IrqRoute[current.length];
        for (int v = 0; v < current.length; v++) {
            int vector = v, g = gsi[v];
            want[v] = rid.flatMap(r -> msix.deliverableMessage(vector)
                            .flatMap(m -> backend.route(g, segment, r, m.address(), m.data())))
                    .orElse(null);
            changes.put(g, want[v]);
            fds.put(g, irqfd[v]);
        }
        try {
            routes.update(changes, fds);
            System.arraycopy(want, 0, current, 0, current.length);
        } catch (ErrnoException e) {
            // The slow path is always correct: use it for every vector until a later refresh succeeds.
            java.util.Arrays.fill(current, null);
            errors.log(
                    Level.WARNING, "%s: MSI routes not updated, vectors use KVM_SIGNAL_MSI: %s", name, e.getMessage());
        }
    }

    /** The route vector {@code vector}'s irqfd raises now, or empty while it goes the slow way. */
    public synchronized Optional<IrqRoute> route(int vector) {
        return vector < 0 || vector >= current.length ? Optional.empty() : Optional.ofNullable(current[vector]);
    }

    /** The function whose vectors these are ({@link EndpointFunction#signal} is the path without irqfd). */
    public EndpointFunction function() {
        return function;
    }

    /** The GSI of {@code vector}. */
    public int gsi(int vector) {
        return gsi[vector];
    }

    /** Raises that went through an irqfd. */
    public long fastRaises() {
        return fastRaises.get();
    }

    /** Raises that went through the MSI-X capability (masked, disabled, no route). */
    public long slowRaises() {
        return slowRaises.get();
    }

    /** Closes the eventfds; call after {@link MsiRoutes#close()} deassigned them. */
    @Override
    public synchronized void close() {
        for (int v = 0; v < irqfd.length; v++) {
            if (irqfd[v] == null) continue;
            try {
                irqfd[v].close();
            } catch (ErrnoException e) {
                LOG.log(Level.WARNING, "{0}: closing irqfd: {1}", name, e.getMessage());
            }
            irqfd[v] = null;
            current[v] = null;
        }
    }
}
