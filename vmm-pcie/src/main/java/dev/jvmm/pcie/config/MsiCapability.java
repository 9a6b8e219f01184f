package dev.jvmm.pcie.config;

import dev.jvmm.pcie.msi.MsiTarget;
import dev.jvmm.pcie.spec.MsiSpec;
import dev.jvmm.pcie.spec.PciSpec;
import dev.jvmm.pcie.util.Sizes;
import java.util.Objects;

/**
 * The MSI capability (PCIe Base 6.0 §7.7.1) with a 64-bit message address and, optionally, per-vector
 * masking. All state lives in configuration space:
 *
 * <ul>
 *   <li>Message Control: Enable and Multiple Message Enable RW, Multiple Message Capable, 64-bit and
 *       Per-Vector Masking Capable RO (§7.7.1.2);</li>
 *   <li>Message Address bits 31:2 RW, bits 1:0 RO 0 (§7.7.1.3); Upper Address RW (§7.7.1.4);
 *       Message Data bits 15:0 RW, Extended Message Data not implemented (§7.7.1.5-6);</li>
 *   <li>Mask Bits RW for implemented vectors, Pending Bits RO, set by the function (§7.7.1.7-8).</li>
 * </ul>
 *
 * <p>Vector {@code v} of {@code 2^MME} allocated vectors is sent with the low MME bits of the data replaced by
 * {@code v} (§6.1.4.1). A masked vector is latched in its Pending bit and sent when software unmasks it
 * (§6.1.4.5). MSI is a memory write, so nothing is sent while Bus Master Enable is clear (§7.5.1.1.3):
 * a new message is dropped, a pending one stays pending until bus mastering is enabled. Messages are
 * serialised by the configuration space lock, which the hooks that see an unmask already hold.
 */
public final class MsiCapability implements Capability {
    private final int vectors;
    private final boolean perVectorMasking;
    private final MsiTarget target;
    private ConfigSpace config;
    private int offset = -1;

    /**
     * @param vectors          requested vectors: 1, 2, 4, 8, 16 or 32
     * @param perVectorMasking whether Mask and Pending Bits exist
     * @param target           where messages go
     */
    public MsiCapability(int vectors, boolean perVectorMasking, MsiTarget target) {
        if (vectors < 1 || vectors > MsiSpec.MSI_MAX_VECTORS || !Sizes.isPowerOfTwo(vectors)) {
            throw new IllegalArgumentException("MSI vectors " + vectors + " is not a power of two in 1-32");
        }
        this.vectors = vectors;
        this.perVectorMasking = perVectorMasking;
        this.target = Objects.requireNonNull(target);
    }

    @Override
    public int id() {
        return PciSpec.CAP_ID_MSI;
    }

    /** 18h with per-vector masking, else 0Eh (the chain rounds up to a DWORD). */
    @Override
    public int length() {
        return perVectorMasking ? MsiSpec.MSI_PENDING_BITS_64 + 4 : MsiSpec.MSI_MESSAGE_DATA_64 + 2;
    }

    public int offset() {
        return offset;
    }

    public int vectors() {
        return vectors;
    }

    @Override
    public void install(ConfigSpace config, int offset) {
        if (this.config != null) {
            throw new IllegalStateException("MSI capability already installed");
        }
        this.config = config;
        this.offset = offset;
        int mmc = Integer.numberOfTrailingZeros(vectors);
        int control = mmc << MsiSpec.MSI_CONTROL_MMC_SHIFT
                | MsiSpec.MSI_CONTROL_64BIT
                | (perVectorMasking ? MsiSpec.MSI_CONTROL_PER_VECTOR_MASKING : 0);
        config.define(
                offset + MsiSpec.MSI_MESSAGE_CONTROL,
                2,
                control,
                MsiSpec.MSI_CONTROL_ENABLE | MsiSpec.MSI_CONTROL_MME_MASK,
                0);
        config.define(offset + MsiSpec.MSI_MESSAGE_ADDRESS, 4, 0, 0xFFFF_FFFCL, 0);
        config.define(offset + MsiSpec.MSI_MESSAGE_UPPER_ADDRESS, 4, 0, 0xFFFF_FFFFL, 0);
        config.define(offset + MsiSpec.MSI_MESSAGE_DATA_64, 2, 0, 0xFFFF, 0);
        if (perVectorMasking) {
            long implemented = vectors == 32 ? 0xFFFF_FFFFL : (1L << vectors) - 1;
            config.define(offset + MsiSpec.MSI_MASK_BITS_64, 4, 0, implemented, 0);
            config.defineReadOnly(offset + MsiSpec.MSI_PENDING_BITS_64, 4, 0);
            config.onWrite(offset + MsiSpec.MSI_MASK_BITS_64, 4, this::sendUnmaskedPending);
            config.onWrite(PciSpec.COMMAND, 2, this::sendUnmaskedPending);
        }
    }

    public boolean isEnabled() {
        return (control() & MsiSpec.MSI_CONTROL_ENABLE) != 0;
    }

    /** Vectors software allocated: 2^MME, capped at the vectors requested (a larger MME is a guest error). */
    public int allocatedVectors() {
        int mme = (control() & MsiSpec.MSI_CONTROL_MME_MASK) >>> MsiSpec.MSI_CONTROL_MME_SHIFT;
        return Math.min(1 << Math.min(mme, 5), vectors);
    }

    /**
     * Sends vector {@code vector}, or latches it in its Pending bit while masked. Returns false when the
     * message is dropped: MSI disabled, bus mastering off, the vector not allocated, or no requester id.
     */
    public boolean signal(int vector) {
        requireInstalled();
        synchronized (config) {
            if (!isEnabled() || !busMasterEnabled() || vector < 0 || vector >= allocatedVectors()) {
                return false;
            }
            if (isMasked(vector)) {
                config.setBits(offset + MsiSpec.MSI_PENDING_BITS_64, 4, 1L << vector, true);
                return true;
            }
            return send(vector);
        }
    }

    public boolean isMasked(int vector) {
        requireInstalled();
        return perVectorMasking
                && vector >= 0
                && vector < vectors
                && (config.get(offset + MsiSpec.MSI_MASK_BITS_64, 4) >>> vector & 1) != 0;
    }

    /** The Pending Bits register; 0 without per-vector masking. */
    public int pendingBits() {
        requireInstalled();
        return perVectorMasking ? config.getInt(offset + MsiSpec.MSI_PENDING_BITS_64, 4) : 0;
    }

    /** Withdraws a pending vector whose cause the device has seen go away (§6.1.4.5). */
    public void clearPending(int vector) {
        requireInstalled();
        if (perVectorMasking && vector >= 0 && vector < vectors) {
            config.setBits(offset + MsiSpec.MSI_PENDING_BITS_64, 4, 1L << vector, false);
        }
    }

    public long messageAddress() {
        requireInstalled();
        return config.get(offset + MsiSpec.MSI_MESSAGE_ADDRESS, 8);
    }

    public int messageData() {
        requireInstalled();
        return config.getInt(offset + MsiSpec.MSI_MESSAGE_DATA_64, 2);
    }

    private boolean busMasterEnabled() {
        return (config.getInt(PciSpec.COMMAND, 2) & PciSpec.COMMAND_BUS_MASTER) != 0;
    }

    private int control() {
        requireInstalled();
        return config.getInt(offset + MsiSpec.MSI_MESSAGE_CONTROL, 2);
    }

    private boolean send(int vector) {
        int allocated = allocatedVectors();
        int data = (messageData() & ~(allocated - 1)) | vector;
        return target.signal(messageAddress(), data);
    }

    /**
     * Hook on Mask Bits and Command: a pending vector that is no longer masked is sent now, if bus mastering
     * allows, and its Pending bit cleared.
     */
    private void sendUnmaskedPending() {
        int pending = pendingBits();
        if (pending == 0 || !isEnabled() || !busMasterEnabled()) {
            return;
        }
        for (int v = 0; v < vectors; v++) {
            if ((pending >>> v & 1) != 0 && !isMasked(v)) {
                clearPending(v);
                if (v < allocatedVectors()) {
                    send(v);
                }
            }
        }
    }

    private void requireInstalled() {
        if (config == null) {
            throw new IllegalStateException("MSI capability not installed");
        }
    }
}
