package io.bitnet4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

class LargePagesTest {
    @Test
    void memoryIsZeroedAlignedWritableAndOfTheSizeAsked() {
        for (long bytes : new long[] {1, 4096 + 3, (2L << 20) + 64, 5L << 20}) {
            MemorySegment m = LargePages.allocate(bytes);
            assertEquals(bytes, m.byteSize());
            assertEquals(0, m.address() % 64, "alignment");
            for (long i = 0; i < bytes; i += 4093) {
                assertEquals(0, m.get(ValueLayout.JAVA_BYTE, i), "zeroed at " + i);
            }
            m.fill((byte) 7);
            assertEquals(7, m.get(ValueLayout.JAVA_BYTE, bytes - 1));
        }
    }

    @Test
    @EnabledOnOs(OS.LINUX)
    void linuxWithNativeAccessMapsHugePageAlignedMemory() {
        // the test JVM runs with --enable-native-access=ALL-UNNAMED, as the launcher does
        assertTrue(LargePages.available(), "mmap/madvise found through the FFM linker");
        assertEquals(0, LargePages.allocate(3L << 20).address() % (2L << 20));
    }
}
