package dev.jvmm.pcie.config;

import dev.jvmm.pcie.spec.PciSpec;
import dev.jvmm.pcie.util.Sizes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The 4 KiB configuration space of one PCI Express function, byte-accurate, with the register attributes of
 * PCIe Base 6.0 §7.4 (Table 7-2) kept as per-byte masks.
 *
 * <ul>
 *   <li>RO / HwInit: bits in neither mask; guest writes leave them alone. Undefined registers are RO 0,
 *       which is what §7.3.3 asks of unimplemented registers ("reads returning all 0's and writes
 *       discarding the write data").</li>
 *   <li>RW: bits in the writable mask take the written value.</li>
 *   <li>RW1C: bits in the RW1C mask are cleared by writing 1 and unchanged by writing 0.</li>
 * </ul>
 *
 * <p>Two views: the guest view ({@link #read}, {@link #write}) applies the masks, accepts only the accesses
 * ECAM can turn into one configuration request, and never throws; the model view ({@link #define},
 * {@link #get}, {@link #set}) is used by headers, capabilities and devices to lay out registers and to
 * reflect hardware state (a pending bit, presence detect), and throws on programming errors.
 *
 * <p>Side effects of guest writes (a BAR moved, bus numbers changed, a vector unmasked) are attached as
 * {@linkplain #onWrite hooks} on a byte range; they run after the write is applied and again after
 * {@link #reset}, so that state mirrored elsewhere always follows the registers. A register whose value lives
 * elsewhere (a window onto device memory, such as virtio's {@code pci_cfg_data}) is refreshed by a
 * {@linkplain #onRead read hook} just before a guest read returns it.
 *
 * <p>Thread safety: every method locks this object. Hooks run with the lock held; code that keeps its own
 * lock takes it after this one, never before.
 */
public final class ConfigSpace {
    public static final int SIZE = PciSpec.CONFIG_SPACE_SIZE;

    private final byte[] bytes = new byte[SIZE];
    private final byte[] resetBytes = new byte[SIZE];
    private final byte[] writable = new byte[SIZE];
    private final byte[] rw1c = new byte[SIZE];
    private final List<Hook> hooks = new ArrayList<>();
    private final List<Hook> readHooks = new ArrayList<>();

    private record Hook(int start, int end, Runnable action) {
        boolean overlaps(int offset, int size) {
            return offset < end && start < offset + size;
        }
    }

    /**
     * Whether a guest access can be one configuration request: 1, 2 or 4 bytes, naturally aligned, inside
     * the 4 KiB. A naturally aligned access never crosses a DWORD, which ECAM need not translate
     * (PCIe Base 6.0 §7.2.2); unaligned accesses inside a DWORD are also rejected, since an aarch64 guest
     * cannot issue them to device memory and Linux never does.
     */
    public static boolean isValidAccess(int offset, int size) {
        return (size == 1 || size == 2 || size == 4)
                && offset >= 0
                && offset <= SIZE - size
                && (offset & (size - 1)) == 0;
    }

    // --- guest view -------------------------------------------------------------------------------

    /** A guest read: the register value, or all ones for an invalid access (see {@link #isValidAccess}). */
    public synchronized int read(int offset, int size) {
        if (!isValidAccess(offset, size)) {
            return (int) Sizes.sizeMask(Math.min(size, 4));
        }
        for (Hook hook : List.copyOf(readHooks)) {
            if (hook.overlaps(offset, size)) {
                hook.action().run();
            }
        }
        return load(offset, size);
    }

    /** A guest write through the masks; an invalid access is dropped. Hooks on the touched bytes run after. */
    public synchronized void write(int offset, int size, int value) {
        if (!isValidAccess(offset, size)) {
            return;
        }
        for (int i = 0; i < size; i++) {
            int v = (value >>> (8 * i)) & 0xFF;
            int at = offset + i;
            int old = Byte.toUnsignedInt(bytes[at]);
            int w = Byte.toUnsignedInt(writable[at]);
            int c = Byte.toUnsignedInt(rw1c[at]);
            int kept = old & ~(w | c);
            int written = v & w;
            int stillSet = old & c & ~v;
            bytes[at] = (byte) (kept | written | stillSet);
        }
        for (Hook hook : List.copyOf(hooks)) {
            if (hook.overlaps(offset, size)) {
                hook.action().run();
            }
        }
    }

    // --- model view -------------------------------------------------------------------------------

    /**
     * Declares a register: its power-on value and which bits are RW and RW1C. The value becomes the current
     * value too. Bits outside both masks are RO.
     */
    public synchronized void define(int offset, int size, long initial, long writableMask, long rw1cMask) {
        checkRegister(offset, size);
        if ((writableMask & rw1cMask) != 0) {
            throw new IllegalArgumentException("register at 0x" + Integer.toHexString(offset)
                    + ": bits both RW and RW1C: 0x" + Long.toHexString(writableMask & rw1cMask));
        }
        for (int i = 0; i < size; i++) {
            int at = offset + i;
            bytes[at] = resetBytes[at] = (byte) (initial >>> (8 * i));
            writable[at] = (byte) (writableMask >>> (8 * i));
            rw1c[at] = (byte) (rw1cMask >>> (8 * i));
        }
    }

    /** Declares a read-only register. */
    public void defineReadOnly(int offset, int size, long value) {
        define(offset, size, value, 0, 0);
    }

    /** The current value of 1, 2, 4 or 8 bytes at any offset inside the space. */
    public synchronized long get(int offset, int size) {
        checkRegister(offset, size);
        long v = 0;
        for (int i = size - 1; i >= 0; i--) {
            v = v << 8 | Byte.toUnsignedInt(bytes[offset + i]);
        }
        return v;
    }

    /** Shorthand for a register of at most 4 bytes. */
    public int getInt(int offset, int size) {
        return (int) get(offset, Math.min(size, 4));
    }

    /** Sets the current value, bypassing masks and hooks: hardware state changing on its own. */
    public synchronized void set(int offset, int size, long value) {
        checkRegister(offset, size);
        for (int i = 0; i < size; i++) {
            bytes[offset + i] = (byte) (value >>> (8 * i));
        }
    }

    /** Sets or clears {@code bits} of the register, bypassing masks and hooks. */
    public synchronized void setBits(int offset, int size, long bits, boolean on) {
        long v = get(offset, size);
        set(offset, size, on ? v | bits : v & ~bits);
    }

    /** The RW bits of a register (0 = read-only or RW1C). */
    public synchronized long writableMask(int offset, int size) {
        return gather(writable, offset, size);
    }

    /** The RW1C bits of a register. */
    public synchronized long rw1cMask(int offset, int size) {
        return gather(rw1c, offset, size);
    }

    /** Runs {@code action} after every guest write that touches {@code [offset, offset + length)}, and after reset. */
    public synchronized void onWrite(int offset, int length, Runnable action) {
        checkModelAccess(offset, length);
        hooks.add(new Hook(offset, offset + length, action));
    }

    /**
     * Runs {@code action} before every valid guest read that touches {@code [offset, offset + length)}, with this
     * space's lock held, so that it can refresh the registers with {@link #set}; the read then returns the
     * refreshed bytes. Model-view reads ({@link #get}, {@link #snapshot}) and invalid accesses do not run it.
     */
    public synchronized void onRead(int offset, int length, Runnable action) {
        checkModelAccess(offset, length);
        readHooks.add(new Hook(offset, offset + length, action));
    }

    /** Restores every register to its defined power-on value, then runs all hooks. */
    public synchronized void reset() {
        System.arraycopy(resetBytes, 0, bytes, 0, SIZE);
        for (Hook hook : List.copyOf(hooks)) {
            hook.action().run();
        }
    }

    /** A copy of the current bytes (debugging, tests, save/restore). */
    public synchronized byte[] snapshot() {
        return Arrays.copyOf(bytes, SIZE);
    }

    private int load(int offset, int size) {
        int v = 0;
        for (int i = size - 1; i >= 0; i--) {
            v = v << 8 | Byte.toUnsignedInt(bytes[offset + i]);
        }
        return v;
    }

    private static long gather(byte[] mask, int offset, int size) {
        checkRegister(offset, size);
        long v = 0;
        for (int i = size - 1; i >= 0; i--) {
            v = v << 8 | Byte.toUnsignedInt(mask[offset + i]);
        }
        return v;
    }

    private static void checkRegister(int offset, int size) {
        if (size > 8) {
            throw new IllegalArgumentException("a register is at most 8 bytes, not " + size);
        }
        checkModelAccess(offset, size);
    }

    private static void checkModelAccess(int offset, int size) {
        if (size < 1 || offset < 0 || offset > SIZE - size) {
            throw new IllegalArgumentException("config space access of " + size + " bytes at 0x"
                    + Integer.toHexString(offset) + " is outside the 4 KiB space");
        }
    }
}
