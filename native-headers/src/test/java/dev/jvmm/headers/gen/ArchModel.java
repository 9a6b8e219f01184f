package dev.jvmm.headers.gen;

import dev.jvmm.headers.gen.CHeader.EnumConstant;
import dev.jvmm.headers.gen.CHeader.Macro;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Everything one package gets: constants in jextract's order and the struct classes in manifest order.
 *
 * <p>Order (jextract's Parser.collectDeclarations and MacroParserImpl): jextract visits declarations in parse order; a macro whose body is one
 * number token is parsed on the spot, every other macro is evaluated by clang afterwards and appended after
 * all declarations, in source order. Enum constants are declarations, so they stay in place.
 *
 * @param description which headers this package was generated from, for the file comment
 */
public record ArchModel(String javaPackage, String description, List<JConstant> constants, List<JStruct> structs) {

    public ArchModel {
        constants = List.copyOf(constants);
        structs = List.copyOf(structs);
    }

    public static ArchModel build(Arch arch, Manifest manifest, CHeader header, ProbeResult probe) {
        List<JConstant> constants = new ArrayList<>();
        for (String name : manifest.constants()) {
            long value = probe.constant(name);
            CIntType type = probe.constantType(name);
            Macro macro = header.macros().get(name);
            EnumConstant enumConstant = header.enumConstants().get(name);
            // An enum constant wins over a same-named macro (kvm.h has `#define KVM_DEV_TYPE_VFIO
            // KVM_DEV_TYPE_VFIO`): jextract's DuplicateFilter keeps the first declaration seen, and the enum
            // is a declaration while the macro needs evaluation, so it comes later.
            if (enumConstant != null) {
                String tag = enumConstant.enumTag().isEmpty() ? "<anonymous>" : enumConstant.enumTag();
                constants.add(new JConstant(
                        name, type, value, "enum " + tag + "." + name + " = " + value, enumConstant.position(), true));
            } else if (macro != null) {
                if (macro.functionLike()) {
                    throw new IllegalArgumentException(name + " is a function-like macro; jextract skips those");
                }
                constants.add(new JConstant(
                        name,
                        type,
                        value,
                        "#define " + name + " " + value,
                        macro.position(),
                        isOneNumberToken(macro.body())));
            } else {
                throw new IllegalArgumentException(
                        arch.id() + ": " + name + " is neither a macro nor an enum constant");
            }
        }
        constants.sort(Comparator.comparing((JConstant c) -> !c.inPlace()).thenComparingLong(JConstant::position));
        LayoutResolver resolver = new LayoutResolver(header, probe, manifest);
        List<JStruct> structs =
                manifest.structs().stream().map(resolver::resolve).toList();
        String description = "from " + arch.id() + " linux/kvm.h, UAPI headers " + probe.uapiVersion();
        return new ArchModel(arch.javaPackage(), description, constants, structs);
    }

    /** jextract MacroParserImpl's fast path: exactly one token that {@code Integer.decode} accepts. */
    static boolean isOneNumberToken(String body) {
        String b = body.strip();
        if (b.isEmpty() || b.contains(" ") || !Character.isDigit(b.charAt(0))) { // "-1" is two tokens
            return false;
        }
        try {
            Integer.decode(b);
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }
}
