package io.bitnet4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Memory for repacked weights: the sizes asked for, 64-byte aligned, writable, and no two allocations overlapping. */
class PackedMemoryTest {
    @Test
    void allocationsAreAlignedWritableAndDisjoint() {
        long[] sizes = {1, 63, 4096, 1_460_000, 3_932_160, 20L << 20, 100, 7};
        List<MemorySegment> segments = new ArrayList<>();
        for (long size : sizes) {
            MemorySegment s = PackedMemory.allocate(size);
            assertEquals(size, s.byteSize());
            assertEquals(0, s.address() % 64, "aligned to 64 bytes");
            segments.add(s);
        }
        // every allocation filled with its own mark, then all read back: an overlap would show another's mark
        for (int i = 0; i < segments.size(); i++) {
            MemorySegment s = segments.get(i);
            s.fill((byte) (i + 1));
        }
        for (int i = 0; i < segments.size(); i++) {
            MemorySegment s = segments.get(i);
            for (long at : new long[] {0, s.byteSize() / 2, s.byteSize() - 1}) {
                assertEquals((byte) (i + 1), s.get(ValueLayout.JAVA_BYTE, at), "allocation " + i + " at " + at);
            }
            for (int j = 0; j < i; j++) {
                MemorySegment o = segments.get(j);
                assertTrue(s.address() + s.byteSize() <= o.address() || o.address() + o.byteSize() <= s.address(),
                        "allocations " + j + " and " + i + " overlap");
            }
        }
    }
}
