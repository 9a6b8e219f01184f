package dev.jvmm.core.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jvmm.kvm.Errno;
import dev.jvmm.kvm.ErrnoException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The host's KVM errors become one line that says what to do. */
class HostKvmInfoTest {
    @Test
    void permissionDeniedSaysHowToGetAccess() {
        assertEquals(
                "open /dev/kvm: Permission denied (EACCES, errno 13) (add the user to the 'kvm' group or run "
                        + "with access to /dev/kvm)",
                HostKvmInfo.hint(new ErrnoException("open /dev/kvm", Errno.EACCES)));
    }

    @Test
    void missingKvmSaysWhy() {
        var e = assertThrows(KvmUnavailableException.class, () -> HostKvmInfo.probe(Path.of("/dev/jvmm-no-kvm")));
        assertEquals(
                "open /dev/jvmm-no-kvm: No such file or directory (ENOENT, errno 2) (no KVM on this host: is the "
                        + "kvm module loaded, or is this a VM without nested virtualization?)",
                e.getMessage());
    }

    @Test
    void otherErrorsPassThrough() {
        assertEquals(
                "KVM_CREATE_VM: Cannot allocate memory (ENOMEM, errno 12)",
                HostKvmInfo.hint(new ErrnoException("KVM_CREATE_VM", Errno.ENOMEM)));
    }
}
