package dev.jvmm.pcie.msi;

import java.lang.System.Logger.Level;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;

/**
 * The upstream end of one PCI function's interrupts: where in the hierarchy the function sits and which
 * sink its messages go to.
 *
 * <p>The requester id is resolved when a message is sent, from the bus number the guest has just
 * programmed into the parent port (its secondary bus), plus the function's fixed device and function
 * numbers. Real hardware captures the bus number from each Type 0 configuration write it receives
 * (PCIe Base 6.0 §2.2.6.2); that write was routed by the same secondary bus number, so reading the port is
 * equivalent and needs no state in the function. Renumbering the buses therefore changes the id of the
 * next message at once.
 *
 * <p>A target starts disconnected (a device built but not plugged in) and is connected when its device is
 * attached to a port; messages sent while disconnected, or while the parent bus is unassigned, are dropped
 * and counted, never thrown.
 */
public final class MsiTarget {
    private static final System.Logger LOG = System.getLogger(MsiTarget.class.getName());

    /** Placement of a function: {@code busNumber} returns -1 while the guest has not assigned the bus. */
    private record Binding(IntSupplier busNumber, int device, int function, MsiSink sink) {}

    private volatile Binding binding;
    private final AtomicLong dropped = new AtomicLong();

    /**
     * Places the function at {@code device.function} on the bus that {@code busNumber} reports now and later.
     *
     * @param busNumber the parent bus number, read at signal time; negative or above 255 means unassigned
     */
    public void connect(IntSupplier busNumber, int device, int function, MsiSink sink) {
        new RequesterId(0, device, function); // validates the numbers; these come from the VMM, not the guest
        binding = new Binding(busNumber, device, function, sink);
    }

    /** Detaches the function: later messages are dropped (hot-unplug). */
    public void disconnect() {
        binding = null;
    }

    /** The requester id as of now, or empty while disconnected or while the parent bus is unassigned. */
    public Optional<RequesterId> requesterId() {
        Binding b = binding;
        return b == null ? Optional.empty() : resolve(b);
    }

    /**
     * Sends one message. Returns whether it reached a sink; a message for a function without a requester id
     * is dropped because no interrupt controller could attribute it to a device.
     */
    public boolean signal(long address, int data) {
        Binding b = binding;
        Optional<RequesterId> rid = b == null ? Optional.empty() : resolve(b);
        if (rid.isEmpty()) {
            if (dropped.getAndIncrement() == 0) {
                LOG.log(
                        Level.WARNING,
                        "MSI to 0x{0} dropped: function has no requester id (bus unassigned or"
                                + " device unplugged); further drops are only counted",
                        Long.toHexString(address));
            }
            return false;
        }
        b.sink().signal(address, data, rid.get());
        return true;
    }

    /** Messages dropped for lack of a requester id. */
    public long droppedCount() {
        return dropped.get();
    }

    private static Optional<RequesterId> resolve(Binding b) {
        int bus = b.busNumber().getAsInt();
        if (bus < 0 || bus > 0xFF) {
            return Optional.empty();
        }
        return Optional.of(new RequesterId(bus, b.device(), b.function()));
    }
}
