package dev.jvmm.headers;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jvmm.headers.gen.Arch;
import dev.jvmm.headers.gen.ProbeResult;
import dev.jvmm.headers.linux.common.kvm_h;
import dev.jvmm.headers.linux.common.kvm_irq_routing;
import dev.jvmm.headers.linux.common.kvm_irq_routing_entry;
import dev.jvmm.headers.linux.common.kvm_irq_routing_msi;
import dev.jvmm.headers.linux.common.kvm_run;
import dev.jvmm.headers.linux.common.kvm_userspace_memory_region;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The generated classes used the way vmm-kvm will use them, through FFM: values written with the accessors
 * must sit at the byte offsets the C compiler uses (read back raw, little endian, as KVM would), and raw bytes
 * the kernel writes must come back through the getters. Offsets come from the compiler, not from the classes.
 */
class GeneratedStructsWorkTest {

    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static ByteBuffer raw(MemorySegment s) {
        return ByteBuffer.wrap(s.toArray(JAVA_BYTE)).order(ByteOrder.LITTLE_ENDIAN); // both arches are LE
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void memoryRegionFieldsLandAtTheCompilersOffsets(Arch arch) {
        ProbeResult c = Toolchains.input(arch).probe();
        String t = "kvm_userspace_memory_region";
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment region = kvm_userspace_memory_region.allocate(arena);
            assertEquals(c.sizeof(t), region.byteSize());
            kvm_userspace_memory_region.slot(region, 3);
            kvm_userspace_memory_region.flags(region, Math.toIntExact(kvm_h.KVM_MEM_READONLY())); // 1UL << 1: a long
            kvm_userspace_memory_region.guest_phys_addr(region, 0x8000_0001_2345_6000L);
            kvm_userspace_memory_region.memory_size(region, 0x4000_0000L);
            kvm_userspace_memory_region.userspace_addr(region, 0x7f12_3456_7000L);

            ByteBuffer b = raw(region);
            assertEquals(3, b.getInt((int) c.offsetof(t, "slot")));
            assertEquals(c.constant("KVM_MEM_READONLY"), b.getInt((int) c.offsetof(t, "flags")));
            assertEquals(0x8000_0001_2345_6000L, b.getLong((int) c.offsetof(t, "guest_phys_addr")));
            assertEquals(0x4000_0000L, b.getLong((int) c.offsetof(t, "memory_size")));
            assertEquals(0x7f12_3456_7000L, b.getLong((int) c.offsetof(t, "userspace_addr")));
        }
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void kvmRunExitMembersReadWhatTheKernelWrites(Arch arch) {
        ProbeResult c = Toolchains.input(arch).probe();
        try (Arena arena = Arena.ofConfined()) {
            // KVM_RUN's page is mmap'ed; here a plain segment of the C size stands in for it
            MemorySegment run = arena.allocate(c.sizeof("kvm_run"), 8);
            MemorySegment.copy(
                    MemorySegment.ofArray(leLong(0x1234_5678_9abc_def0L)),
                    0,
                    run,
                    c.offsetof("kvm_run", "mmio.phys_addr"),
                    8);
            run.set(JAVA_BYTE, c.offsetof("kvm_run", "mmio.is_write"), (byte) 1);
            run.set(LE_INT, c.offsetof("kvm_run", "exit_reason"), (int) c.constant("KVM_EXIT_MMIO"));

            assertEquals(kvm_h.KVM_EXIT_MMIO(), kvm_run.exit_reason(run));
            MemorySegment mmio = kvm_run.mmio(run);
            assertEquals(0x1234_5678_9abc_def0L, kvm_run.mmio.phys_addr(mmio));
            assertEquals(1, kvm_run.mmio.is_write(mmio));

            // An indexed setter on an array that is not at offset 0 of its class (openjdk/jextract 91fc954,
            // 2025-11: the indexed handle's base is the field's offset, not 0)
            MemorySegment event = kvm_run.system_event(run);
            kvm_run.system_event.data(event, 3, 0xdead_beefL);
            assertEquals(0xdead_beefL, raw(run).getLong((int) (c.offsetof("kvm_run", "system_event.data") + 3 * 8)));

            kvm_run.io.port(kvm_run.io(run), (short) 0x3f8);
            assertEquals(0x3f8, raw(run).getShort((int) c.offsetof("kvm_run", "io.port")));
        }
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void flexibleArrayIsSizedAndWalkedByTheCaller(Arch arch) {
        ProbeResult c = Toolchains.input(arch).probe();
        try (Arena arena = Arena.ofConfined()) {
            long entry = kvm_irq_routing_entry.sizeof();
            MemorySegment routing = arena.allocate(kvm_irq_routing.sizeof() + 2 * entry, 8);
            kvm_irq_routing.nr(routing, 2);
            MemorySegment entries = routing.asSlice(kvm_irq_routing.entries$offset());
            MemorySegment second = kvm_irq_routing_entry.asSlice(entries, 1);
            kvm_irq_routing_entry.gsi(second, 33);
            kvm_irq_routing_entry.type(second, kvm_h.KVM_IRQ_ROUTING_MSI());
            MemorySegment msi = kvm_irq_routing_entry.u.msi(kvm_irq_routing_entry.u(second));
            kvm_irq_routing_msi.devid(msi, 0x0108);

            long base = c.offsetof("kvm_irq_routing", "entries") + c.sizeof("kvm_irq_routing_entry");
            ByteBuffer b = raw(routing);
            assertEquals(2, b.getInt((int) c.offsetof("kvm_irq_routing", "nr")));
            assertEquals(33, b.getInt((int) (base + c.offsetof("kvm_irq_routing_entry", "gsi"))));
            assertEquals(c.constant("KVM_IRQ_ROUTING_MSI"), b.getInt((int)
                    (base + c.offsetof("kvm_irq_routing_entry", "type"))));
            assertEquals(0x0108, b.getInt((int) (base
                    + c.offsetof("kvm_irq_routing_entry", "u.msi")
                    + c.offsetof("kvm_irq_routing_msi", "devid"))));
        }
    }

    @Test
    void flexibleArrayAccessorsAreEmptyLikeJextracts() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment routing = kvm_irq_routing.allocate(arena);
            assertEquals(0, kvm_irq_routing.entries(routing).byteSize());
            assertEquals(0, kvm_irq_routing.entries$dimensions()[0]);
            assertThrows(IndexOutOfBoundsException.class, () -> kvm_irq_routing.entries(routing, 0));
        }
    }

    @Test
    void aarch64VcpuInitFeaturesAreIndexedFromTheirOffset() {
        ProbeResult c = Toolchains.input(Arch.AARCH64).probe();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment init = dev.jvmm.headers.linux.aarch64.kvm_vcpu_init.allocate(arena);
            dev.jvmm.headers.linux.aarch64.kvm_vcpu_init.target(init, 5);
            dev.jvmm.headers.linux.aarch64.kvm_vcpu_init.features(
                    init, 0, 1 << dev.jvmm.headers.linux.aarch64.kvm_h.KVM_ARM_VCPU_PSCI_0_2());
            dev.jvmm.headers.linux.aarch64.kvm_vcpu_init.features(init, 1, 0x55);
            ByteBuffer b = raw(init);
            int features = (int) c.offsetof("kvm_vcpu_init", "features");
            assertEquals(5, b.getInt((int) c.offsetof("kvm_vcpu_init", "target")));
            assertEquals(1 << c.constant("KVM_ARM_VCPU_PSCI_0_2"), b.getInt(features));
            assertEquals(0x55, b.getInt(features + 4));
        }
    }

    @Test
    void x86SregsSegmentsAndBitmapLandAtTheCompilersOffsets() {
        ProbeResult c = Toolchains.input(Arch.X86_64).probe();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sregs = dev.jvmm.headers.linux.x86_64.kvm_sregs.allocate(arena);
            MemorySegment cs = dev.jvmm.headers.linux.x86_64.kvm_sregs.cs(sregs);
            dev.jvmm.headers.linux.x86_64.kvm_segment.selector(cs, (short) 0x10);
            dev.jvmm.headers.linux.x86_64.kvm_sregs.interrupt_bitmap(sregs, 2, 1L << 63);
            ByteBuffer b = raw(sregs);
            assertEquals(
                    0x10, b.getShort((int) (c.offsetof("kvm_sregs", "cs") + c.offsetof("kvm_segment", "selector"))));
            assertEquals(1L << 63, b.getLong((int) (c.offsetof("kvm_sregs", "interrupt_bitmap") + 2 * 8)));
        }
    }

    private static byte[] leLong(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }
}
