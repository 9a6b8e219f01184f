package dev.jvmm.core.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What this host can give a guest, checked before anything is allocated so that an impossible request is one clear
 * line and status 2 instead of an OOM kill (SIGKILL, no message) once the guest touches its RAM: guest RAM is
 * mapped with MAP_NORESERVE and only becomes real memory as the guest uses it.
 *
 * <p>The memory rule follows the kernel's overcommit policy (Documentation/mm/overcommit-accounting.rst): in the
 * heuristic and always-overcommit modes (0, 1) a guest may have at most what the host could actually provide,
 * MemAvailable + SwapFree from /proc/meminfo; in strict mode (2) the kernel itself refuses beyond CommitLimit, so the
 * limit is CommitLimit - Committed_AS.
 *
 * @param memAvailable   MemAvailable, bytes
 * @param swapFree       SwapFree, bytes
 * @param commitHeadroom CommitLimit - Committed_AS in strict overcommit mode, else empty
 */
public record HostLimits(long memAvailable, long swapFree, OptionalLong commitHeadroom) {
    private static final Path MEMINFO = Path.of("/proc/meminfo");
    private static final Path OVERCOMMIT = Path.of("/proc/sys/vm/overcommit_memory");
    private static final long GiB = 1L << 30, MiB = 1L << 20;

    /** This host's limits now, or empty where /proc cannot tell (then nothing is checked). */
    public static Optional<HostLimits> current() {
        try {
            String mode =
                    Files.exists(OVERCOMMIT) ? Files.readString(OVERCOMMIT).strip() : "0";
            return parse(Files.readString(MEMINFO), mode.equals("2"));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Reads /proc/meminfo text ("MemAvailable:  123456 kB" lines); empty when MemAvailable is missing. */
    public static Optional<HostLimits> parse(String meminfo, boolean strictOvercommit) {
        OptionalLong available = field(meminfo, "MemAvailable");
        if (available.isEmpty()) return Optional.empty();
        OptionalLong commit = OptionalLong.empty();
        if (strictOvercommit) {
            OptionalLong limit = field(meminfo, "CommitLimit"), committed = field(meminfo, "Committed_AS");
            if (limit.isPresent() && committed.isPresent()) {
                commit = OptionalLong.of(Math.max(0, limit.getAsLong() - committed.getAsLong()));
            }
        }
        return Optional.of(
                new HostLimits(available.getAsLong(), field(meminfo, "SwapFree").orElse(0), commit));
    }

    private static OptionalLong field(String meminfo, String name) {
        for (String line : meminfo.split("\n")) {
            if (!line.startsWith(name + ":")) continue;
            String[] words = line.substring(name.length() + 1).strip().split("\\s+");
            try {
                long v = Long.parseLong(words[0]);
                long unit = words.length > 1 && words[1].equals("kB") ? 1024 : 1;
                return v < 0 || v > Long.MAX_VALUE / unit ? OptionalLong.empty() : OptionalLong.of(v * unit);
            } catch (NumberFormatException e) {
                return OptionalLong.empty();
            }
        }
        return OptionalLong.empty();
    }

    /** The most guest RAM this host can give now. */
    public long memoryLimit() {
        return commitHeadroom.isPresent() ? commitHeadroom.getAsLong() : memAvailable + swapFree;
    }

    /** Why {@code bytes} of guest RAM cannot be had here, or empty when they can. */
    public Optional<String> memoryProblem(long bytes) {
        if (bytes <= memoryLimit()) return Optional.empty();
        String why = commitHeadroom.isPresent()
                ? "the kernel's strict overcommit leaves %s (CommitLimit - Committed_AS)".formatted(size(memoryLimit()))
                : "it has %s available (MemAvailable %s + SwapFree %s)"
                        .formatted(size(memoryLimit()), size(memAvailable), size(swapFree));
        return Optional.of("guest memory of %s is more than this host can give: %s".formatted(size(bytes), why));
    }

    /**
     * Why {@code cpus} vCPUs cannot be had from this KVM, or empty. {@code maxVcpus} is KVM_CAP_MAX_VCPUS, falling back
     * to KVM_CAP_NR_VCPUS and then 4 where a capability is missing (api.rst §4.1, KVM_CREATE_VCPU).
     */
    public static Optional<String> vcpuProblem(int cpus, int maxVcpus, int nrVcpus) {
        int max = maxVcpus > 0 ? maxVcpus : nrVcpus > 0 ? nrVcpus : 4;
        return cpus <= max
                ? Optional.empty()
                : Optional.of("%d vCPUs asked for, but this host's KVM allows at most %d per VM (KVM_CAP_MAX_VCPUS)"
                        .formatted(cpus, max));
    }

    private static String size(long bytes) {
        if (bytes >= GiB) return "%.1f GiB".formatted(bytes / (double) GiB);
        return "%d MiB".formatted(bytes / MiB);
    }
}
