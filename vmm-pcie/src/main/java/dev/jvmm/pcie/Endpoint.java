package dev.jvmm.pcie;

import dev.jvmm.pcie.config.BarDefinition;
import dev.jvmm.pcie.config.BarListener;
import dev.jvmm.pcie.config.ConfigSpace;
import dev.jvmm.pcie.msi.MsiTarget;
import dev.jvmm.pcie.spec.PciSpec;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.IntSupplier;

/**
 * A device with one to eight functions, on a link below a port or integrated in the root complex (RCiEP).
 *
 * <p>Function 0 must exist: software probes it first and skips the device when it reads FFFFh. With more
 * than one function, function 0 reports bit 7 of Header Type, Multi-Function Device (PCIe Base 6.0
 * §7.5.1.1.9), or the guest would not look at functions 1 to 7. The device sets the bit on the way out, so
 * functions do not need to know their neighbours.
 */
public final class Endpoint implements LinkDevice {
    private final String name;
    private final PciFunction[] functions = new PciFunction[PciSpec.MAX_FUNCTIONS_PER_DEVICE];
    private final PciFunction[] views = new PciFunction[PciSpec.MAX_FUNCTIONS_PER_DEVICE];
    private final boolean multiFunction;

    private Endpoint(String name, Map<Integer, PciFunction> byNumber) {
        this.name = Objects.requireNonNull(name);
        if (!byNumber.containsKey(0)) {
            throw new IllegalArgumentException("endpoint '" + name + "' has no function 0");
        }
        for (Map.Entry<Integer, PciFunction> e : byNumber.entrySet()) {
            int fn = e.getKey();
            if (fn < 0 || fn >= functions.length) {
                throw new IllegalArgumentException(
                        "endpoint '" + name + "': function number " + fn + " out of range 0-7");
            }
            functions[fn] = Objects.requireNonNull(e.getValue(), "function " + fn);
            views[fn] = functions[fn];
        }
        this.multiFunction = byNumber.size() > 1;
        if (multiFunction) {
            views[0] = new MultiFunctionHeader(functions[0]);
        }
    }

    /** A device whose functions are numbered 0, 1, 2... in argument order. */
    public static Endpoint of(String name, PciFunction... functions) {
        Map<Integer, PciFunction> map = new TreeMap<>();
        for (int i = 0; i < functions.length; i++) {
            map.put(i, functions[i]);
        }
        return new Endpoint(name, map);
    }

    /** A device with functions at the given numbers; gaps are allowed, function 0 is required. */
    public static Endpoint of(String name, Map<Integer, PciFunction> functions) {
        return new Endpoint(name, new TreeMap<>(functions));
    }

    @Override
    public String name() {
        return name;
    }

    public Optional<PciFunction> function(int number) {
        return number >= 0 && number < functions.length ? Optional.ofNullable(functions[number]) : Optional.empty();
    }

    public boolean isMultiFunction() {
        return multiFunction;
    }

    PciFunction type0(int function) {
        return function >= 0 && function < views.length ? views[function] : null;
    }

    void bind(IntSupplier bus, int deviceNumber, InterruptDomain domain) {
        for (int fn = 0; fn < functions.length; fn++) {
            if (functions[fn] != null) {
                functions[fn].msiTarget().connect(bus, deviceNumber, fn, domain);
            }
        }
    }

    void unbind() {
        for (PciFunction f : functions) {
            if (f != null) {
                f.msiTarget().disconnect();
            }
        }
    }

    @Override
    public void reset() {
        for (PciFunction f : functions) {
            if (f != null) {
                f.reset();
            }
        }
    }

    /** Function 0 as seen by configuration reads: Header Type bit 7 set. */
    private record MultiFunctionHeader(PciFunction delegate) implements PciFunction {
        @Override
        public int configRead(int offset, int size) {
            int value = delegate.configRead(offset, size);
            if (ConfigSpace.isValidAccess(offset, size)
                    && offset <= PciSpec.HEADER_TYPE
                    && PciSpec.HEADER_TYPE < offset + size) {
                value |= PciSpec.HEADER_TYPE_MULTI_FUNCTION << (8 * (PciSpec.HEADER_TYPE - offset));
            }
            return value;
        }

        @Override
        public void configWrite(int offset, int size, int value) {
            delegate.configWrite(offset, size, value);
        }

        @Override
        public Optional<BarDefinition> barDefinition(int bar) {
            return delegate.barDefinition(bar);
        }

        @Override
        public long barRead(int bar, long offset, int size) {
            return delegate.barRead(bar, offset, size);
        }

        @Override
        public void barWrite(int bar, long offset, int size, long value) {
            delegate.barWrite(bar, offset, size, value);
        }

        @Override
        public void setBarListener(BarListener listener) {
            delegate.setBarListener(listener);
        }

        @Override
        public MsiTarget msiTarget() {
            return delegate.msiTarget();
        }

        @Override
        public void reset() {
            delegate.reset();
        }
    }
}
