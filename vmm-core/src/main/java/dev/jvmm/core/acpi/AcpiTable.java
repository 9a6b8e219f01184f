package dev.jvmm.core.acpi;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Assembles a System Description Table: the 36-byte header of ACPI 6.5 §5.2.6 (Table 5.4) followed by the table's
 * body, little-endian, with Length and Checksum filled in so that all bytes of the table sum to zero (mod 256).
 *
 * <pre>
 * offset  0  Signature        4   e.g. "MCFG"
 *         4  Length           4   of the whole table, header included
 *         8  Revision         1
 *         9  Checksum         1   makes the byte sum 0
 *        10  OEMID            6
 *        16  OEM Table ID     8
 *        24  OEM Revision     4
 *        28  Creator ID       4
 *        32  Creator Revision 4
 * </pre>
 */
public final class AcpiTable {
    public static final int HEADER_SIZE = 36;
    static final int CHECKSUM_OFFSET = 9;

    private AcpiTable() {}

    /** The table {@code signature} of {@code revision} made by {@code oem} with {@code body} after the header. */
    public static byte[] build(String signature, int revision, AcpiOem oem, byte[] body) {
        if (signature.length() != 4 || !StandardCharsets.US_ASCII.newEncoder().canEncode(signature)) {
            throw new IllegalArgumentException("ACPI signature '" + signature + "' is not 4 ASCII characters");
        }
        if (revision < 0 || revision > 0xFF)
            throw new IllegalArgumentException("ACPI revision " + revision + " is not a byte");
        ByteBuffer b =
                ByteBuffer.allocate(Math.addExact(HEADER_SIZE, body.length)).order(ByteOrder.LITTLE_ENDIAN);
        b.put(ascii(signature, 4));
        b.putInt(b.capacity());
        b.put((byte) revision);
        b.put((byte) 0); // checksum, below
        b.put(ascii(oem.oemId(), 6));
        b.put(ascii(oem.oemTableId(), 8));
        b.putInt(oem.oemRevision());
        b.put(ascii(oem.creatorId(), 4));
        b.putInt(oem.creatorRevision());
        b.put(body);
        byte[] table = b.array();
        table[CHECKSUM_OFFSET] = (byte) -sum(table);
        return table;
    }

    /** The byte sum of a table mod 256: 0 for a table whose checksum is right. */
    public static int sum(byte[] table) {
        int s = 0;
        for (byte x : table) s += Byte.toUnsignedInt(x);
        return s & 0xFF;
    }

    private static byte[] ascii(String s, int width) {
        byte[] out = new byte[width];
        java.util.Arrays.fill(out, (byte) ' ');
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, out, 0, b.length);
        return out;
    }
}
