package dev.jvmm.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Kernel errors become one clear line naming the operation and the errno. */
class ErrorsTest {
    @Test
    void missingDeviceNamesThePathAndErrno() {
        var e = assertThrows(ErrnoException.class, () -> Kvm.open(Path.of("/dev/no-such-kvm")));
        assertEquals(Errno.ENOENT, e.errno());
        assertEquals("open /dev/no-such-kvm: No such file or directory (ENOENT, errno 2)", e.getMessage());
    }

    @Test
    void notAKvmDeviceIsRefusedByTheApiVersionCheck() {
        // /dev/null opens fine but answers the KVM ioctl with ENOTTY.
        var e = assertThrows(ErrnoException.class, () -> Kvm.open(Path.of("/dev/null")));
        assertEquals(Errno.ENOTTY, e.errno());
        assertTrue(e.getMessage().startsWith("KVM_GET_API_VERSION: "), e.getMessage());
    }

    @Test
    void useAfterCloseIsAProgrammingError() throws Exception {
        EventFd ev = EventFd.create(true);
        ev.close();
        ev.close(); // closing twice is harmless
        assertThrows(IllegalStateException.class, ev::signal);
    }

    @Test
    void eventfdCountsSignals() throws Exception {
        try (EventFd ev = EventFd.create(true)) {
            assertEquals(0, ev.read());
            ev.signal();
            ev.signal(2);
            assertEquals(3, ev.read());
            assertEquals(0, ev.read());
        }
    }

    @Test
    void unknownErrnoStillNamesTheNumber() {
        assertEquals("op: errno 4095", new ErrnoException("op", 4095).getMessage());
    }
}
