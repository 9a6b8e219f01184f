package dev.jvmm.core.virtio.blk;

/**
 * Values of the virtio 1.2 block device (§5.2): feature bits (bit numbers, as the specification writes them),
 * request types and statuses (§5.2.6), and the offsets of {@code struct virtio_blk_config} (§5.2.4).
 */
public final class VirtioBlkSpec {
    private VirtioBlkSpec() {}

    /** The protocol's unit: sector numbers and capacity count 512-byte sectors whatever the block size. */
    public static final int SECTOR_SIZE = 512;

    public static final int SECTOR_SHIFT = 9;

    // --- Feature bits (§5.2.3) ---------------------------------------------------------------------------
    public static final int F_SIZE_MAX = 1;
    public static final int F_SEG_MAX = 2;
    public static final int F_GEOMETRY = 4;
    public static final int F_RO = 5;
    public static final int F_BLK_SIZE = 6;
    public static final int F_FLUSH = 9;
    public static final int F_TOPOLOGY = 10;
    public static final int F_CONFIG_WCE = 11;
    public static final int F_MQ = 12;
    public static final int F_DISCARD = 13;
    public static final int F_WRITE_ZEROES = 14;
    public static final int F_LIFETIME = 15;
    public static final int F_SECURE_ERASE = 16;
    public static final int F_ZONED = 17;

    // --- Request types and statuses (§5.2.6) -------------------------------------------------------------
    public static final int T_IN = 0;
    public static final int T_OUT = 1;
    public static final int T_FLUSH = 4;
    public static final int T_GET_ID = 8;
    public static final int T_GET_LIFETIME = 10;
    public static final int T_DISCARD = 11;
    public static final int T_WRITE_ZEROES = 13;
    public static final int T_SECURE_ERASE = 14;

    public static final int S_OK = 0;
    public static final int S_IOERR = 1;
    public static final int S_UNSUPP = 2;

    /** struct virtio_blk_req's header: le32 type, le32 reserved, le64 sector. */
    public static final int REQUEST_HEADER_SIZE = 16;
    /** struct virtio_blk_discard_write_zeroes: le64 sector, le32 num_sectors, le32 flags. */
    public static final int DISCARD_SEGMENT_SIZE = 16;
    /** The only flag of a discard / write zeroes segment; every other bit is unknown. */
    public static final int WRITE_ZEROES_FLAG_UNMAP = 1;
    /** VIRTIO_BLK_ID_BYTES: the device id string of GET_ID, NUL-padded, no terminator at full length. */
    public static final int ID_BYTES = 20;

    // --- struct virtio_blk_config (§5.2.4) ---------------------------------------------------------------
    public static final int CFG_CAPACITY = 0; // le64
    public static final int CFG_SIZE_MAX = 8; // le32
    public static final int CFG_SEG_MAX = 12; // le32
    public static final int CFG_GEOMETRY = 16; // le16 cylinders, u8 heads, u8 sectors
    public static final int CFG_BLK_SIZE = 20; // le32
    public static final int CFG_TOPOLOGY = 24; // 8 bytes
    public static final int CFG_WRITEBACK = 32; // u8
    public static final int CFG_NUM_QUEUES = 34; // le16
    public static final int CFG_MAX_DISCARD_SECTORS = 36; // le32
    public static final int CFG_MAX_DISCARD_SEG = 40; // le32
    public static final int CFG_DISCARD_SECTOR_ALIGNMENT = 44; // le32
    public static final int CFG_MAX_WRITE_ZEROES_SECTORS = 48; // le32
    public static final int CFG_MAX_WRITE_ZEROES_SEG = 52; // le32
    public static final int CFG_WRITE_ZEROES_MAY_UNMAP = 56; // u8, then unused1[3]
    /** Through {@code unused1}: every field of the features jvmm offers (secure erase and zoned come after). */
    public static final int CONFIG_SIZE = 60;
}
