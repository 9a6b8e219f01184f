package dev.jvmm.headers.gen;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The {@code common} package: declarations every architecture has identically, so arch-neutral code can use
 * one name. A constant is common when name, Java type and value agree everywhere; a struct when its resolved
 * class (layout, paddings, names, javadoc) is equal everywhere and every struct it embeds by value is common
 * too. Everything in the shared manifest must end up here; otherwise generation fails and says why.
 */
final class CommonIntersection {

    private CommonIntersection() {}

    /** {@code models} in {@link Arch} order; the first one's declaration order is kept. */
    static ArchModel of(Map<Arch, ArchModel> models, Manifest shared) {
        List<ArchModel> all = List.copyOf(models.values());
        ArchModel first = all.getFirst();
        List<JConstant> constants = new ArrayList<>();
        for (JConstant c : first.constants()) {
            if (all.stream().allMatch(m -> m.constants().stream().anyMatch(c::sameAs))) {
                constants.add(c);
            }
        }
        Map<String, JStruct> structs = new LinkedHashMap<>();
        for (JStruct s : first.structs()) {
            if (all.stream().allMatch(m -> m.structs().contains(s))) {
                structs.put(s.layoutName(), s);
            }
        }
        boolean changed = true;
        while (changed) { // drop structs that embed a non-common struct, until nothing changes
            changed = structs.values().removeIf(s -> !structs.keySet().containsAll(s.dependencies()));
        }
        List<String> problems = new ArrayList<>();
        for (String name : shared.constants()) {
            if (constants.stream().noneMatch(c -> c.name().equals(name))) {
                problems.add("constant " + name + ": "
                        + describe(
                                models,
                                m -> m.constants().stream()
                                        .filter(c -> c.name().equals(name))
                                        .findFirst()
                                        .map(c -> c.cType().cName() + " " + c.value())
                                        .orElse("absent")));
            }
        }
        for (String tag : shared.structs()) {
            if (!structs.containsKey(tag)) {
                problems.add("struct " + tag + ": "
                        + describe(
                                models,
                                m -> m.structs().stream()
                                        .filter(s -> s.layoutName().equals(tag))
                                        .findFirst()
                                        .map(s -> "embeds " + s.dependencies() + ", "
                                                + s.elems().size() + " layout elements")
                                        .orElse("absent")));
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalStateException("kvm.manifest lists declarations that differ between architectures;"
                    + " move them to the kvm.<arch>.manifest files (or narrow them with #@ fields):\n  "
                    + String.join("\n  ", problems));
        }
        String description = models.entrySet().stream()
                .map(e -> e.getKey().id() + " (" + e.getValue().description().replaceFirst(".*UAPI headers ", "UAPI ")
                        + ")")
                .collect(Collectors.joining(" and ", "for the declarations identical in ", " linux/kvm.h"));
        return new ArchModel(Arch.COMMON_PACKAGE, description, constants, List.copyOf(structs.values()));
    }

    private static String describe(Map<Arch, ArchModel> models, Function<ArchModel, String> what) {
        return models.entrySet().stream()
                .map(e -> e.getKey().id() + "=" + Objects.toString(what.apply(e.getValue())))
                .collect(Collectors.joining(", "));
    }
}
