package dev.jvmm.core.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class HostLimitsTest {
    private static final String MEMINFO = """
            MemTotal:        8000000 kB
            MemFree:          500000 kB
            MemAvailable:    4194304 kB
            SwapTotal:       2097152 kB
            SwapFree:        1048576 kB
            CommitLimit:     6000000 kB
            Committed_AS:    5000000 kB
            """;

    @Test
    void availableMemoryAndSwapBoundTheGuestInHeuristicMode() {
        HostLimits h = HostLimits.parse(MEMINFO, false).orElseThrow();
        assertEquals(5L << 30, h.memoryLimit());
        assertEquals(Optional.empty(), h.memoryProblem(5L << 30));
        assertEquals(
                Optional.of("guest memory of 5.0 GiB is more than this host can give: it has 5.0 GiB available"
                        + " (MemAvailable 4.0 GiB + SwapFree 1.0 GiB)"),
                h.memoryProblem((5L << 30) + (2 << 20)));
    }

    @Test
    void strictOvercommitUsesTheCommitHeadroom() {
        HostLimits h = HostLimits.parse(MEMINFO, true).orElseThrow();
        assertEquals(OptionalLong.of(1_000_000L * 1024), h.commitHeadroom());
        assertEquals(Optional.empty(), h.memoryProblem(512L << 20));
        String p = h.memoryProblem(2L << 30).orElseThrow();
        assertTrue(p.endsWith("the kernel's strict overcommit leaves 976 MiB (CommitLimit - Committed_AS)"), p);
    }

    @Test
    void aMeminfoWithoutMemAvailableOrWithGarbageChecksNothing() {
        assertEquals(Optional.empty(), HostLimits.parse("MemTotal: 1 kB\n", false));
        assertEquals(Optional.empty(), HostLimits.parse("MemAvailable: lots kB\n", false));
        assertEquals(Optional.empty(), HostLimits.parse("MemAvailable: 99999999999999999999 kB\n", false));
        HostLimits noSwap = HostLimits.parse("MemAvailable: 1024 kB\n", false).orElseThrow();
        assertEquals(1 << 20, noSwap.memoryLimit());
    }

    @Test
    void vcpusBeyondKvmsMaximumAreRefused() {
        assertEquals(Optional.empty(), HostLimits.vcpuProblem(8, 512, 4));
        assertEquals(
                Optional.of("123 vCPUs asked for, but this host's KVM allows at most 64 per VM (KVM_CAP_MAX_VCPUS)"),
                HostLimits.vcpuProblem(123, 64, 8));
        assertTrue(HostLimits.vcpuProblem(9, 0, 8).isPresent(), "NR_VCPUS when MAX_VCPUS is missing");
        assertTrue(HostLimits.vcpuProblem(5, 0, 0).isPresent(), "4 when both are missing (api.rst)");
        assertEquals(Optional.empty(), HostLimits.vcpuProblem(4, 0, 0));
    }

    @Test
    void thisHostHasLimitsToCheck() {
        // Linux always has /proc/meminfo with MemAvailable (since 3.14).
        HostLimits h = HostLimits.current().orElseThrow();
        assertTrue(h.memoryLimit() > 0);
    }
}
