package dev.jvmm.core.fdt;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class FdtBuilderTest {

    private static FdtBuilder sample() {
        FdtBuilder f = new FdtBuilder();
        f.reserveMemory(0x4800_0000L, 0x10_0000);
        f.beginNode("");
        f.property("#address-cells", 2);
        f.property("#size-cells", 2);
        f.propertyString("compatible", "linux,dummy-virt");
        f.beginNode("memory@40000000");
        f.propertyString("device_type", "memory");
        f.propertyU64s("reg", 0x4000_0000L, 0x8000_0000L);
        f.endNode();
        f.beginNode("thing");
        f.propertyStrings("compatible", "vendor,one", "vendor,two");
        f.propertyBytes("blob", new byte[] {1, 2, 3});
        f.propertyEmpty("empty-flag");
        int ph = f.allocatePhandle();
        f.phandle(ph);
        f.endNode();
        f.beginNode("user");
        f.property("ref", 1);
        f.endNode();
        f.endNode();
        return f;
    }

    /** Devicetree Specification v0.4 §5.2: header fields and block placement. */
    @Test
    void headerFollowsSection5_2() {
        byte[] blob = sample().finish();
        ByteBuffer b = ByteBuffer.wrap(blob); // big-endian by default, as §5.1 requires
        assertEquals(0xd00dfeed, b.getInt(0), "magic");
        assertEquals(blob.length, b.getInt(4), "totalsize");
        int offStruct = b.getInt(8), offStrings = b.getInt(12), offRsv = b.getInt(16);
        assertEquals(17, b.getInt(20), "version");
        assertEquals(16, b.getInt(24), "last_comp_version");
        assertEquals(0, b.getInt(28), "boot_cpuid_phys");
        int sizeStrings = b.getInt(32), sizeStruct = b.getInt(36);
        assertEquals(0, offRsv % 8, "§5.3: reservation block 8-byte aligned");
        assertEquals(0, offStruct % 4, "§5.4: structure block 4-byte aligned");
        assertTrue(offRsv >= 40 && offStruct >= offRsv + 32, "one entry + terminator before the structure block");
        assertEquals(0x4800_0000L, b.getLong(offRsv));
        assertEquals(0x10_0000L, b.getLong(offRsv + 8));
        assertEquals(0L, b.getLong(offRsv + 16), "terminator address");
        assertEquals(0L, b.getLong(offRsv + 24), "terminator size");
        assertEquals(offStruct + sizeStruct, offStrings);
        assertEquals(offStrings + sizeStrings, blob.length);
        assertEquals(9, b.getInt(offStruct + sizeStruct - 4), "structure block ends with FDT_END");
        assertEquals(1, b.getInt(offStruct), "structure block starts with FDT_BEGIN_NODE");
    }

    /** §5.4 / §5.5 by hand: root with one u32 property, every byte spelled out from the spec. */
    @Test
    void smallestTreeByteForByte() {
        byte[] blob = new FdtBuilder()
                .beginNode("")
                .property("a", 0x11223344)
                .endNode()
                .finish();
        String expectedStruct = "00000001" + "00000000" // FDT_BEGIN_NODE, name "" + NUL padded to 4
                + "00000003" + "00000004" + "00000000" + "11223344" // FDT_PROP len 4, nameoff 0, value
                + "00000002" // FDT_END_NODE
                + "00000009"; // FDT_END
        ByteBuffer b = ByteBuffer.wrap(blob);
        int offStruct = b.getInt(8), sizeStruct = b.getInt(36), offStrings = b.getInt(12);
        assertEquals(expectedStruct, HexFormat.of().formatHex(blob, offStruct, offStruct + sizeStruct));
        assertEquals("6100", HexFormat.of().formatHex(blob, offStrings, blob.length), "strings block: \"a\\0\"");
        assertEquals(40 + 16 + expectedStruct.length() / 2 + 2, blob.length);
    }

    @Test
    void propertyNamesAreStoredOnceInTheStringsBlock() {
        byte[] blob = sample().finish();
        ByteBuffer b = ByteBuffer.wrap(blob);
        String strings = new String(blob, b.getInt(12), b.getInt(32), StandardCharsets.US_ASCII);
        assertEquals(1, countOccurrences(strings, "compatible\0"), strings);
        assertEquals(1, countOccurrences(strings, "reg\0"), strings);
    }

    @Test
    void decompilesWithDtcToTheExpectedSource() throws Exception {
        Dtc.Result r = Dtc.decompile(sample().finish());
        String dts = r.stdout();
        assertEquals("", r.stderr(), "dtc warnings");
        assertTrue(dts.contains("/memreserve/\t0x0000000048000000 0x0000000000100000;"), dts);
        assertTrue(dts.contains("#address-cells = <0x02>;"), dts);
        assertTrue(dts.contains("compatible = \"linux,dummy-virt\";"), dts);
        assertTrue(dts.contains("memory@40000000 {"), dts);
        assertTrue(dts.contains("device_type = \"memory\";"), dts);
        assertTrue(dts.contains("reg = <0x00 0x40000000 0x00 0x80000000>;"), dts);
        assertTrue(dts.contains("compatible = \"vendor,one\\0vendor,two\";"), dts);
        assertTrue(dts.contains("blob = [01 02 03];"), dts);
        assertTrue(dts.contains("empty-flag;"), dts);
        assertTrue(dts.contains("phandle = <0x01>;"), dts);
    }

    /** The blob survives dtb -> dts -> dtb through dtc unchanged, byte for byte. */
    @Test
    void roundTripsThroughDtcByteForByte() throws Exception {
        byte[] ours = sample().finish();
        byte[] again = Dtc.compile(Dtc.decompile(ours).stdout());
        assertArrayEquals(
                ours,
                again,
                () -> "ours:\n" + HexFormat.of().formatHex(ours) + "\ndtc:\n"
                        + HexFormat.of().formatHex(again));
    }

    @Test
    void nopTokensAreSkippedByReaders() throws Exception {
        FdtBuilder f = new FdtBuilder()
                .beginNode("")
                .nop()
                .property("x", 1)
                .beginNode("c")
                .nop()
                .endNode()
                .nop()
                .endNode();
        byte[] withNops = f.finish();
        byte[] plain = new FdtBuilder()
                .beginNode("")
                .property("x", 1)
                .beginNode("c")
                .endNode()
                .endNode()
                .finish();
        assertEquals(plain.length + 12, withNops.length);
        assertEquals(Dtc.decompile(plain).stdout(), Dtc.decompile(withNops).stdout());
    }

    @Test
    void bootCpuidPhysIsInTheHeader() {
        byte[] blob =
                new FdtBuilder().bootCpuidPhys(0x101).beginNode("").endNode().finish();
        assertEquals(0x101, ByteBuffer.wrap(blob).getInt(28));
    }

    @Test
    void u64AndUtf8Encoding() throws Exception {
        byte[] blob = new FdtBuilder()
                .beginNode("")
                .propertyU64s("big", 0x0123_4567_89ab_cdefL, -1L)
                .propertyString("text", "caf\u00e9")
                .endNode()
                .finish();
        String dts = Dtc.decompile(blob).stdout();
        assertTrue(dts.contains("big = <0x1234567 0x89abcdef 0xffffffff 0xffffffff>;"), dts);
        int offStruct = ByteBuffer.wrap(blob).getInt(8);
        byte[] want = "caf\u00e9\0".getBytes(StandardCharsets.UTF_8);
        assertTrue(indexOf(blob, want) > offStruct, "UTF-8 string in the structure block");
    }

    @Test
    void misuseIsAnIllegalStateException() {
        assertThrows(IllegalStateException.class, () -> new FdtBuilder().property("a", 1), "property before root");
        assertThrows(IllegalStateException.class, () -> new FdtBuilder().endNode(), "unbalanced endNode");
        assertThrows(
                IllegalStateException.class,
                () -> new FdtBuilder().beginNode("").finish(),
                "root still open");
        assertThrows(IllegalStateException.class, () -> new FdtBuilder().finish(), "no root");
        assertThrows(IllegalStateException.class, () -> new FdtBuilder().beginNode("cpus"), "first node not root");
        assertThrows(
                IllegalStateException.class,
                () -> new FdtBuilder().beginNode("").endNode().beginNode(""),
                "second root");
        assertThrows(
                IllegalStateException.class,
                () -> new FdtBuilder().beginNode("").endNode().property("a", 1),
                "property after root");
        assertThrows(
                IllegalStateException.class,
                () -> new FdtBuilder().beginNode("").property("a", 1).property("a", 2),
                "duplicate property");
        assertThrows(
                IllegalStateException.class,
                () -> new FdtBuilder().beginNode("").beginNode("x").endNode().beginNode("x"),
                "duplicate child");
        FdtBuilder done = new FdtBuilder().beginNode("").endNode();
        done.finish();
        assertThrows(IllegalStateException.class, done::finish, "finish twice");
        IllegalStateException e = assertThrows(
                IllegalStateException.class,
                () -> new FdtBuilder()
                        .beginNode("")
                        .beginNode("cpus")
                        .beginNode("cpu@0")
                        .finish());
        assertTrue(e.getMessage().contains("/cpus/cpu@0"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "@1", "a b", "node/x", "UPPER@", "x@a@b", "abcdefghijklmnopqrstuvwxyz012345"})
    void invalidNodeNamesAreRejected(String name) {
        FdtBuilder f = new FdtBuilder().beginNode("");
        assertThrows(IllegalArgumentException.class, () -> f.beginNode(name));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "a b", "a@b", "abcdefghijklmnopqrstuvwxyz012345", "caf\u00e9"})
    void invalidPropertyNamesAreRejected(String name) {
        FdtBuilder f = new FdtBuilder().beginNode("");
        assertThrows(IllegalArgumentException.class, () -> f.property(name, 1));
    }

    @Test
    void valuesThatCannotBeEncodedAreRejected() {
        FdtBuilder f = new FdtBuilder().beginNode("");
        assertThrows(IllegalArgumentException.class, () -> f.propertyString("s", "a\0b"));
        assertThrows(IllegalArgumentException.class, () -> f.propertyStrings("s"));
        assertThrows(IllegalArgumentException.class, () -> f.phandle(0));
        assertThrows(IllegalArgumentException.class, () -> f.phandle(-1));
        assertThrows(IllegalArgumentException.class, () -> f.reserveMemory(0x1000, 0));
    }

    @Test
    void phandlesAreUniqueAndNonZero() {
        FdtBuilder f = new FdtBuilder();
        int a = f.allocatePhandle(), b = f.allocatePhandle();
        assertNotEquals(0, a);
        assertNotEquals(a, b);
    }

    private static int countOccurrences(String haystack, String needle) {
        int n = 0;
        for (int i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + 1)) n++;
        return n;
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        for (int i = 0; i + needle.length <= hay.length; i++) {
            if (Arrays.equals(hay, i, i + needle.length, needle, 0, needle.length)) return i;
        }
        return -1;
    }
}
