package dev.jvmm.core.acpi;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * The MCFG table: where the ECAM windows are (PCI Firmware Specification 3.3 §4.1.2, Tables 4-2 and 4-3), for an
 * OS that boots with ACPI instead of a device tree. The header is ACPI's (signature "MCFG", revision 1), then 8
 * reserved bytes, then one 16-byte allocation structure per host bridge:
 *
 * <pre>
 * offset  0  Base Address                8   ECAM address of bus 0 of the segment, even if the range starts later
 *         8  PCI Segment Group Number    2
 *        10  Start Bus Number            1
 *        11  End Bus Number              1
 *        12  Reserved                    4
 * </pre>
 *
 * @param allocations one per host bridge
 */
public record Mcfg(List<Allocation> allocations) {
    public static final String SIGNATURE = "MCFG";
    public static final int REVISION = 1;
    static final int RESERVED_BYTES = 8;
    static final int ALLOCATION_SIZE = 16;

    /**
     * One ECAM range: buses {@code startBus..endBus} of {@code segment}; bus b's configuration space is at
     * {@code baseAddress + (b << 20)} (PCIe Base 6.0 §7.2.2).
     */
    public record Allocation(long baseAddress, int segment, int startBus, int endBus) {
        public Allocation {
            if ((baseAddress & ((1L << 20) - 1)) != 0) {
                throw new IllegalArgumentException("ECAM base 0x%x is not 1 MiB aligned".formatted(baseAddress));
            }
            if (segment < 0 || segment > 0xFFFF)
                throw new IllegalArgumentException("segment " + segment + " is not 16 bits");
            if (startBus < 0 || endBus > 0xFF || startBus > endBus) {
                throw new IllegalArgumentException(
                        "bus numbers %d-%d are not within 0-255".formatted(startBus, endBus));
            }
        }
    }

    public Mcfg {
        allocations = List.copyOf(allocations);
    }

    /** The table bytes, checksummed. */
    public byte[] toBytes(AcpiOem oem) {
        ByteBuffer body = ByteBuffer.allocate(RESERVED_BYTES + allocations.size() * ALLOCATION_SIZE)
                .order(ByteOrder.LITTLE_ENDIAN);
        body.putLong(0); // reserved
        for (Allocation a : allocations) {
            body.putLong(a.baseAddress());
            body.putShort((short) a.segment());
            body.put((byte) a.startBus());
            body.put((byte) a.endBus());
            body.putInt(0); // reserved
        }
        return AcpiTable.build(SIGNATURE, REVISION, oem, body.array());
    }
}
