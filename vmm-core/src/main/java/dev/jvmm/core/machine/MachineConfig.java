package dev.jvmm.core.machine;

import dev.jvmm.core.arch.aarch64.MemoryMap;
import dev.jvmm.core.boot.KernelLoader;
import dev.jvmm.core.irq.GicMsiMode;
import dev.jvmm.core.pci.PcieConfig;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Everything a machine is built from. Validated on construction, so a machine is never started from a config
 * that cannot work; messages name the option the user wrote.
 *
 * @param kernel      arm64 {@code Image} or {@code Image.gz}
 * @param initrd      an initramfs, or none
 * @param cmdline     the kernel command line (arm64 COMMAND_LINE_SIZE is 2048 bytes including the NUL)
 * @param memoryBytes guest RAM
 * @param cpus        vCPUs
 * @param gicMsi      MSI controller choice
 * @param pcie        the PCIe hierarchy (validated by its own constructor), {@link PcieConfig#NONE} for none
 */
public record MachineConfig(
        Path kernel,
        Optional<Path> initrd,
        String cmdline,
        long memoryBytes,
        int cpus,
        GicMsiMode gicMsi,
        PcieConfig pcie) {
    public static final long MIN_MEMORY = MemoryMap.MIN_RAM;
    /** RAM starts at 1 GiB and the default arm64 IPA space is 40 bits (1 TiB): keep well inside it. */
    public static final long MAX_MEMORY = 512L << 30;
    /** The vGICv3 redistributor region below the UART holds 123 frames of 128 KiB, as on QEMU's virt board. */
    public static final int MAX_CPUS = MemoryMap.MAX_VCPUS;
    /** arm64 COMMAND_LINE_SIZE less the terminating NUL. */
    public static final int MAX_CMDLINE = KernelLoader.COMMAND_LINE_SIZE - 1;

    public MachineConfig {
        if (memoryBytes < MIN_MEMORY) {
            throw new InvalidSetting(
                    InvalidSetting.Setting.MEMORY,
                    MemorySize.format(memoryBytes),
                    "is too small: at least " + MemorySize.format(MIN_MEMORY));
        }
        if (memoryBytes > MAX_MEMORY) {
            throw new InvalidSetting(
                    InvalidSetting.Setting.MEMORY,
                    MemorySize.format(memoryBytes),
                    "is too large: at most " + MemorySize.format(MAX_MEMORY));
        }
        // The memory map places RAM in 2 MiB blocks (MemoryMap.RAM_ALIGN); checked here so the user gets one line.
        if (memoryBytes % MemoryMap.RAM_ALIGN != 0) {
            throw new InvalidSetting(
                    InvalidSetting.Setting.MEMORY, MemorySize.format(memoryBytes), "must be a multiple of 2M");
        }
        if (cpus < 1 || cpus > MAX_CPUS) {
            throw new InvalidSetting(
                    InvalidSetting.Setting.CPUS, null, "must be between 1 and " + MAX_CPUS + " (got " + cpus + ")");
        }
        int cmdlineBytes = cmdline.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        if (cmdlineBytes > MAX_CMDLINE) {
            throw new InvalidSetting(
                    InvalidSetting.Setting.CMDLINE,
                    null,
                    "is %d bytes; the arm64 kernel takes at most %d".formatted(cmdlineBytes, MAX_CMDLINE));
        }
        if (cmdline.indexOf('\0') >= 0) {
            throw new InvalidSetting(InvalidSetting.Setting.CMDLINE, null, "must not contain NUL");
        }
        java.util.Objects.requireNonNull(pcie, "pcie");
    }

    /** A machine without PCIe. */
    public MachineConfig(
            Path kernel, Optional<Path> initrd, String cmdline, long memoryBytes, int cpus, GicMsiMode gicMsi) {
        this(kernel, initrd, cmdline, memoryBytes, cpus, gicMsi, PcieConfig.NONE);
    }
}
