package dev.jvmm.core.boot;

import dev.jvmm.core.fdt.FdtBuilder;
import dev.jvmm.core.memory.GuestMemory;
import java.nio.charset.StandardCharsets;

/**
 * Direct kernel boot on arm64 (Documentation/arch/arm64/booting.rst): copies the Image, the initrd and the
 * devicetree into guest RAM as {@link BootLayout} places them and returns the layout, whose
 * {@link BootLayout#entryPoint()} and {@link BootLayout#x0()} the boot vCPU starts with.
 */
public final class KernelLoader {
    /** arch/arm64/include/uapi/asm/setup.h: COMMAND_LINE_SIZE, including the terminating NUL. */
    public static final int COMMAND_LINE_SIZE = 2048;

    /** Builds the DTB once the initrd's place is known (null when there is no initrd). */
    @FunctionalInterface
    public interface DtbFactory {
        byte[] build(String cmdline, InitrdRange initrd);
    }

    private KernelLoader() {}

    /**
     * Checks a kernel command line: at most {@value #COMMAND_LINE_SIZE} - 1 bytes of UTF-8 (the kernel copies
     * /chosen/bootargs into a COMMAND_LINE_SIZE buffer and would cut it silently) and no NUL.
     */
    public static void checkCmdline(String cmdline) throws BootException {
        if (cmdline.indexOf('\0') >= 0) throw new BootException("kernel command line", "contains a NUL character");
        int bytes = cmdline.getBytes(StandardCharsets.UTF_8).length;
        if (bytes + 1 > COMMAND_LINE_SIZE) {
            throw new BootException(
                    "kernel command line",
                    "is %d bytes; arm64 allows at most %d (COMMAND_LINE_SIZE %d with the NUL)"
                            .formatted(bytes, COMMAND_LINE_SIZE - 1, COMMAND_LINE_SIZE));
        }
    }

    /**
     * Loads everything and returns where it went.
     *
     * @param ram     guest RAM
     * @param kernel  the checked Image
     * @param initrd  the initrd, or null
     * @param cmdline the kernel command line (checked with {@link #checkCmdline})
     * @param dtb     builds the DTB from the command line and the initrd's final place
     */
    public static BootLayout load(GuestMemory ram, Aarch64Image kernel, Initrd initrd, String cmdline, DtbFactory dtb)
            throws BootException {
        checkCmdline(cmdline);
        BootLayout layout = BootLayout.plan(ram.base(), ram.size(), kernel, initrd);
        byte[] blob = dtb.build(cmdline, layout.initrd());
        if (!FdtBuilder.hasHeader(blob)) {
            throw new BootException(
                    "devicetree",
                    "the DTB factory returned %d bytes without the FDT magic 0xd00dfeed".formatted(blob.length));
        }
        if (blob.length > BootLayout.DTB_MAX_SIZE) {
            throw new BootException(
                    "devicetree", "is %d bytes; booting.rst allows at most 2 MiB".formatted(blob.length));
        }
        ram.write(layout.kernelLoad(), kernel.bytes());
        if (initrd != null) initrd.copyTo(ram.slice(layout.initrd().start(), initrd.size()));
        ram.write(layout.dtbAddress(), blob);
        return layout;
    }
}
