package dev.jvmm.headers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jvmm.headers.gen.Arch;
import dev.jvmm.headers.gen.CIntType;
import dev.jvmm.headers.gen.CType;
import dev.jvmm.headers.gen.CType.Array;
import dev.jvmm.headers.gen.CType.CAggregate;
import dev.jvmm.headers.gen.CType.CMember;
import dev.jvmm.headers.gen.CType.Inline;
import dev.jvmm.headers.gen.Generator.ArchInput;
import dev.jvmm.headers.gen.Manifest;
import dev.jvmm.headers.gen.ProbeResult;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The bindgen layout-test idea (rust-vmm kvm-bindings asserts every size and offset against the compiler):
 * every number the generated classes expose is compared with what gcc says for that architecture, through
 * the compiled classes themselves, so a wrong layout expression, padding or literal fails here even if the
 * generator's own model agrees with itself.
 */
class LayoutConformanceTest {

    @ParameterizedTest
    @EnumSource(Arch.class)
    void constantsHaveTheCompilersValueAndType(Arch arch) throws ReflectiveOperationException {
        ArchInput in = Toolchains.input(arch);
        List<String> problems = new ArrayList<>();
        Class<?> header = Class.forName(arch.javaPackage() + ".kvm_h");
        for (String name : in.manifest().constants()) {
            checkConstant(header, name, in.probe(), problems);
        }
        assertEquals(
                new TreeSet<>(in.manifest().constants()),
                constantNames(header),
                "kvm_h must hold exactly the manifest's constants");
        assertEquals(List.of(), problems, arch.id() + " constants");
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void structsHaveTheCompilersSizesAndOffsets(Arch arch) throws ReflectiveOperationException {
        ArchInput in = Toolchains.input(arch);
        List<String> problems = new ArrayList<>();
        for (String tag : in.manifest().structs()) {
            checkStruct(Class.forName(arch.javaPackage() + "." + tag), tag, in, problems);
        }
        assertEquals(List.of(), problems, arch.id() + " structs");
    }

    /** Everything in the common package must be right for every architecture, not just the one it came from. */
    @ParameterizedTest
    @EnumSource(Arch.class)
    void commonPackageIsRightForEveryArch(Arch arch) throws ReflectiveOperationException {
        ArchInput in = Toolchains.input(arch);
        List<String> problems = new ArrayList<>();
        Class<?> header = Class.forName(Arch.COMMON_PACKAGE + ".kvm_h");
        for (String name : constantNames(header)) {
            if (!in.manifest().constants().contains(name)) {
                problems.add(name + " is common but not in the " + arch.id() + " manifest");
            } else {
                checkConstant(header, name, in.probe(), problems);
            }
        }
        for (String tag : in.manifest().structs()) {
            Class<?> common = commonClass(tag);
            if (common != null) {
                checkStruct(common, tag, in, problems);
            }
        }
        assertEquals(List.of(), problems, "common package against " + arch.id());
    }

    @Test
    void commonPackageHoldsTheWholeSharedManifest() throws ReflectiveOperationException {
        Manifest shared = Manifest.shared(Toolchains.MANIFEST_DIR);
        Set<String> common = constantNames(Class.forName(Arch.COMMON_PACKAGE + ".kvm_h"));
        List<String> missing = new ArrayList<>(
                shared.constants().stream().filter(n -> !common.contains(n)).toList());
        shared.structs().stream().filter(t -> commonClass(t) == null).forEach(t -> missing.add("struct " + t));
        assertEquals(List.of(), missing, "kvm.manifest entries missing from " + Arch.COMMON_PACKAGE);
    }

    // ---- constants --------------------------------------------------------------------------------------------

    private static Set<String> constantNames(Class<?> header) {
        Set<String> names = new TreeSet<>();
        for (Method m : header.getMethods()) {
            boolean generated = m.getDeclaringClass().getSimpleName().startsWith("kvm_h")
                    && !m.getDeclaringClass().getSimpleName().equals("kvm_h$shared");
            if (generated && Modifier.isStatic(m.getModifiers()) && m.getParameterCount() == 0) {
                names.add(m.getName());
            }
        }
        return names;
    }

    private static void checkConstant(Class<?> header, String name, ProbeResult probe, List<String> problems)
            throws ReflectiveOperationException {
        Method getter;
        try {
            getter = header.getMethod(name);
        } catch (NoSuchMethodException e) {
            problems.add(name + ": no getter in " + header.getName());
            return;
        }
        CIntType cType = probe.constantType(name);
        long c = probe.constant(name);
        Object v = getter.invoke(null);
        String javaType = getter.getReturnType().getName();
        if (!javaType.equals(cType.javaType())) {
            problems.add(name + ": C type " + cType.cName() + " needs Java " + cType.javaType() + ", got " + javaType);
            return;
        }
        boolean same = switch (v) {
            case Integer i -> i == (int) c;
            case Long l -> l == c;
            case Short s -> s == (short) c;
            case Byte b -> b == (byte) c;
            default -> false;
        };
        if (!same) {
            problems.add(name + ": compiler says " + c + " (" + cType.cName() + "), Java says " + v);
        }
    }

    // ---- structs ----------------------------------------------------------------------------------------------

    private static Class<?> commonClass(String tag) {
        try {
            return Class.forName(Arch.COMMON_PACKAGE + "." + tag);
        } catch (ClassNotFoundException e) {
            return null;
        }
    }

    private static void checkStruct(Class<?> cls, String tag, ArchInput in, List<String> problems)
            throws ReflectiveOperationException {
        ProbeResult probe = in.probe();
        String where = cls.getName();
        expect(problems, where + ".sizeof()", probe.sizeof(tag), (long)
                cls.getMethod("sizeof").invoke(null));
        GroupLayout layout = (GroupLayout) cls.getMethod("layout").invoke(null);
        expect(problems, where + " alignment", probe.alignof(tag), layout.byteAlignment());
        checkMembers(
                cls,
                tag,
                in.header().requireAggregate(tag),
                "",
                0,
                in.manifest().fieldsOf(tag),
                probe,
                problems);
    }

    /** Checks the members a class should have, and that it has no others. */
    private static void checkMembers(
            Class<?> cls,
            String tag,
            CAggregate agg,
            String prefix,
            long base,
            Set<String> selection,
            ProbeResult probe,
            List<String> problems)
            throws ReflectiveOperationException {
        Set<String> expected = new TreeSet<>();
        walk(cls, tag, agg, prefix, base, selection, probe, expected, problems);
        Set<String> actual = new TreeSet<>();
        for (Method m : cls.getDeclaredMethods()) {
            if (m.getName().endsWith("$offset")) {
                actual.add(m.getName().substring(0, m.getName().length() - "$offset".length()));
            }
        }
        expect(problems, cls.getName() + " fields", expected, actual);
    }

    private static void walk(
            Class<?> cls,
            String tag,
            CAggregate agg,
            String prefix,
            long base,
            Set<String> selection,
            ProbeResult probe,
            Set<String> expected,
            List<String> problems)
            throws ReflectiveOperationException {
        for (CMember m : agg.members()) {
            if (m.bitfield()) {
                continue;
            }
            if (m.anonymous()) {
                CAggregate inner = ((Inline) m.type()).aggregate();
                if (selection == null || inner.namesAny(selection)) {
                    walk(cls, tag, inner, prefix, base, selection, probe, expected, problems); // flattened
                }
                continue;
            }
            if (selection != null && !selection.contains(m.name())) {
                continue;
            }
            expected.add(m.name());
            String path = prefix + m.name();
            String where = cls.getName() + "." + m.name();
            expect(problems, where + "$offset()", probe.offsetof(tag, path) - base, (long)
                    cls.getMethod(m.name() + "$offset").invoke(null));
            MemoryLayout layout =
                    (MemoryLayout) cls.getMethod(m.name() + "$layout").invoke(null);
            boolean flexible = m.type().resolved() instanceof Array a && a.flexible();
            expect(problems, where + " size", flexible ? 0 : probe.sizeof(tag, path), layout.byteSize());

            CType t = m.type().resolved();
            List<Long> dims = new ArrayList<>();
            String index = "";
            while (t instanceof Array a) {
                dims.add(
                        a.flexible()
                                ? 0L
                                : probe.dimension(tag, path, dims.size()).orElseThrow());
                index += "[0]";
                t = a.element().resolved();
            }
            if (!dims.isEmpty()) {
                long[] javaDims =
                        (long[]) cls.getMethod(m.name() + "$dimensions").invoke(null);
                expect(
                        problems,
                        where + "$dimensions()",
                        dims,
                        Arrays.stream(javaDims).boxed().toList());
            }
            if (t instanceof Inline(CAggregate inner)) {
                Class<?> nested = Class.forName(cls.getName() + "$" + m.name());
                long elements = dims.stream().reduce(1L, (a, b) -> a * b);
                if (elements > 0) {
                    expect(problems, nested.getName() + ".sizeof()", probe.sizeof(tag, path) / elements, (long)
                            nested.getMethod("sizeof").invoke(null));
                }
                checkMembers(nested, tag, inner, path + index + ".", probe.offsetof(tag, path), null, probe, problems);
            } else if (dims.isEmpty() && !(t instanceof CType.Tagged)) {
                // a scalar: the getter's Java type must be as wide as the C member
                Class<?> carrier = cls.getMethod(m.name(), MemorySegment.class).getReturnType();
                expect(problems, where + " getter width", probe.sizeof(tag, path), width(carrier));
            }
        }
    }

    private static long width(Class<?> c) {
        if (c == byte.class || c == boolean.class) {
            return 1;
        } else if (c == short.class || c == char.class) {
            return 2;
        } else if (c == int.class || c == float.class) {
            return 4;
        }
        return 8; // long, double, MemorySegment (an address)
    }

    private static void expect(List<String> problems, String what, Object compiler, Object java) {
        if (!compiler.equals(java)) {
            problems.add(what + ": compiler " + compiler + ", Java " + java);
        }
    }
}
