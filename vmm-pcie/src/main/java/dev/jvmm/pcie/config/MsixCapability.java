package dev.jvmm.pcie.config;

import dev.jvmm.pcie.msi.MsiTarget;
import dev.jvmm.pcie.spec.MsiSpec;
import dev.jvmm.pcie.spec.PciSpec;
import dev.jvmm.pcie.util.Sizes;
import java.util.Objects;
import java.util.Optional;

/**
 * The MSI-X capability, its table and its Pending Bit Array (PCIe Base 6.0 §7.7.2, §6.1.4; PCI Local Bus 3.0
 * §6.8.2).
 *
 * <p>In configuration space: Table Size (N-1) RO, Function Mask and MSI-X Enable RW (§7.7.2.2), and the
 * RO Table and PBA Offset/BIR registers (§7.7.2.3-4). The table and PBA live in memory BARs and reach this
 * class through {@link #tableRead}/{@link #tableWrite} and {@link #pbaRead}; each table entry is Message
 * Address (bits 1:0 RO 0), Upper Address, Data and Vector Control (bit 0 Mask RW, the rest RO 0), and every
 * entry starts masked (§7.7.2.8).
 *
 * <p>Masking (§6.1.4.5): while the Function Mask or an entry's Mask bit is set, a message for that vector
 * sets its PBA bit instead of being sent; when the vector becomes unmasked with its PBA bit set, the
 * message is sent with the entry's current address and data, and the PBA bit cleared. Table and PBA
 * accesses must be aligned DWORDs or QWORDs (§7.7.2); other accesses read all ones and are dropped.
 * MSI-X messages are memory writes, so nothing is sent while Bus Master Enable is clear (§7.5.1.1.3): a new
 * message is dropped, a pending one stays pending until bus mastering is enabled.
 *
 * <p>Thread safety: table, PBA and copies of the two control bits and of Bus Master Enable are guarded by
 * this object; the configuration hooks take this lock after the configuration space lock, and nothing
 * here takes the configuration space lock.
 */
public final class MsixCapability implements Capability {
    private final int tableSize;
    private final int tableBar;
    private final long tableOffset;
    private final int pbaBar;
    private final long pbaOffset;
    private final MsiTarget target;

    private final int[] table;
    private final long[] pba;
    private boolean enabled;
    private boolean functionMasked;
    private boolean busMaster;
    private volatile Runnable changeListener = () -> {};

    private ConfigSpace config;
    private int offset = -1;

    /**
     * @param tableSize   vectors, 1..2048
     * @param tableBar    BAR index holding the table
     * @param tableOffset offset of the table in that BAR, QWORD aligned
     * @param pbaBar      BAR index holding the PBA
     * @param pbaOffset   offset of the PBA in that BAR, QWORD aligned
     */
    public MsixCapability(int tableSize, int tableBar, long tableOffset, int pbaBar, long pbaOffset, MsiTarget target) {
        if (tableSize < 1 || tableSize > MsiSpec.MSIX_MAX_VECTORS) {
            throw new IllegalArgumentException("MSI-X table size " + tableSize + " out of range 1-2048");
        }
        checkLocation("table", tableBar, tableOffset);
        checkLocation("PBA", pbaBar, pbaOffset);
        this.tableSize = tableSize;
        this.tableBar = tableBar;
        this.tableOffset = tableOffset;
        this.pbaBar = pbaBar;
        this.pbaOffset = pbaOffset;
        this.target = Objects.requireNonNull(target);
        this.table = new int[tableSize * 4];
        this.pba = new long[(tableSize + 63) / 64];
        resetTable();
    }

    private static void checkLocation(String what, int bar, long offset) {
        if (bar < 0 || bar >= PciSpec.BAR_COUNT_TYPE0) {
            throw new IllegalArgumentException("MSI-X " + what + " BAR " + bar + " out of range 0-5");
        }
        if (offset < 0 || offset > 0xFFFF_FFF8L || (offset & MsiSpec.MSIX_BIR_MASK) != 0) {
            throw new IllegalArgumentException("MSI-X " + what + " offset 0x" + Long.toHexString(offset)
                    + " is not a QWORD-aligned 32-bit offset");
        }
    }

    @Override
    public int id() {
        return PciSpec.CAP_ID_MSIX;
    }

    @Override
    public int length() {
        return MsiSpec.MSIX_CAPABILITY_LENGTH;
    }

    public int offset() {
        return offset;
    }

    public int tableSize() {
        return tableSize;
    }

    public int tableBar() {
        return tableBar;
    }

    public long tableOffset() {
        return tableOffset;
    }

    /** Bytes of the table in its BAR. */
    public long tableLength() {
        return (long) tableSize * MsiSpec.MSIX_ENTRY_SIZE;
    }

    public int pbaBar() {
        return pbaBar;
    }

    public long pbaOffset() {
        return pbaOffset;
    }

    /** Bytes of the PBA in its BAR: one QWORD per 64 vectors. */
    public long pbaLength() {
        return pba.length * 8L;
    }

    @Override
    public void install(ConfigSpace config, int offset) {
        if (this.config != null) {
            throw new IllegalStateException("MSI-X capability already installed");
        }
        this.config = config;
        this.offset = offset;
        config.define(
                offset + MsiSpec.MSIX_MESSAGE_CONTROL,
                2,
                tableSize - 1,
                MsiSpec.MSIX_CONTROL_FUNCTION_MASK | MsiSpec.MSIX_CONTROL_ENABLE,
                0);
        config.defineReadOnly(offset + MsiSpec.MSIX_TABLE_OFFSET_BIR, 4, tableOffset | tableBar);
        config.defineReadOnly(offset + MsiSpec.MSIX_PBA_OFFSET_BIR, 4, pbaOffset | pbaBar);
        config.onWrite(offset + MsiSpec.MSIX_MESSAGE_CONTROL, 2, this::onControlWrite);
        config.onWrite(PciSpec.COMMAND, 2, this::onControlWrite);
    }

    /** Called after any change that could alter a vector's route (entry, mask, enable); for irqfd routes. */
    public void setChangeListener(Runnable listener) {
        this.changeListener = Objects.requireNonNull(listener);
    }

    public synchronized boolean isEnabled() {
        return enabled;
    }

    /**
     * Sends vector {@code vector}, or sets its PBA bit while it is masked. Returns false when the message is
     * dropped: MSI-X disabled, bus mastering off, vector out of range, or no requester id.
     */
    public synchronized boolean signal(int vector) {
        if (!enabled || !busMaster || vector < 0 || vector >= tableSize) {
            return false;
        }
        if (functionMasked || entryMasked(vector)) {
            pba[vector >>> 6] |= 1L << (vector & 63);
            return true;
        }
        return send(vector);
    }

    /** An MSI-X message: the entry's Message Address and Data (§7.7.2.5-7). */
    public record Message(long address, int data) {}

    /**
     * The message a signal of {@code vector} would send right now, or empty when it would be held back or dropped
     * instead (MSI-X disabled, bus mastering off, function or entry masked, vector out of range). This is what an
     * irqfd route for the vector must carry; it changes only when {@link #setChangeListener the listener} runs.
     */
    public synchronized Optional<Message> deliverableMessage(int vector) {
        if (!enabled || !busMaster || functionMasked || vector < 0 || vector >= tableSize || entryMasked(vector)) {
            return Optional.empty();
        }
        return Optional.of(new Message(messageAddress(vector), messageData(vector)));
    }

    public synchronized boolean isPending(int vector) {
        return vector >= 0 && vector < tableSize && (pba[vector >>> 6] >>> (vector & 63) & 1) != 0;
    }

    /** Withdraws a pending vector whose cause the device has seen go away (§6.1.4.5). */
    public synchronized void clearPending(int vector) {
        if (vector >= 0 && vector < tableSize) {
            pba[vector >>> 6] &= ~(1L << (vector & 63));
        }
    }

    public synchronized boolean isMasked(int vector) {
        return functionMasked || (vector >= 0 && vector < tableSize && entryMasked(vector));
    }

    public synchronized long messageAddress(int vector) {
        return Integer.toUnsignedLong(table[vector * 4 + 1]) << 32 | Integer.toUnsignedLong(table[vector * 4]);
    }

    public synchronized int messageData(int vector) {
        return table[vector * 4 + 2];
    }

    /** A read of {@code size} bytes at {@code offset} into the table. */
    public long tableRead(long offset, int size) {
        if (!validAccess(offset, size, tableLength())) {
            return Sizes.sizeMask(size);
        }
        int dword = Math.toIntExact(offset >>> 2);
        synchronized (this) {
            long low = Integer.toUnsignedLong(table[dword]);
            return size == 4 ? low : Integer.toUnsignedLong(table[dword + 1]) << 32 | low;
        }
    }

    /** A write of {@code size} bytes at {@code offset} into the table. */
    public void tableWrite(long offset, int size, long value) {
        if (!validAccess(offset, size, tableLength())) {
            return;
        }
        int dword = Math.toIntExact(offset >>> 2);
        synchronized (this) {
            storeTableDword(dword, (int) value);
            if (size == 8) {
                storeTableDword(dword + 1, (int) (value >>> 32));
            }
            sendUnmaskedPending(dword >>> 2);
        }
        changeListener.run();
    }

    /** A read of {@code size} bytes at {@code offset} into the PBA. */
    public long pbaRead(long offset, int size) {
        if (!validAccess(offset, size, pbaLength())) {
            return Sizes.sizeMask(size);
        }
        synchronized (this) {
            long qword = pba[Math.toIntExact(offset >>> 3)];
            return size == 8 ? qword : (qword >>> (8 * (offset & 4))) & 0xFFFF_FFFFL;
        }
    }

    /** The PBA is read-only; writes are dropped (§7.7.2.9). */
    public void pbaWrite(long offset, int size, long value) {
        // RO
    }

    /** Function-level reset: every entry masked with address and data 0, no pending vectors. */
    public synchronized void resetTable() {
        for (int v = 0; v < tableSize; v++) {
            table[v * 4] = 0;
            table[v * 4 + 1] = 0;
            table[v * 4 + 2] = 0;
            table[v * 4 + 3] = MsiSpec.MSIX_VECTOR_CONTROL_MASK;
        }
        java.util.Arrays.fill(pba, 0);
    }

    private static boolean validAccess(long offset, int size, long length) {
        return (size == 4 || size == 8) && offset >= 0 && offset <= length - size && (offset & (size - 1)) == 0;
    }

    private void storeTableDword(int dword, int value) {
        switch (dword & 3) {
            case 0 -> table[dword] = value & ~0x3; // Message Address bits 1:0 are reserved (§7.7.2.5)
            case 3 -> table[dword] = value & MsiSpec.MSIX_VECTOR_CONTROL_MASK; // only the Mask bit is RW
            default -> table[dword] = value;
        }
    }

    private boolean entryMasked(int vector) {
        return (table[vector * 4 + 3] & MsiSpec.MSIX_VECTOR_CONTROL_MASK) != 0;
    }

    private boolean send(int vector) {
        return target.signal(messageAddress(vector), messageData(vector));
    }

    private void sendUnmaskedPending(int vector) {
        if (enabled && busMaster && !functionMasked && !entryMasked(vector) && isPending(vector)) {
            clearPending(vector);
            send(vector);
        }
    }

    /**
     * Hook on Message Control and Command: mirror Enable, Function Mask and Bus Master Enable, then send what
     * the change released.
     */
    private void onControlWrite() {
        int control = config.getInt(offset + MsiSpec.MSIX_MESSAGE_CONTROL, 2);
        int command = config.getInt(PciSpec.COMMAND, 2);
        synchronized (this) {
            enabled = (control & MsiSpec.MSIX_CONTROL_ENABLE) != 0;
            functionMasked = (control & MsiSpec.MSIX_CONTROL_FUNCTION_MASK) != 0;
            busMaster = (command & PciSpec.COMMAND_BUS_MASTER) != 0;
            for (int word = 0; word < pba.length; word++) {
                for (long bits = pba[word]; bits != 0; bits &= bits - 1) {
                    sendUnmaskedPending(word * 64 + Long.numberOfTrailingZeros(bits));
                }
            }
        }
        changeListener.run();
    }
}
