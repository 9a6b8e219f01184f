package dev.jvmm.core.fdt;

import dev.jvmm.pcie.util.Sizes;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Writes a flattened devicetree blob (DTB) as defined by the Devicetree Specification v0.4, chapter 5.
 *
 * <p>Layout (§5.1): the 40-byte header (§5.2), the memory reservation block (§5.3, 8-byte aligned, terminated
 * by a zero entry), the structure block (§5.4, 4-byte aligned tokens) and the strings block (§5.5, property
 * names, each stored once). All values are big-endian. Version 17, last compatible version 16.
 *
 * <p>Use: {@code beginNode("")} for the root, properties, child nodes, {@code endNode()} for each node, then
 * {@link #finish()}. Misuse (a property outside a node, unbalanced nodes, a second root, a duplicate property
 * or child name, finishing twice) throws {@link IllegalStateException}; invalid names or values (§2.2.1 node
 * names, §2.2.4 property names, strings containing NUL) throw {@link IllegalArgumentException}. One builder
 * makes one blob and is not thread-safe.
 */
public final class FdtBuilder {
    // §5.1.1 / §5.2 header constants.
    static final int FDT_MAGIC = 0xd00dfeed;
    static final int VERSION = 17;
    static final int LAST_COMP_VERSION = 16;
    static final int HEADER_SIZE = 40;
    // §5.4.1 structure block tokens.
    static final int FDT_BEGIN_NODE = 0x1;
    static final int FDT_END_NODE = 0x2;
    static final int FDT_PROP = 0x3;
    static final int FDT_NOP = 0x4;
    static final int FDT_END = 0x9;

    /** §2.2.1 Table 2.1: node-name and unit-address characters. */
    private static final String NODE_CHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ,._+-";
    /** §2.2.4.1 Table 2.2: property-name characters. */
    private static final String PROP_CHARS = NODE_CHARS + "?#";

    private static final int MAX_NAME = 31;

    /** One open node: its path (for messages) and the names used in it so far. */
    private record OpenNode(String path, Set<String> properties, Set<String> children) {}

    private final ByteArrayOutputStream struct = new ByteArrayOutputStream();
    private final ByteArrayOutputStream strings = new ByteArrayOutputStream();
    private final List<long[]> reservations = new ArrayList<>();
    private final Deque<OpenNode> open = new ArrayDeque<>();
    private boolean rootDone;
    private boolean finished;
    private int bootCpuidPhys;
    private int nextPhandle = 1;

    /**
     * Adds a memory reservation entry (§5.3.2): [address, address + size) the client must not use as RAM.
     * Must be called before {@link #finish()}.
     */
    public FdtBuilder reserveMemory(long address, long size) {
        checkNotFinished();
        if (size == 0)
            throw new IllegalArgumentException(
                    "memory reservation at 0x%x has size 0 (that is the terminator)".formatted(address));
        reservations.add(new long[] {address, size});
        return this;
    }

    /** Sets the header's boot_cpuid_phys (§5.2): the physical id of the boot CPU (its cpu node's reg). */
    public FdtBuilder bootCpuidPhys(int cpuid) {
        checkNotFinished();
        this.bootCpuidPhys = cpuid;
        return this;
    }

    /**
     * Opens a node (FDT_BEGIN_NODE, §5.4.1). The first node must be the root, named "". Names follow §2.2.1:
     * node-name of 1-31 characters from [0-9a-zA-Z,._+-], optionally followed by '@' and a unit address of
     * the same characters.
     */
    public FdtBuilder beginNode(String name) {
        checkNotFinished();
        String path;
        if (open.isEmpty()) {
            if (rootDone)
                throw new IllegalStateException("devicetree already has a root node; cannot begin '" + name + "'");
            if (!name.isEmpty())
                throw new IllegalStateException("the first node must be the root, named \"\", not '" + name + "'");
            path = "/";
        } else {
            checkNodeName(name);
            OpenNode parent = open.peek();
            if (!parent.children.add(name)) {
                throw new IllegalStateException(
                        "node '%s' already has a child named '%s'".formatted(parent.path, name));
            }
            path = parent.path.equals("/") ? "/" + name : parent.path + "/" + name;
        }
        token(FDT_BEGIN_NODE);
        byte[] bytes = name.getBytes(StandardCharsets.US_ASCII);
        struct.writeBytes(bytes);
        struct.write(0);
        pad(struct, 4);
        open.push(new OpenNode(path, new HashSet<>(), new HashSet<>()));
        return this;
    }

    /** Closes the innermost open node (FDT_END_NODE, §5.4.1). */
    public FdtBuilder endNode() {
        checkNotFinished();
        if (open.isEmpty()) throw new IllegalStateException("endNode() without an open node");
        open.pop();
        token(FDT_END_NODE);
        if (open.isEmpty()) rootDone = true;
        return this;
    }

    /** A property of 32-bit cells, {@code <u32 ...>} (§2.2.4.2 &lt;u32&gt; / &lt;prop-encoded-array&gt;). */
    public FdtBuilder property(String name, int... cells) {
        byte[] value = new byte[cells.length * 4];
        for (int i = 0; i < cells.length; i++) putU32(value, i * 4, cells[i]);
        return propertyBytes(name, value);
    }

    /** A property of 64-bit values, each encoded as two big-endian cells (§2.2.4.2 &lt;u64&gt;). */
    public FdtBuilder propertyU64s(String name, long... values) {
        byte[] value = new byte[values.length * 8];
        for (int i = 0; i < values.length; i++) {
            putU32(value, i * 8, (int) (values[i] >>> 32));
            putU32(value, i * 8 + 4, (int) values[i]);
        }
        return propertyBytes(name, value);
    }

    /** A NUL-terminated string property (§2.2.4.2 &lt;string&gt;), UTF-8 encoded. */
    public FdtBuilder propertyString(String name, String value) {
        return propertyStrings(name, value);
    }

    /** A string list (§2.2.4.2 &lt;stringlist&gt;): the strings concatenated, each NUL-terminated. */
    public FdtBuilder propertyStrings(String name, String... values) {
        if (values.length == 0)
            throw new IllegalArgumentException("property '" + name + "': a string list needs at least one string");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String v : values) {
            if (v.indexOf('\0') >= 0)
                throw new IllegalArgumentException("property '" + name + "': string contains NUL");
            out.writeBytes(v.getBytes(StandardCharsets.UTF_8));
            out.write(0);
        }
        return propertyBytes(name, out.toByteArray());
    }

    /** An empty property (§2.2.4.2 &lt;empty&gt;), e.g. "interrupt-controller", "ranges". */
    public FdtBuilder propertyEmpty(String name) {
        return propertyBytes(name, new byte[0]);
    }

    /** A property with raw bytes as its value (FDT_PROP, §5.4.1). */
    public FdtBuilder propertyBytes(String name, byte[] value) {
        checkNotFinished();
        if (open.isEmpty()) throw new IllegalStateException("property '" + name + "' outside a node");
        checkPropertyName(name);
        OpenNode node = open.peek();
        if (!node.properties.add(name)) {
            throw new IllegalStateException("node '%s' already has a property '%s'".formatted(node.path, name));
        }
        token(FDT_PROP);
        writeU32(struct, value.length);
        writeU32(struct, stringOffset(name));
        struct.writeBytes(value);
        pad(struct, 4);
        return this;
    }

    /** A FDT_NOP token (§5.4.1): ignored by readers; useful to leave room for in-place edits. */
    public FdtBuilder nop() {
        checkNotFinished();
        if (open.isEmpty()) throw new IllegalStateException("FDT_NOP outside the root node");
        token(FDT_NOP);
        return this;
    }

    /**
     * Allocates a new phandle value (§2.3.3): unique within this blob, never 0 or 0xffffffff. Write it into the
     * target node with {@link #phandle(int)} and reference it from other properties as a cell.
     */
    public int allocatePhandle() {
        if (nextPhandle == -1) throw new IllegalStateException("phandle space exhausted");
        return nextPhandle++;
    }

    /** Writes the "phandle" property (§2.3.3) of the current node. */
    public FdtBuilder phandle(int phandle) {
        if (phandle == 0 || phandle == -1)
            throw new IllegalArgumentException("phandle 0x%x is reserved".formatted(phandle));
        return property("phandle", phandle);
    }

    /** Whether {@code blob} starts like a flattened devicetree: a whole header, beginning with the magic (§5.2). */
    public static boolean hasHeader(byte[] blob) {
        return blob.length >= HEADER_SIZE
                && ((blob[0] & 0xff) << 24 | (blob[1] & 0xff) << 16 | (blob[2] & 0xff) << 8 | (blob[3] & 0xff))
                        == FDT_MAGIC;
    }

    /** Ends the structure block (FDT_END) and returns the blob. The builder cannot be used afterwards. */
    public byte[] finish() {
        checkNotFinished();
        if (!open.isEmpty()) throw new IllegalStateException("node '" + open.peek().path + "' is still open");
        if (!rootDone) throw new IllegalStateException("devicetree has no root node");
        token(FDT_END);
        finished = true;

        int offMemRsvmap = (int) Sizes.alignUp(HEADER_SIZE, 8);
        int rsvSize = (reservations.size() + 1) * 16;
        int offStruct = offMemRsvmap + rsvSize; // a multiple of 8, hence of 4 (§5.4)
        int structSize = struct.size();
        int offStrings = offStruct + structSize;
        int stringsSize = strings.size();
        int total = offStrings + stringsSize;

        byte[] blob = new byte[total];
        putU32(blob, 0, FDT_MAGIC);
        putU32(blob, 4, total);
        putU32(blob, 8, offStruct);
        putU32(blob, 12, offStrings);
        putU32(blob, 16, offMemRsvmap);
        putU32(blob, 20, VERSION);
        putU32(blob, 24, LAST_COMP_VERSION);
        putU32(blob, 28, bootCpuidPhys);
        putU32(blob, 32, stringsSize);
        putU32(blob, 36, structSize);
        int p = offMemRsvmap;
        for (long[] r : reservations) {
            putU64(blob, p, r[0]);
            putU64(blob, p + 8, r[1]);
            p += 16;
        }
        // The terminating {0, 0} entry is already zero.
        System.arraycopy(struct.toByteArray(), 0, blob, offStruct, structSize);
        System.arraycopy(strings.toByteArray(), 0, blob, offStrings, stringsSize);
        return blob;
    }

    /**
     * Offset of {@code name} in the strings block, adding it if needed. Names are shared, including as a suffix
     * of a longer name already stored (as dtc does: "phandle" can point into "linux,phandle"); §5.5 only
     * requires that the offset points at a NUL-terminated copy of the name.
     */
    private int stringOffset(String name) {
        byte[] table = strings.toByteArray();
        byte[] wanted = (name + "\0").getBytes(StandardCharsets.US_ASCII);
        outer:
        for (int i = 0; i + wanted.length <= table.length; i++) {
            for (int j = 0; j < wanted.length; j++) {
                if (table[i + j] != wanted[j]) continue outer;
            }
            return i;
        }
        int offset = strings.size();
        strings.writeBytes(wanted);
        return offset;
    }

    private void token(int token) {
        writeU32(struct, token);
    }

    private void checkNotFinished() {
        if (finished) throw new IllegalStateException("devicetree blob already finished");
    }

    private static void checkNodeName(String name) {
        int at = name.indexOf('@');
        String nodeName = at < 0 ? name : name.substring(0, at);
        String unit = at < 0 ? null : name.substring(at + 1);
        if (nodeName.isEmpty() || nodeName.length() > MAX_NAME || !onlyChars(nodeName, NODE_CHARS)) {
            throw new IllegalArgumentException(
                    "invalid node name '%s': §2.2.1 wants 1-%d characters of [0-9a-zA-Z,._+-] before any '@'"
                            .formatted(name, MAX_NAME));
        }
        if (unit != null && (unit.isEmpty() || !onlyChars(unit, NODE_CHARS))) {
            throw new IllegalArgumentException("invalid unit address in node name '%s' (§2.2.1)".formatted(name));
        }
    }

    private static void checkPropertyName(String name) {
        if (name.isEmpty() || name.length() > MAX_NAME || !onlyChars(name, PROP_CHARS)) {
            throw new IllegalArgumentException(
                    "invalid property name '%s': §2.2.4.1 wants 1-%d characters of [0-9a-zA-Z,._+?#-]"
                            .formatted(name, MAX_NAME));
        }
    }

    private static boolean onlyChars(String s, String allowed) {
        for (int i = 0; i < s.length(); i++) {
            if (allowed.indexOf(s.charAt(i)) < 0) return false;
        }
        return true;
    }

    private static void pad(ByteArrayOutputStream out, int alignment) {
        while (out.size() % alignment != 0) out.write(0);
    }

    private static void writeU32(ByteArrayOutputStream out, int v) {
        out.write(v >>> 24);
        out.write(v >>> 16);
        out.write(v >>> 8);
        out.write(v);
    }

    static void putU32(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 24);
        b[off + 1] = (byte) (v >>> 16);
        b[off + 2] = (byte) (v >>> 8);
        b[off + 3] = (byte) v;
    }

    private static void putU64(byte[] b, int off, long v) {
        putU32(b, off, (int) (v >>> 32));
        putU32(b, off + 4, (int) v);
    }
}
