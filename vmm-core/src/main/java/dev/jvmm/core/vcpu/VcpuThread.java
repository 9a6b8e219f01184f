package dev.jvmm.core.vcpu;

import dev.jvmm.core.bus.Bus;
import dev.jvmm.kvm.ErrnoException;
import dev.jvmm.kvm.VcpuExit;
import dev.jvmm.kvm.VcpuFd;
import dev.jvmm.kvm.VcpuRunner;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.LongAdder;

/**
 * One vCPU's platform thread: KVM_RUN in a loop, MMIO exits dispatched to the bus, system events and failures
 * reported to the machine's {@link RunState}. The loop ends when the run state is finished; the machine then
 * {@link #kick()}s every vCPU so none stays blocked in the guest.
 */
public final class VcpuThread {
    private static final System.Logger LOG = System.getLogger(VcpuThread.class.getName());

    private final VcpuFd vcpu;
    private final Bus mmio;
    private final RunState state;
    private final ExternalAborts aborts;
    private final CountDownLatch ready = new CountDownLatch(1);
    private final LongAdder exits = new LongAdder();
    private Thread thread;

    public VcpuThread(VcpuFd vcpu, Bus mmio, RunState state, ExternalAborts aborts) {
        this.vcpu = vcpu;
        this.mmio = mmio;
        this.state = state;
        this.aborts = aborts;
    }

    /** Starts the thread and waits until it holds its runner, so a kick from now on cannot be lost. */
    public void start() throws InterruptedException {
        thread = Thread.ofPlatform().name("vcpu" + vcpu.id()).start(this::loop);
        ready.await();
    }

    public void kick() {
        try {
            vcpu.kick();
        } catch (ErrnoException e) {
            LOG.log(System.Logger.Level.WARNING, "kicking vCPU {0}: {1}", vcpu.id(), e.getMessage());
        }
    }

    public void join() throws InterruptedException {
        if (thread != null) thread.join();
    }

    public long exits() {
        return exits.sum();
    }

    private void loop() {
        try (VcpuRunner runner = vcpu.runner()) {
            ready.countDown();
            while (!state.isFinished()) {
                VcpuExit exit = runner.run();
                exits.increment();
                handle(exit);
            }
        } catch (ErrnoException e) {
            state.finish(new GuestExit.Failed("vCPU " + vcpu.id() + ": " + e.getMessage()));
        } catch (RuntimeException | Error e) {
            state.finish(new GuestExit.Failed("vCPU " + vcpu.id() + " internal error: " + e));
            LOG.log(System.Logger.Level.ERROR, "vCPU " + vcpu.id() + " failed", e);
        } finally {
            ready.countDown();
        }
    }

    private void handle(VcpuExit exit) throws ErrnoException {
        switch (exit) {
            case VcpuExit.MmioRead r -> {
                var v = mmio.read(r.address(), r.length()); // the bus counts and logs what nothing decodes
                // No region there at all: reads complete as 0 and the guest goes on (QEMU does the same for
                // unassigned addresses); holes that must read all ones are covered by background regions on the
                // bus, and an access straddling a region's end never gets here: the bus answers it all ones.
                r.complete(v.orElse(0));
            }
            case VcpuExit.MmioWrite w -> {
                mmio.write(w.address(), w.length(), w.value());
            }
            case VcpuExit.SystemEvent e -> {
                switch (e.kind()) {
                    case SHUTDOWN -> state.finish(new GuestExit.PowerOff());
                    case RESET -> state.finish(new GuestExit.Reset());
                    case CRASH -> state.finish(new GuestExit.Panic("KVM_SYSTEM_EVENT_CRASH from vCPU " + vcpu.id()));
                    case OTHER ->
                        LOG.log(
                                System.Logger.Level.WARNING,
                                "vCPU {0}: ignoring system event type {1}",
                                vcpu.id(),
                                e.type());
                }
            }
            case VcpuExit.Interrupted i -> {} // a kick: the loop condition decides
            case VcpuExit.ArmNisv n -> {
                if (aborts.canInject()) {
                    vcpu.injectExternalDataAbort();
                    aborts.injected(vcpu.id(), n.faultIpa(), n.esrIss());
                } else {
                    state.finish(new GuestExit.Failed(("vCPU %d: the guest accessed device address 0x%x with an "
                                    + "instruction KVM cannot decode (no valid syndrome, ESR ISS 0x%x), and this host's KVM "
                                    + "cannot inject an external abort (no KVM_CAP_ARM_INJECT_EXT_DABT)")
                            .formatted(vcpu.id(), n.faultIpa(), n.esrIss())));
                }
            }
            case VcpuExit.InternalError ie ->
                state.finish(new GuestExit.Failed(
                        "vCPU %d: KVM internal error, suberror %d".formatted(vcpu.id(), ie.suberror())));
            case VcpuExit.FailEntry f ->
                state.finish(new GuestExit.Failed("vCPU %d: KVM could not enter the guest, reason 0x%x"
                        .formatted(vcpu.id(), f.hardwareReason())));
            case VcpuExit.Unknown u ->
                state.finish(new GuestExit.Failed(
                        "vCPU %d: unexpected KVM exit reason %d".formatted(vcpu.id(), u.reason())));
            case VcpuExit.IoIn i -> state.finish(new GuestExit.Failed("vCPU " + vcpu.id() + ": port I/O on arm64"));
            case VcpuExit.IoOut o -> state.finish(new GuestExit.Failed("vCPU " + vcpu.id() + ": port I/O on arm64"));
            case VcpuExit.Hlt h -> state.finish(new GuestExit.Failed("vCPU " + vcpu.id() + ": HLT exit on arm64"));
            case VcpuExit.Shutdown s -> state.finish(new GuestExit.Failed("vCPU " + vcpu.id() + ": shutdown exit"));
        }
    }
}
