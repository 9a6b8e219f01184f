package dev.jvmm.core.acpi;

import java.nio.charset.StandardCharsets;

/**
 * The identification fields of an ACPI table header (ACPI 6.5 §5.2.6, Table 5.4): who made the table. Fixed-width
 * ASCII fields; shorter values are padded with spaces, as firmware conventionally does.
 *
 * @param oemId           OEMID, at most 6 characters
 * @param oemTableId      OEM Table ID, at most 8 characters (matched against the FADT's by some OSes)
 * @param oemRevision     OEM Revision
 * @param creatorId       Creator ID (the vendor ID of the tool that made the table), at most 4 characters
 * @param creatorRevision Creator Revision
 */
public record AcpiOem(String oemId, String oemTableId, int oemRevision, String creatorId, int creatorRevision) {
    /** jvmm's tables. */
    public static final AcpiOem JVMM = new AcpiOem("JVMM", "JVMMVIRT", 1, "JVMM", 1);

    public AcpiOem {
        checkAscii("OEMID", oemId, 6);
        checkAscii("OEM Table ID", oemTableId, 8);
        checkAscii("Creator ID", creatorId, 4);
    }

    private static void checkAscii(String field, String value, int max) {
        if (value == null
                || value.length() > max
                || !StandardCharsets.US_ASCII.newEncoder().canEncode(value)) {
            throw new IllegalArgumentException(
                    "ACPI %s '%s' must be at most %d ASCII characters".formatted(field, value, max));
        }
    }
}
