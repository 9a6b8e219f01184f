package dev.jvmm.headers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.headers.gen.CHeader;
import dev.jvmm.headers.gen.CType;
import dev.jvmm.headers.gen.CType.Array;
import dev.jvmm.headers.gen.CType.CAggregate;
import dev.jvmm.headers.gen.CType.CMember;
import dev.jvmm.headers.gen.CType.Inline;
import dev.jvmm.headers.gen.CType.Prim;
import dev.jvmm.headers.gen.CType.PrimKind;
import dev.jvmm.headers.gen.CType.Tagged;
import dev.jvmm.headers.gen.CType.Typedef;
import dev.jvmm.headers.gen.Manifest;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The C declaration parser and the manifest reader, on hand-written input (no compiler needed). */
class CHeaderParserTest {

    private static final String PREPROCESSED = """
            # 1 "/usr/include/asm-generic/int-ll64.h" 1 3 4
            typedef unsigned char __u8;
            typedef __signed__ int __s32;
            __extension__ typedef unsigned long long __u64;
            typedef __u64 __attribute__((aligned(8))) __aligned_u64;
            typedef void (*__sighandler_t)(int);
            # 5 "/usr/include/linux/kvm.h" 1 3 4
            #define KVMIO 0xAE
            #define KVM_RUN _IO(KVMIO, 0x80)
            #define KVM_REG_ARM_CORE_REG(name) (offsetof(struct kvm_regs, name) / sizeof(__u32))
            struct kvm_demo {
             __u8 a, b[3];
             union {
              __u64 x;
              __s32 y;
             };
             struct { __u8 direction; __u8 :2; __u8 flag : 1; } io;
             struct kvm_other other;
             __aligned_u64 ptr;
             struct { struct { } __empty_reg; __u64 reg[]; };
            };
            enum kvm_device_type {
             KVM_DEV_TYPE_A = 1,
            #define KVM_DEV_TYPE_A KVM_DEV_TYPE_A
             KVM_DEV_TYPE_B = (1 << 3),
             KVM_DEV_TYPE_MAX,
            };
            """;

    @Test
    void readsStructsWithAnonymousNestedAndFlexibleMembers() {
        CHeader h = CHeader.parse(PREPROCESSED);
        CAggregate demo = h.requireAggregate("kvm_demo");
        List<String> names = demo.members().stream().map(CMember::name).toList();
        assertEquals(java.util.Arrays.asList("a", "b", null, "io", "other", "ptr", "reg"), names);

        assertEquals(
                new Typedef("__u8", new Prim(PrimKind.CHAR, "unsigned char")),
                demo.members().get(0).type());
        assertInstanceOf(Array.class, demo.members().get(1).type());
        CAggregate union = ((Inline) demo.members().get(2).type()).aggregate();
        assertTrue(union.union());
        assertNull(union.tag());
        CAggregate io = ((Inline) demo.members().get(3).type()).aggregate();
        assertEquals(3, io.members().size(), "the unnamed bitfield is kept as a bitfield");
        assertTrue(io.members().get(1).bitfield());
        assertTrue(io.members().get(2).bitfield());
        assertEquals(new Tagged(false, "kvm_other"), demo.members().get(4).type());
        assertEquals(PrimKind.LONG_LONG, ((Prim) demo.members().get(5).type().resolved()).kind());
        // __DECLARE_FLEX_ARRAY's anonymous struct reads as a plain flexible array member
        CType reg = demo.members().get(6).type();
        assertTrue(reg instanceof Array a && a.flexible());
    }

    @Test
    void recordsMacrosAndEnumConstantsInParseOrder() {
        CHeader h = CHeader.parse(PREPROCESSED);
        assertEquals("_IO(KVMIO, 0x80)", h.macros().get("KVM_RUN").body());
        assertFalse(h.macros().get("KVM_RUN").functionLike());
        assertTrue(h.macros().get("KVM_REG_ARM_CORE_REG").functionLike());
        assertEquals("/usr/include/linux/kvm.h", h.macros().get("KVMIO").file());
        assertEquals(
                "kvm_device_type", h.enumConstants().get("KVM_DEV_TYPE_MAX").enumTag());
        assertTrue(h.macros().get("KVM_RUN").position()
                < h.enumConstants().get("KVM_DEV_TYPE_A").position());
        assertTrue(h.enumConstants().get("KVM_DEV_TYPE_A").position()
                < h.enumConstants().get("KVM_DEV_TYPE_B").position());
        assertEquals(1, h.skipped().size(), "the function-pointer typedef is skipped: " + h.skipped());
    }

    @Test
    void manifestReadsJextractSyntaxAndFieldDirectives() {
        Manifest m = Manifest.parse(
                "t.manifest",
                List.of(
                        "#### Extracted from: linux/kvm.h",
                        "",
                        "--include-constant KVM_RUN              # header: linux/kvm.h",
                        "--include-struct kvm_run                # header: linux/kvm.h",
                        "#@ fields kvm_run exit_reason io",
                        "#@ fields kvm_run mmio"));
        assertEquals(List.of("KVM_RUN"), List.copyOf(m.constants()));
        assertEquals(List.of("kvm_run"), List.copyOf(m.structs()));
        assertEquals(List.of("exit_reason", "io", "mmio"), List.copyOf(m.fieldsOf("kvm_run")));
        assertNull(m.fieldsOf("kvm_other"));

        assertThrows(IllegalArgumentException.class, () -> Manifest.parse("t", List.of("--include-function f")));
        assertThrows(IllegalArgumentException.class, () -> Manifest.parse("t", List.of("#@ fields kvm_run io")));
        assertThrows(
                IllegalArgumentException.class,
                () -> Manifest.parse("t", List.of("--include-constant A", "--include-constant A")));
    }
}
