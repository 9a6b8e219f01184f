package dev.jvmm.core.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class MemorySizeTest {
    @ParameterizedTest
    @CsvSource({
        "512M,536870912",
        "512,536870912",
        "2G,2147483648",
        "2GiB,2147483648",
        "1048576K,1073741824",
        "64m,67108864",
        "1T,1099511627776",
        "256MB,268435456"
    })
    void parsesWhatUsersWrite(String text, long bytes) {
        assertEquals(bytes, MemorySize.parse(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "M", "-1G", "0", "1.5G", "12Q", "99999999999999999999G", "8388608T"})
    void rejectsNonsense(String text) {
        assertThrows(IllegalArgumentException.class, () -> MemorySize.parse(text));
    }

    @ParameterizedTest
    @CsvSource({"536870912,512M", "2147483648,2G", "4096,4K", "100,100 bytes"})
    void formatsInTheLargestExactUnit(long bytes, String text) {
        assertEquals(text, MemorySize.format(bytes));
    }
}
