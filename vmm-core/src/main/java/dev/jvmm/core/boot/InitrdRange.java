package dev.jvmm.core.boot;

/**
 * Where the initrd lies in guest-physical memory: [start, end), as the devicetree's /chosen
 * linux,initrd-start and linux,initrd-end describe it (Documentation/devicetree/bindings/chosen.txt: end is the
 * first address after the image).
 */
public record InitrdRange(long start, long end) {
    public InitrdRange {
        if (Long.compareUnsigned(end, start) <= 0) {
            throw new IllegalArgumentException("initrd range [0x%x, 0x%x) is empty or inverted".formatted(start, end));
        }
    }

    public long size() {
        return end - start;
    }
}
