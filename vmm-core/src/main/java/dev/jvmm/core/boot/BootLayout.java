package dev.jvmm.core.boot;

import dev.jvmm.pcie.util.Sizes;

/**
 * Where the kernel, the initrd and the devicetree go in guest RAM, and how the boot CPU starts
 * (Documentation/arch/arm64/booting.rst):
 * <ul>
 *   <li>§4: the Image is placed text_offset bytes above a 2 MiB-aligned base, here the lowest one in RAM (which
 *       also satisfies flags bit 3 = 0, "as close as possible to the base of DRAM"); image_size bytes from the
 *       load address (BSS included) stay free;</li>
 *   <li>§4 (initrd): after the kernel's footprint, 2 MiB-aligned (hence page-aligned for 4K/16K/64K kernels),
 *       and, as §4 requires, inside a 1 GiB-aligned window of at most 32 GiB that also covers the kernel;</li>
 *   <li>§2: the DTB on an 8-byte boundary, at most 2 MiB, alone in a 2 MiB-aligned block (the kernel maps it
 *       with blocks of up to 2 MiB), after the initrd (or the kernel when there is none);</li>
 *   <li>§4: the primary CPU enters at the first byte of the Image with x0 = the DTB's physical address
 *       (x1-x3 = 0). Secondary CPUs stay off until PSCI CPU_ON.</li>
 * </ul>
 *
 * @param kernelBase 2 MiB-aligned base the Image is placed above
 * @param kernelLoad where the Image's first byte goes (kernelBase + text_offset)
 * @param kernelEnd  end of the kernel's footprint (load + image_size), exclusive
 * @param initrd     the initrd's range, or null when there is none
 * @param dtbAddress where the DTB goes; {@link #DTB_MAX_SIZE} bytes are reserved there
 */
public record BootLayout(long kernelBase, long kernelLoad, long kernelEnd, InitrdRange initrd, long dtbAddress) {
    /** booting.rst §2: "must not exceed 2 megabytes in size". */
    public static final long DTB_MAX_SIZE = 2L << 20;

    static final long KERNEL_BASE_ALIGN = 2L << 20;
    static final long INITRD_ALIGN = 2L << 20;
    static final long INITRD_WINDOW_ALIGN = 1L << 30;
    static final long INITRD_WINDOW_SIZE = 32L << 30;

    /** PC of the boot vCPU. */
    public long entryPoint() {
        return kernelLoad;
    }

    /** x0 of the boot vCPU: the DTB's guest-physical address. */
    public long x0() {
        return dtbAddress;
    }

    /**
     * Lays out a boot in RAM [ramBase, ramBase + ramSize).
     *
     * @param initrd the initrd or null
     * @throws BootException naming the kernel or initrd file when it does not fit
     */
    public static BootLayout plan(long ramBase, long ramSize, Aarch64Image kernel, Initrd initrd) throws BootException {
        long ramEnd = ramBase + ramSize;
        long base = Sizes.alignUp(ramBase, KERNEL_BASE_ALIGN);
        long load = base + kernel.textOffset();
        long end = load + kernel.footprint();
        if (Long.compareUnsigned(kernel.textOffset(), ramSize) >= 0
                || Long.compareUnsigned(kernel.footprint(), ramSize) > 0
                || Long.compareUnsigned(end, ramEnd) > 0
                || Long.compareUnsigned(base, ramEnd) >= 0) {
            throw new BootException(
                    kernel.name(),
                    "kernel needs 0x%x bytes at 0x%x (text_offset 0x%x, image_size 0x%x) but RAM is [0x%x, 0x%x)"
                            .formatted(
                                    kernel.footprint(),
                                    load,
                                    kernel.textOffset(),
                                    kernel.imageSize(),
                                    ramBase,
                                    ramEnd));
        }
        InitrdRange initrdRange = null;
        long next = end;
        if (initrd != null) {
            long start = Sizes.alignUp(end, INITRD_ALIGN);
            long initrdEnd = start + initrd.size();
            if (Long.compareUnsigned(initrd.size(), ramSize) > 0 || Long.compareUnsigned(initrdEnd, ramEnd) > 0) {
                throw new BootException(
                        initrd.name(),
                        "initrd of %d bytes does not fit in RAM after the kernel (0x%x to 0x%x; RAM ends at 0x%x)"
                                .formatted(initrd.size(), start, initrdEnd, ramEnd));
            }
            long window = Sizes.alignDown(base, INITRD_WINDOW_ALIGN);
            if (initrdEnd - window > INITRD_WINDOW_SIZE) {
                throw new BootException(
                        initrd.name(),
                        "initrd of %d bytes ends 0x%x bytes above the kernel's 1 GiB-aligned window; booting.rst allows 32 GiB"
                                .formatted(initrd.size(), initrdEnd - window));
            }
            initrdRange = new InitrdRange(start, initrdEnd);
            next = initrdEnd;
        }
        long dtb = Sizes.alignUp(next, KERNEL_BASE_ALIGN);
        if (Long.compareUnsigned(dtb, ramEnd) >= 0 || Long.compareUnsigned(DTB_MAX_SIZE, ramEnd - dtb) > 0) {
            String who = initrd != null ? initrd.name() : kernel.name();
            throw new BootException(
                    who,
                    "no room left for the 2 MiB devicetree block: kernel%s end at 0x%x, RAM ends at 0x%x"
                            .formatted(initrd != null ? " and initrd" : "", next, ramEnd));
        }
        return new BootLayout(base, load, end, initrdRange, dtb);
    }
}
