package dev.jvmm.core.irq;

import dev.jvmm.kvm.ErrnoException;
import dev.jvmm.kvm.EventFd;
import dev.jvmm.kvm.IrqRoute;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The VM's GSI routing table for MSIs: allocates GSIs, holds one route per GSI and replaces the kernel's whole table
 * (KVM_SET_GSI_ROUTING, api.rst §4.52) when routes change; irqfds are assigned (KVM_IRQFD, §4.75) only after the
 * route of their GSI has been set (other VMMs' trackers record irqfds assigned before their route as a source of
 * lost or misrouted interrupts; this order costs nothing).
 *
 * <p>jvmm owns the whole table: on arm64 nothing else uses GSIs (wired SPIs go through KVM_IRQ_LINE, which does not
 * consult routing), so GSIs are numbered from 0.
 *
 * <p>Thread safety: every method is synchronized; callers may hold their own lock while calling in (MsixIrqfds
 * does), never the other way round.
 */
public final class MsiRoutes {
    /** The kernel side, a VmFd in a machine; a fake in unit tests. */
    public interface Kernel {
        void setGsiRouting(List<IrqRoute> routes) throws ErrnoException;

        void assignIrqfd(EventFd event, int gsi) throws ErrnoException;

        void deassignIrqfd(EventFd event, int gsi) throws ErrnoException;
    }

    private final Kernel kernel;
    private final int maxRoutes;
    private final TreeMap<Integer, IrqRoute> routes = new TreeMap<>();
    private final TreeMap<Integer, EventFd> irqfds = new TreeMap<>();
    private int nextGsi;
    private long commits;

    /** @param maxRoutes the table's size limit (KVM_CAP_IRQ_ROUTING's answer, KVM_MAX_IRQ_ROUTES = 4096) */
    public MsiRoutes(Kernel kernel, int maxRoutes) {
        this.kernel = Objects.requireNonNull(kernel);
        if (maxRoutes < 1) throw new IllegalArgumentException("maxRoutes " + maxRoutes);
        this.maxRoutes = maxRoutes;
    }

    /** A new GSI for one MSI vector. */
    public synchronized int allocateGsi() {
        if (nextGsi >= maxRoutes) {
            throw new IllegalStateException("all %d GSI routes are taken".formatted(maxRoutes));
        }
        return nextGsi++;
    }

    /**
     * Applies route changes in one commit: a non-null route sets its GSI's route, null removes it. The table is sent
     * to the kernel only when something differs; then the irqfd of a GSI that has a route is assigned, the first time
     * only. An irqfd stays assigned when its route goes away: KVM then finds no route for the GSI and raises nothing
     * (irqfd_update), and callers write an irqfd only while its route is set.
     *
     * @param changes GSI to its new route or null; {@code irqfd} per GSI for the GSIs that have one
     * @throws ErrnoException when KVM refuses the table (the kernel and this object keep the previous one) or an
     *                        irqfd (the routes are set; the irqfd is tried again at the next update)
     */
    public synchronized void update(Map<Integer, IrqRoute> changes, Map<Integer, EventFd> irqfd) throws ErrnoException {
        TreeMap<Integer, IrqRoute> next = new TreeMap<>(routes);
        for (Map.Entry<Integer, IrqRoute> c : changes.entrySet()) {
            if (c.getValue() == null) next.remove(c.getKey());
            else next.put(c.getKey(), c.getValue());
        }
        if (next.equals(routes)) return;
        kernel.setGsiRouting(new ArrayList<>(next.values()));
        routes.clear();
        routes.putAll(next);
        commits++;
        for (Integer gsi : changes.keySet()) {
            EventFd fd = irqfd.get(gsi);
            if (next.containsKey(gsi) && fd != null && !irqfds.containsKey(gsi)) {
                kernel.assignIrqfd(fd, gsi);
                irqfds.put(gsi, fd);
            }
        }
    }

    /** Deassigns every irqfd (the machine closes them after); routes stay until the VM goes. */
    public synchronized void close() {
        for (Map.Entry<Integer, EventFd> e : irqfds.entrySet()) {
            try {
                kernel.deassignIrqfd(e.getValue(), e.getKey());
            } catch (ErrnoException ex) {
                System.getLogger(MsiRoutes.class.getName())
                        .log(
                                System.Logger.Level.WARNING,
                                "KVM_IRQFD deassign gsi {0}: {1}",
                                e.getKey(),
                                ex.getMessage());
            }
        }
        irqfds.clear();
    }

    /** The route of {@code gsi} now, or null. */
    public synchronized IrqRoute route(int gsi) {
        return routes.get(gsi);
    }

    /** Routes now in the kernel's table. */
    public synchronized int size() {
        return routes.size();
    }

    /** How many times the table was sent to the kernel. */
    public synchronized long commits() {
        return commits;
    }
}
