package dev.jvmm.pcie;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.jvmm.pcie.FuzzFixture.Shape;
import dev.jvmm.pcie.FuzzFixture.Target;
import dev.jvmm.pcie.PcieTestSupport.RecordingSink;
import dev.jvmm.pcie.config.ConfigSpace;
import dev.jvmm.pcie.config.ReadOnlyBits;
import dev.jvmm.pcie.msi.RequesterId;
import dev.jvmm.pcie.util.Sizes;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Randomized ECAM traffic over several topologies, in the spirit of OpenVMM's fuzz_pcie: a Linux-style
 * enumeration first (so deep routing is reachable), then thousands of arbitrary reads and writes of 1, 2,
 * 3, 4 and 8 bytes at arbitrary offsets, re-enumerations and resets. Invariants:
 *
 * <ul>
 *   <li>no exception escapes the model;</li>
 *   <li>a valid read returns exactly what the reference router (written from §7.3.3 over the raw bus number
 *       registers) says the target function holds, and all ones when it reaches nothing;</li>
 *   <li>invalid accesses and unroutable writes change no register anywhere;</li>
 *   <li>read-only bits of every function never change (PCIe Base 6.0 §7.4).</li>
 * </ul>
 *
 * The seed is printed and can be replayed with {@code -Djvmm.seed=N}; {@code -Djvmm.fuzz.ops=N} makes runs longer.
 */
class EcamFuzzTest {
    private static final long SEED = Long.getLong("jvmm.seed", System.nanoTime());
    /** Operations per topology; raise with -Djvmm.fuzz.ops=N for a soak run. */
    private static final int OPS = Integer.getInteger("jvmm.fuzz.ops", 20_000);

    @BeforeAll
    static void printSeed() {
        System.out.println("EcamFuzzTest: replay with -Djvmm.seed=" + SEED);
    }

    @ParameterizedTest
    @EnumSource(Shape.class)
    void randomEcamTrafficKeepsTheInvariants(Shape shape) {
        long seed = SEED + 0x9E37_79B9_7F4A_7C15L * (shape.ordinal() + 1);
        Random rnd = new Random(seed);
        FuzzFixture fx = FuzzFixture.build(shape);
        RootComplex rc = fx.rc;
        RecordingSink sink = new RecordingSink();
        rc.connectMsiSink(sink);
        List<ReadOnlyBits> images = fx.spaces.stream().map(ReadOnlyBits::of).toList();
        PcieTestSupport.Enumerator enumerator = new PcieTestSupport.Enumerator(rc);
        enumerator.run();
        int routedReads = 0;
        int unroutableReads = 0;

        for (int op = 0; op < OPS; op++) {
            String context = "seed " + SEED + ", " + shape + ", op " + op;
            try {
                int kind = rnd.nextInt(1000);
                if (kind < 3) {
                    rc.reset();
                    continue;
                }
                if (kind < 40) {
                    enumerator.run(rc.firstBus() + 1 + rnd.nextInt(4));
                    continue;
                }
                boolean write = kind >= 520;
                int bus = pickBus(rnd, rc);
                int dev = rnd.nextInt(10) < 6 ? 0 : rnd.nextInt(10) < 5 ? rnd.nextInt(4) : rnd.nextInt(32);
                int fn = rnd.nextInt(10) < 6 ? 0 : rnd.nextInt(8);
                if (!enumerator.found.isEmpty() && rnd.nextBoolean()) {
                    // half the time aim at a function the last enumeration saw, so deep routing is exercised
                    PcieTestSupport.Found f = enumerator.found.get(rnd.nextInt(enumerator.found.size()));
                    bus = f.bus();
                    dev = f.device();
                    fn = f.function();
                }
                int reg = switch (rnd.nextInt(5)) {
                    case 0, 1 -> rnd.nextInt(0x40);
                    case 2, 3 -> 0x40 + rnd.nextInt(0xC0);
                    default -> rnd.nextInt(0x1000);
                };
                int size = switch (rnd.nextInt(20)) {
                    case 0 -> 3;
                    case 1 -> 8;
                    case 2, 3, 4, 5 -> 1;
                    case 6, 7, 8, 9 -> 2;
                    default -> 4;
                };
                if (rnd.nextInt(10) < 8 && size != 3) {
                    reg &= ~(size - 1);
                }
                reg &= 0xFFF;
                long offset = (long) (bus - rc.firstBus()) << 20 | dev << 15 | fn << 12 | reg;
                if (rnd.nextInt(50) == 0) {
                    offset = rnd.nextBoolean() ? rc.ecamSize() + rnd.nextInt(1 << 22) : -1 - rnd.nextInt(4096);
                }
                boolean valid = (size == 1 || size == 2 || size == 4)
                        && (reg & (size - 1)) == 0
                        && offset >= 0
                        && offset < rc.ecamSize();
                Optional<Target> target = valid ? fx.route(bus, dev, fn) : Optional.empty();

                if (!write) {
                    long got = rc.read(offset, size);
                    long allOnes = Sizes.sizeMask(size);
                    if (target.isEmpty()) {
                        unroutableReads++;
                        assertEquals(allOnes, got, context + ": unroutable read");
                    } else {
                        routedReads++;
                        long expected =
                                Integer.toUnsignedLong(FuzzFixture.expectedRead(target.get(), reg, size)) & allOnes;
                        assertEquals(
                                expected,
                                got,
                                context + String.format(": read %02x:%02x.%x+%03x/%d", bus, dev, fn, reg, size));
                    }
                } else {
                    int value = switch (rnd.nextInt(10)) {
                        case 0 -> -1;
                        case 1 -> 0;
                        default -> rnd.nextInt();
                    };
                    boolean checkNoEffect = target.isEmpty() && rnd.nextInt(20) == 0;
                    List<byte[]> before = checkNoEffect ? snapshots(fx) : null;
                    rc.write(offset, size, value);
                    if (checkNoEffect) {
                        List<byte[]> after = snapshots(fx);
                        for (int i = 0; i < before.size(); i++) {
                            assertArrayEquals(
                                    before.get(i),
                                    after.get(i),
                                    context + ": unroutable or invalid write changed function " + i);
                        }
                    }
                }
                if (op % 256 == 255) {
                    for (ReadOnlyBits image : images) {
                        image.check(context);
                    }
                }
            } catch (AssertionError e) {
                throw e;
            } catch (Throwable t) {
                throw new AssertionError(context + ": exception escaped the model", t);
            }
        }
        for (ReadOnlyBits image : images) {
            image.check("seed " + SEED + ", " + shape + ", end");
        }
        System.out.printf(
                "EcamFuzzTest %s: %d ops, %d routed reads, %d unroutable reads, %d messages%n",
                shape, OPS, routedReads, unroutableReads, sink.messages.size());
        if (shape != Shape.ROOT_PORTS_ONLY && routedReads < OPS / 10) {
            fail("seed " + SEED + ", " + shape + ": only " + routedReads
                    + " reads reached a function; the generator is too weak");
        }
    }

    /** Well-formed but random interrupt programming: MSI or MSI-X on, masks and Bus Master Enable at random. */
    private static void programLikeADriver(EndpointFunction f, Random rnd) {
        f.configWrite(0x04, 2, rnd.nextInt(4) == 0 ? 0 : 0x6);
        f.msix().ifPresent(msix -> {
            int v = rnd.nextInt(msix.tableSize());
            long entry = msix.tableOffset() + 16L * v;
            f.barWrite(msix.tableBar(), entry, 8, 0xFEE0_0000L | (long) rnd.nextInt(4) << 32);
            f.barWrite(msix.tableBar(), entry + 8, 4, rnd.nextInt(256));
            f.barWrite(msix.tableBar(), entry + 12, 4, rnd.nextInt(3) == 0 ? 1 : 0);
            int control = rnd.nextInt(3) == 0 ? 0 : 1 << 15 | (rnd.nextInt(4) == 0 ? 1 << 14 : 0);
            f.configWrite(msix.offset() + 2, 2, control);
        });
        f.msi().ifPresent(msi -> {
            f.configWrite(msi.offset() + 4, 4, 0xFEE0_0000);
            f.configWrite(msi.offset() + 0xC, 2, rnd.nextInt(256));
            f.configWrite(msi.offset() + 2, 2, rnd.nextInt(2) | rnd.nextInt(8) << 4);
        });
    }

    private static int pickBus(Random rnd, RootComplex rc) {
        int span = rc.lastBus() - rc.firstBus() + 1;
        return rc.firstBus() + (rnd.nextInt(10) < 8 ? rnd.nextInt(Math.min(span, 12)) : rnd.nextInt(span));
    }

    private static List<byte[]> snapshots(FuzzFixture fx) {
        List<byte[]> list = new ArrayList<>();
        for (ConfigSpace cs : fx.spaces) {
            list.add(cs.snapshot());
        }
        return list;
    }

    /**
     * Interrupt traffic mixed with ECAM and BAR traffic: arbitrary MSI/MSI-X programming through ECAM, MSI-X
     * table and PBA accesses of every size at arbitrary BAR offsets, and interrupts raised on arbitrary
     * vectors. Invariants: no exception escapes, and every message the sink receives carries the requester
     * id the reference router derives from the parent port's raw secondary bus at that moment, and comes from
     * a function with Bus Master Enable set.
     */
    @ParameterizedTest
    @EnumSource(
            value = Shape.class,
            names = {"ENDPOINTS", "TWO_LEVEL_SWITCHES", "NONZERO_ROOT_BUS_WITH_RCIEP"})
    void randomInterruptTrafficCarriesTheCurrentRequesterId(Shape shape) {
        long seed = SEED - 0x6A09_E667_F3BC_C909L * (shape.ordinal() + 1);
        Random rnd = new Random(seed);
        FuzzFixture fx = FuzzFixture.build(shape);
        RootComplex rc = fx.rc;
        RecordingSink sink = new RecordingSink();
        rc.connectMsiSink(sink);
        List<EndpointFunction> functions = List.copyOf(fx.endpoints.keySet());
        PcieTestSupport.Enumerator enumerator = new PcieTestSupport.Enumerator(rc);
        enumerator.run();
        int sent = 0;

        for (int op = 0; op < OPS / 2; op++) {
            String context = "seed " + SEED + ", " + shape + ", op " + op;
            EndpointFunction f = functions.get(rnd.nextInt(functions.size()));
            int before = sink.messages.size();
            try {
                switch (rnd.nextInt(12)) {
                    case 0 -> enumerator.run(rc.firstBus() + 1 + rnd.nextInt(8));
                    case 10, 11 -> programLikeADriver(f, rnd);
                    case 1, 2 -> { // program the function's own interrupt registers through its config space
                        int reg = 0x40 + rnd.nextInt(0xC0) & ~3;
                        f.configWrite(rnd.nextBoolean() ? reg : 0x04, 4, rnd.nextInt(4) == 0 ? -1 : rnd.nextInt());
                    }
                    case 3, 4, 5 -> {
                        int bar = rnd.nextInt(10) == 0 ? rnd.nextInt(8) - 1 : 0;
                        long offset = rnd.nextInt(10) == 0 ? rnd.nextLong() : rnd.nextInt(0x4100);
                        int size = new int[] {1, 2, 3, 4, 4, 4, 8, 8, 16}[rnd.nextInt(9)];
                        if (rnd.nextBoolean()) {
                            f.barRead(bar, offset, size);
                        } else {
                            f.barWrite(bar, offset, size, rnd.nextInt(3) == 0 ? 0 : rnd.nextLong());
                        }
                    }
                    default -> f.signal(rnd.nextInt(10) == 0 ? rnd.nextInt() : rnd.nextInt(20));
                }
            } catch (Throwable t) {
                throw new AssertionError(context + ": exception escaped the model", t);
            }
            List<PcieTestSupport.RecordingSink.Message> fresh = sink.messages.subList(before, sink.messages.size());
            if (!fresh.isEmpty()) {
                Optional<RequesterId> rid = fx.expectedRid(f);
                if (rid.isEmpty()) {
                    fail(context + ": message sent while the function's bus is unassigned: " + fresh);
                }
                for (PcieTestSupport.RecordingSink.Message m : fresh) {
                    assertEquals(rid.get(), m.rid(), context + ": requester id");
                }
                assertEquals(
                        0x4, f.configSpace().getInt(0x04, 2) & 0x4, context + ": message without Bus Master Enable");
                sent += fresh.size();
            }
        }
        System.out.printf("EcamFuzzTest interrupts %s: %d ops, %d messages%n", shape, OPS / 2, sent);
        if (sent == 0) {
            fail("seed " + SEED + ", " + shape + ": no message was ever sent; the generator is too weak");
        }
    }
}
