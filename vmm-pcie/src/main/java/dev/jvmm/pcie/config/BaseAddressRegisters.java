package dev.jvmm.pcie.config;

import dev.jvmm.pcie.spec.PciSpec;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The six Base Address Registers of a Type 0 header (PCIe Base 6.0 §7.5.1.2.1), expressed as masks so that
 * sizing works the way it does in silicon: the address bits below the BAR size are hardwired to 0 and the
 * type bits are read-only, so writing all ones and reading back yields {@code ~(size - 1) | type}.
 *
 * <pre>
 * memory BAR:  31 .. log2(size) RW | log2(size)-1 .. 4 RO 0 | 3 prefetchable | 2:1 type (00b 32-bit, 10b 64-bit) | 0 = 0
 * I/O BAR:     31 .. log2(size) RW | log2(size)-1 .. 2 RO 0 | 1 reserved 0 | 0 = 1
 * 64-bit BAR:  the next register holds address bits 63:32, RW above the size
 * </pre>
 *
 * Undefined BARs are RO 0, which software reads as "not implemented". After every write to a BAR or to the
 * Command register the decoded address of each BAR is recomputed and changes are reported to the
 * {@link BarListener}.
 */
public final class BaseAddressRegisters {
    private final ConfigSpace config;
    private final BarDefinition[] definitions;
    private final OptionalLong[] decoded = new OptionalLong[PciSpec.BAR_COUNT_TYPE0];
    private volatile BarListener listener = BarListener.NONE;

    /**
     * Lays the BARs out in {@code config}; {@code definitions[i]} is BAR i or null, and the register after a
     * 64-bit BAR must be null.
     */
    public BaseAddressRegisters(ConfigSpace config, BarDefinition[] definitions) {
        this.config = Objects.requireNonNull(config);
        if (definitions.length != PciSpec.BAR_COUNT_TYPE0) {
            throw new IllegalArgumentException("a Type 0 header has 6 BARs, not " + definitions.length);
        }
        this.definitions = definitions.clone();
        for (int i = 0; i < definitions.length; i++) {
            BarDefinition d = definitions[i];
            decoded[i] = OptionalLong.empty();
            if (d == null) {
                continue;
            }
            if (d.kind() == BarDefinition.Kind.MEMORY_64) {
                if (i == PciSpec.BAR_COUNT_TYPE0 - 1) {
                    throw new IllegalArgumentException(
                            "64-bit BAR " + i + " needs BAR " + (i + 1) + " for its upper half");
                }
                if (definitions[i + 1] != null) {
                    throw new IllegalArgumentException("BAR " + (i + 1) + " is the upper half of 64-bit BAR " + i);
                }
            }
            install(i, d);
            if (d.kind() == BarDefinition.Kind.MEMORY_64) {
                i++;
            }
        }
        config.onWrite(PciSpec.BAR0, 4 * PciSpec.BAR_COUNT_TYPE0, this::refresh);
        config.onWrite(PciSpec.COMMAND, 2, this::refresh);
    }

    private void install(int index, BarDefinition d) {
        int offset = registerOffset(index);
        long addressMask = ~(d.size() - 1);
        switch (d.kind()) {
            case IO -> config.define(offset, 4, PciSpec.BAR_IO_SPACE, addressMask & 0xFFFF_FFFCL, 0);
            case MEMORY_32 -> config.define(offset, 4, 0, addressMask & 0xFFFF_FFF0L, 0);
            case MEMORY_64 -> {
                int type = PciSpec.BAR_MEMORY_64 | (d.prefetchable() ? PciSpec.BAR_PREFETCHABLE : 0);
                config.define(offset, 4, type, addressMask & 0xFFFF_FFF0L, 0);
                config.define(offset + 4, 4, 0, addressMask >>> 32, 0);
            }
        }
    }

    public static int registerOffset(int index) {
        return PciSpec.BAR0 + 4 * index;
    }

    public Optional<BarDefinition> definition(int index) {
        return index >= 0 && index < definitions.length ? Optional.ofNullable(definitions[index]) : Optional.empty();
    }

    /** The base address the guest has programmed, whether or not it decodes; 0 for an undefined BAR. */
    public long programmedAddress(int index) {
        BarDefinition d = definition(index).orElse(null);
        if (d == null) {
            return 0;
        }
        int offset = registerOffset(index);
        return switch (d.kind()) {
            case IO -> config.get(offset, 4) & ~(long) PciSpec.BAR_IO_FLAGS_MASK;
            case MEMORY_32 -> config.get(offset, 4) & ~(long) PciSpec.BAR_MEMORY_FLAGS_MASK;
            case MEMORY_64 -> config.get(offset, 8) & ~(long) PciSpec.BAR_MEMORY_FLAGS_MASK;
        };
    }

    /** The base address if the BAR decodes now (its space is enabled in the Command register). */
    public OptionalLong decodedAddress(int index) {
        BarDefinition d = definition(index).orElse(null);
        if (d == null) {
            return OptionalLong.empty();
        }
        int command = config.getInt(PciSpec.COMMAND, 2);
        int enable = d.kind().isMemory() ? PciSpec.COMMAND_MEMORY_SPACE : PciSpec.COMMAND_IO_SPACE;
        return (command & enable) != 0 ? OptionalLong.of(programmedAddress(index)) : OptionalLong.empty();
    }

    /** The index of the BAR whose decoded memory range holds {@code address}, or -1. */
    public int barAt(long address) {
        for (int i = 0; i < definitions.length; i++) {
            BarDefinition d = definitions[i];
            if (d != null && d.kind().isMemory()) {
                OptionalLong base = decodedAddress(i);
                if (base.isPresent() && Long.compareUnsigned(address - base.getAsLong(), d.size()) < 0) {
                    return i;
                }
            }
        }
        return -1;
    }

    public void setListener(BarListener listener) {
        this.listener = Objects.requireNonNull(listener);
        synchronized (config) {
            refresh();
        }
    }

    private void refresh() {
        for (int i = 0; i < definitions.length; i++) {
            BarDefinition d = definitions[i];
            if (d == null) {
                continue;
            }
            OptionalLong now = decodedAddress(i);
            OptionalLong before = decoded[i];
            if (!now.equals(before)) {
                decoded[i] = now;
                listener.barChanged(i, d, before, now);
            }
        }
    }
}
