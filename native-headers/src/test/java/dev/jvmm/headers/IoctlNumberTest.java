package dev.jvmm.headers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.headers.gen.Arch;
import dev.jvmm.headers.gen.CHeader.Macro;
import dev.jvmm.headers.gen.CType;
import dev.jvmm.headers.gen.CType.Prim;
import dev.jvmm.headers.gen.Generator.ArchInput;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Recomputes every generated ioctl number the way rust-vmm's kvm-ioctls does
 * ({@code ioctl_iow_nr!(KVM_SET_USER_MEMORY_REGION, KVMIO, 0x46, kvm_userspace_memory_region)}): direction,
 * type 0xAE and number from the header's {@code _IOW(KVMIO, 0x46, struct ...)} text, size from the
 * GENERATED class's {@code sizeof()}. A struct layout of the wrong size fails here loudly, even if the
 * header's own value (which gcc computed with the right size) went into the constant.
 */
class IoctlNumberTest {

    /** include/uapi/asm-generic/ioctl.h, used by both x86 and arm64: nr 8 bits, type 8, size 14, dir 2. */
    private static final int IOC_NONE = 0;

    private static final int IOC_WRITE = 1;
    private static final int IOC_READ = 2;

    private static final Pattern IOCTL =
            Pattern.compile("^_IO(R|W|WR)?\\s*\\(\\s*KVMIO\\s*,\\s*([0-9a-fA-Fx]+)\\s*(?:,\\s*(.+?))?\\s*\\)$");

    /** The ioctls vmm-kvm uses (the brief's list); each must be generated and checked here. */
    private static final Set<String> REQUIRED = Set.of(
            "KVM_GET_API_VERSION",
            "KVM_CREATE_VM",
            "KVM_CHECK_EXTENSION",
            "KVM_GET_VCPU_MMAP_SIZE",
            "KVM_CREATE_VCPU",
            "KVM_SET_USER_MEMORY_REGION",
            "KVM_RUN",
            "KVM_IRQ_LINE",
            "KVM_SIGNAL_MSI",
            "KVM_IRQFD",
            "KVM_IOEVENTFD",
            "KVM_SET_GSI_ROUTING",
            "KVM_CREATE_DEVICE",
            "KVM_SET_DEVICE_ATTR",
            "KVM_GET_DEVICE_ATTR",
            "KVM_HAS_DEVICE_ATTR",
            "KVM_SET_SIGNAL_MASK",
            "KVM_GET_ONE_REG",
            "KVM_SET_ONE_REG",
            "KVM_GET_REG_LIST",
            "KVM_CREATE_IRQCHIP",
            "KVM_ENABLE_CAP");

    private static final Set<String> REQUIRED_AARCH64 = Set.of("KVM_ARM_VCPU_INIT", "KVM_ARM_PREFERRED_TARGET");
    private static final Set<String> REQUIRED_X86_64 = Set.of(
            "KVM_GET_REGS",
            "KVM_SET_REGS",
            "KVM_GET_SREGS",
            "KVM_SET_SREGS",
            "KVM_SET_TSS_ADDR",
            "KVM_SET_IDENTITY_MAP_ADDR",
            "KVM_GET_SUPPORTED_CPUID",
            "KVM_SET_CPUID2");

    @ParameterizedTest
    @EnumSource(Arch.class)
    void everyIoctlNumberFollowsFromTheGeneratedStructSize(Arch arch) throws ReflectiveOperationException {
        ArchInput in = Toolchains.input(arch);
        assertEquals("0xAE", in.header().macros().get("KVMIO").body(), "KVMIO");
        Class<?> header = Class.forName(arch.javaPackage() + ".kvm_h");
        Class<?> common = Class.forName(Arch.COMMON_PACKAGE + ".kvm_h");
        List<String> problems = new ArrayList<>();
        Set<String> checked = new TreeSet<>();
        for (String name : in.manifest().constants()) {
            Macro macro = in.header().macros().get(name);
            Matcher m = macro == null ? null : IOCTL.matcher(macro.body());
            if (m == null || !m.matches()) {
                continue;
            }
            int dir = switch (m.group(1) == null ? "" : m.group(1)) {
                case "" -> IOC_NONE;
                case "W" -> IOC_WRITE;
                case "R" -> IOC_READ;
                default -> IOC_READ | IOC_WRITE;
            };
            long nr = Long.decode(m.group(2));
            long size = m.group(3) == null ? 0 : sizeOf(m.group(3), arch, in);
            assertTrue(size < (1 << 14), name + ": size does not fit the 14-bit field");
            long expected = ((long) dir << 30) | (size << 16) | (0xAEL << 8) | nr;
            // _IO(...) is unsigned int (Java int); with a sizeof the expression is unsigned long (Java long)
            String type = m.group(3) == null ? "int" : "long";
            check(header, name, expected, type, problems);
            if (hasMethod(common, name)) {
                check(common, name, expected, type, problems);
            }
            checked.add(name);
        }
        Set<String> required = new TreeSet<>(REQUIRED);
        required.addAll(arch == Arch.AARCH64 ? REQUIRED_AARCH64 : REQUIRED_X86_64);
        required.removeAll(checked);
        assertEquals(Set.of(), required, arch.id() + ": required ioctls that were not generated/checked");
        assertEquals(List.of(), problems, arch.id() + " ioctl numbers");
    }

    /** Size of the ioctl's argument type: a generated struct's sizeof(), or a scalar typedef's width. */
    private static long sizeOf(String cType, Arch arch, ArchInput in) throws ReflectiveOperationException {
        if (cType.startsWith("struct ")) {
            Class<?> struct = Class.forName(arch.javaPackage() + "."
                    + cType.substring("struct ".length()).strip());
            return (long) struct.getMethod("sizeof").invoke(null);
        }
        CType t = in.header().typedefs().containsKey(cType)
                ? in.header().typedefs().get(cType).resolved()
                : null;
        if (cType.equals("int") || cType.equals("unsigned int")) {
            return Integer.BYTES;
        }
        if (t instanceof Prim p) {
            return switch (p.kind()) {
                case CHAR -> 1;
                case SHORT -> 2;
                case INT -> 4;
                case LONG, LONG_LONG -> 8;
                default -> throw new IllegalArgumentException("ioctl argument type " + cType);
            };
        }
        throw new IllegalArgumentException(
                "ioctl argument type " + cType + " is neither a generated struct nor a scalar");
    }

    private static boolean hasMethod(Class<?> c, String name) {
        try {
            c.getMethod(name);
            return true;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    private static void check(Class<?> header, String name, long expected, String type, List<String> problems)
            throws ReflectiveOperationException {
        Method getter = header.getMethod(name);
        Object actual = getter.invoke(null);
        long value = actual instanceof Integer i ? Integer.toUnsignedLong(i) : (long) actual;
        if (!getter.getReturnType().getName().equals(type) || value != expected) {
            problems.add(header.getPackageName() + "." + name + ": recomputed 0x" + Long.toHexString(expected)
                    + " (" + type + "), generated 0x" + Long.toHexString(value) + " ("
                    + getter.getReturnType().getName() + ")");
        }
    }
}
