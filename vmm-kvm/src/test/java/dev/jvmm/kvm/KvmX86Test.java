package dev.jvmm.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The KVM layer against the real /dev/kvm of an x86_64 host, with tiny real-mode guests. Skipped (visibly) where
 * there is no usable KVM or the host is not x86_64; the aarch64 half runs inside the emulated arm64 host.
 */
class KvmX86Test {

    @Test
    void apiVersionAndBasicCapabilities() throws Exception {
        try (Kvm kvm = RealKvm.openX86OrSkip()) {
            assertEquals(Kvm.API_VERSION, kvm.apiVersion());
            assertEquals(1, kvm.checkExtension(Cap.USER_MEMORY));
            assertTrue(kvm.vcpuMmapSize() >= 4096, "kvm_run mapping is at least a page");
        }
    }

    @Test
    void portIoThenMmioWriteThenHlt() throws Exception {
        byte[] code = {
            (byte) 0xB0,
            0x42, // mov al, 0x42
            (byte) 0xE6,
            0x10, // out 0x10, al
            (byte) 0xA2,
            0x00,
            0x50, // mov [0x5000], al   (no memory there: MMIO exit)
            (byte) 0xF4, // hlt
        };
        try (Kvm kvm = RealKvm.openX86OrSkip();
                X86Guest g = new X86Guest(kvm, false, code);
                VcpuRunner r = g.vcpu.runner()) {
            var io = assertInstanceOf(VcpuExit.IoOut.class, r.run());
            assertEquals(0x10, io.port());
            assertEquals(1, io.size());
            assertEquals(1, io.count());
            assertEquals(0x42, io.data().get(ValueLayout.JAVA_BYTE, 0));

            var mmio = assertInstanceOf(VcpuExit.MmioWrite.class, r.run());
            assertEquals(0x5000, mmio.address());
            assertEquals(1, mmio.length());
            assertEquals(0x42, mmio.value());

            assertInstanceOf(VcpuExit.Hlt.class, r.run());
        }
    }

    @Test
    void mmioReadIsCompletedWithTheValueJavaSupplies() throws Exception {
        byte[] code = {
            (byte) 0xA0,
            0x00,
            0x60, // mov al, [0x6000]   (MMIO read)
            (byte) 0xE6,
            0x11, // out 0x11, al       (echo it back)
            (byte) 0xF4,
        };
        try (Kvm kvm = RealKvm.openX86OrSkip();
                X86Guest g = new X86Guest(kvm, false, code);
                VcpuRunner r = g.vcpu.runner()) {
            var read = assertInstanceOf(VcpuExit.MmioRead.class, r.run());
            assertEquals(0x6000, read.address());
            read.complete(0x5A);
            var io = assertInstanceOf(VcpuExit.IoOut.class, r.run());
            assertEquals(0x11, io.port());
            assertEquals(0x5A, io.data().get(ValueLayout.JAVA_BYTE, 0));
        }
    }

    @Test
    void ioeventfdFiresWithoutAnExitToJava() throws Exception {
        byte[] code = {
            (byte) 0xB0, 0x07,
            (byte) 0xE6, 0x20, // out 0x20, al  -> ioeventfd, no exit
            (byte) 0xE6, 0x21, // out 0x21, al  -> exit
            (byte) 0xF4,
        };
        try (Kvm kvm = RealKvm.openX86OrSkip();
                X86Guest g = new X86Guest(kvm, false, code);
                EventFd ev = EventFd.create(true);
                VcpuRunner r = g.vcpu.runner()) {
            g.vm.registerIoeventfd(VmFd.IoEvent.pio(0x20, 1), ev);
            assertEquals(0, ev.read(), "nothing signalled before the guest runs");
            var io = assertInstanceOf(VcpuExit.IoOut.class, r.run());
            assertEquals(0x21, io.port(), "the first exit Java sees is the write to 0x21, not 0x20");
            assertEquals(1, ev.read(), "the write to 0x20 signalled the eventfd inside the kernel");
            g.vm.unregisterIoeventfd(VmFd.IoEvent.pio(0x20, 1), ev);
        }
    }

    @Test
    void anMmioDoorbellWakesAnEpollWaiterWhileTheVcpuStaysInTheGuest() throws Exception {
        byte[] code = {
            (byte) 0xB0,
            0x01, // mov al, 1
            (byte) 0xA2,
            0x00,
            0x50, // mov [0x5000], al   (MMIO, but an ioeventfd: no exit)
            (byte) 0xEB,
            (byte) 0xFE, // jmp $               (never exits on its own)
        };
        long token = 0x5000_0000_0000_0001L;
        try (Kvm kvm = RealKvm.openX86OrSkip();
                X86Guest g = new X86Guest(kvm, false, code);
                EventFd doorbell = EventFd.create(true);
                Epoll ep = Epoll.create()) {
            g.vm.registerIoeventfd(VmFd.IoEvent.mmio(0x5000, 1), doorbell);
            ep.add(doorbell, Epoll.EPOLLIN, token);
            CompletableFuture<long[]> woke = new CompletableFuture<>();
            Thread waiter = Thread.ofPlatform().name("epoll").start(() -> {
                try {
                    long[] tokens = new long[4];
                    int n = ep.await(tokens, 10_000);
                    woke.complete(java.util.Arrays.copyOf(tokens, n));
                } catch (Throwable e) {
                    woke.completeExceptionally(e);
                }
            });
            X86Guest.Running vcpu = g.runOnThread();
            assertTrue(vcpu.entered().await(10, TimeUnit.SECONDS));
            long[] tokens = woke.get(10, TimeUnit.SECONDS);
            assertEquals(1, tokens.length, "the doorbell woke the waiter (not the 10 s timeout)");
            assertEquals(token, tokens[0]);
            assertTrue(!vcpu.exit().isDone(), "KVM_RUN did not return: the MMIO write never exited to userspace");
            assertEquals(1, doorbell.read(), "one guest write, one signal");
            g.vcpu.kick();
            assertInstanceOf(
                    VcpuExit.Interrupted.class, vcpu.exit().get(10, TimeUnit.SECONDS), "the only exit is the kick's");
            vcpu.thread().join(10_000);
            waiter.join(10_000);
            ep.delete(doorbell);
            g.vm.unregisterIoeventfd(VmFd.IoEvent.mmio(0x5000, 1), doorbell);
        }
    }

    @Test
    void irqfdWithAnMsiRouteIsAccepted() throws Exception {
        try (Kvm kvm = RealKvm.openX86OrSkip();
                X86Guest g = new X86Guest(kvm, true, (byte) 0xF4);
                EventFd ev = EventFd.create(true)) {
            // x86 MSI: address 0xFEE00000 (LAPIC, destination 0), data = fixed delivery, vector 0x30.
            g.vm.setGsiRouting(List.of(new IrqRoute.Msi(24, 0xFEE0_0000L, 0x30, OptionalInt.empty())));
            g.vm.registerIrqfd(ev, 24);
            ev.signal();
            g.vm.unregisterIrqfd(ev, 24);
            // Unrouted GSIs are still accepted for irqfd, but a malformed table is refused by the kernel:
            var e = assertThrows(
                    ErrnoException.class, () -> g.vm.setGsiRouting(List.of(new IrqRoute.Irqchip(1, 99, 0))));
            assertEquals(Errno.EINVAL, e.errno());
            assertTrue(e.getMessage().startsWith("KVM_SET_GSI_ROUTING"), e.getMessage());
        }
    }

    @Test
    void signalMsiIsDeliveredAndTheGuestTakesTheInterrupt() throws Exception {
        byte[] code = X86Guest.enablingTheLapic(
                (byte) 0xFB, // sti
                (byte) 0xF4, // hlt (waits inside KVM: the LAPIC is in-kernel)
                (byte) 0xEB,
                (byte) 0xFD); // jmp back to hlt
        try (Kvm kvm = RealKvm.openX86OrSkip();
                X86Guest g = new X86Guest(kvm, true, code)) {
            assertEquals(1, kvm.checkExtension(Cap.SIGNAL_MSI));
            g.setDsBase(0xFEE0_0000L);
            g.poke(0x30 * 4, (byte) 0x00, (byte) 0x11, (byte) 0x00, (byte) 0x00); // IVT[0x30] = 0000:1100
            g.poke(0x1100, (byte) 0xE6, (byte) 0x31, (byte) 0xF4); // handler: out 0x31, al; hlt
            X86Guest.Running vcpu = g.runOnThread();
            vcpu.entered().await();
            // The guest needs a moment to enable its LAPIC and halt; until then the MSI would be refused (0).
            int delivered = 0;
            for (int i = 0; i < 100 && delivered == 0 && !vcpu.exit().isDone(); i++) {
                Thread.sleep(20);
                // x86 MSI: address 0xFEE00000 = LAPIC of APIC id 0, data = fixed delivery, vector 0x30.
                delivered = g.vm.signalMsi(0xFEE0_0000L, 0x30, OptionalInt.empty());
            }
            assertEquals(1, delivered, "KVM_SIGNAL_MSI reached one LAPIC");
            var io = assertInstanceOf(VcpuExit.IoOut.class, vcpu.exit().get(10, TimeUnit.SECONDS));
            assertEquals(0x31, io.port(), "the guest ran its vector 0x30 handler");
            vcpu.thread().join(10_000);
        }
    }

    @Test
    void kickInterruptsAVcpuBlockedInKvmRun() throws Exception {
        byte[] spin = {(byte) 0xEB, (byte) 0xFE}; // jmp $ : never exits on its own
        try (Kvm kvm = RealKvm.openX86OrSkip();
                X86Guest g = new X86Guest(kvm, false, spin)) {
            X86Guest.Running vcpu = g.runOnThread();
            assertTrue(vcpu.entered().await(10, TimeUnit.SECONDS));
            Thread.sleep(200); // let it get into the guest loop
            assertTrue(!vcpu.exit().isDone(), "the spinning guest must not exit by itself");
            g.vcpu.kick();
            assertInstanceOf(VcpuExit.Interrupted.class, vcpu.exit().get(10, TimeUnit.SECONDS));
            vcpu.thread().join(10_000);
        }
    }

    @Test
    void aKickBeforeKvmRunIsNotLost() throws Exception {
        byte[] spin = {(byte) 0xEB, (byte) 0xFE};
        try (Kvm kvm = RealKvm.openX86OrSkip();
                X86Guest g = new X86Guest(kvm, false, spin)) {
            CompletableFuture<VcpuExit> exit = new CompletableFuture<>();
            CountDownLatch ready = new CountDownLatch(1);
            CountDownLatch kicked = new CountDownLatch(1);
            Thread t = Thread.ofPlatform().start(() -> {
                try (VcpuRunner r = g.vcpu.runner()) {
                    ready.countDown();
                    kicked.await(); // the kick lands while this thread is in Java, not in KVM_RUN
                    exit.complete(r.run());
                } catch (Throwable e) {
                    exit.completeExceptionally(e);
                }
            });
            ready.await();
            g.vcpu.kick();
            kicked.countDown();
            assertInstanceOf(VcpuExit.Interrupted.class, exit.get(10, TimeUnit.SECONDS));
            t.join(10_000);
        }
    }

    @Test
    void deviceTestReportsWhatX86CannotCreate() throws Exception {
        try (Kvm kvm = RealKvm.openX86OrSkip();
                VmFd vm = kvm.createVm()) {
            // An arm64 GICv3 is no x86 device: the TEST flag answers ENODEV, which is "no", not an error.
            assertTrue(!vm.canCreateDevice(dev.jvmm.headers.linux.common.kvm_h.KVM_DEV_TYPE_ARM_VGIC_V3()));
        }
    }
}
