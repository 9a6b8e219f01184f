package dev.jvmm.pcie.msi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Requester ID layout, PCIe Base 6.0 §2.2.6.2: Bus[15:8], Device[7:3], Function[2:0]. */
class RequesterIdTest {

    @ParameterizedTest(name = "{0}:{1}.{2} = {3}")
    @CsvSource({
        "0, 0, 0, 0x0000",
        "1, 0, 0, 0x0100",
        "0, 31, 0, 0x00F8",
        "0, 0, 7, 0x0007",
        "0x5A, 3, 2, 0x5A1A",
        "255, 31, 7, 0xFFFF"
    })
    void valueIsBusDeviceFunction(int bus, int device, int function, String hex) {
        int value = Integer.decode(hex);
        RequesterId rid = new RequesterId(bus, device, function);
        assertEquals(value, rid.value());
        assertEquals(rid, RequesterId.of(value));
        assertEquals(value & 0xFF, rid.devfn());
    }

    @Test
    void printsLikeLinux() {
        assertEquals("0a:1f.7", new RequesterId(10, 31, 7).toString());
    }

    @Test
    void outOfRangeFieldsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new RequesterId(256, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new RequesterId(0, 32, 0));
        assertThrows(IllegalArgumentException.class, () -> new RequesterId(0, 0, 8));
        assertThrows(IllegalArgumentException.class, () -> new RequesterId(-1, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> RequesterId.of(0x10000));
    }
}
