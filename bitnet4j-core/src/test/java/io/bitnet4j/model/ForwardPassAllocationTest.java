package io.bitnet4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.bitnet4j.tensor.GgmlType;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Decoding a token allocates nothing once the JIT has compiled the hot paths (the Vector API's vectors are only
 * free of allocation in compiled code, hence the warm-up rounds). The model uses I2_S and F16 weights, whose
 * kernels allocate nothing either.
 */
class ForwardPassAllocationTest {
    @TempDir
    Path dir;

    @Test
    void decodingAllocatesNothingWhenWarm() {
        assumeTrue(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean,
                "needs HotSpot's per-thread allocation counter");
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Path file = dir.resolve("tiny.gguf");
        ForwardPassReferenceTest.writeTinyModel(file, Architecture.BITNET_B158, GgmlType.I2_S,
                ForwardPassReferenceTest.Heads.of(Architecture.BITNET_B158), new Random(3));
        long fewest = Long.MAX_VALUE;
        int rounds = 0;
        try (Model model = Model.load(file); WorkerPool pool = new WorkerPool(1)) {
            ForwardPass fp = model.newForwardPass(pool, 16, 128);
            int[] tokens = new int[128];
            // rounds until one allocates nothing: C2 compiles the hot paths in the background, and on a busy machine
            // its queue holds the kernels' large methods for seconds (rounds stop after a minute at most)
            long deadline = System.nanoTime() + 60_000_000_000L;
            for (int round = 0; fewest > 0 && System.nanoTime() < deadline; round++) {
                KvCache cache = new KvCache(model.config(), 128);
                fp.forward(cache, tokens, 0, 16);
                long before = mx.getCurrentThreadAllocatedBytes();
                for (int i = 16; i < 128; i++) {
                    fp.forward(cache, tokens, i, 1);
                }
                fewest = Math.min(fewest, mx.getCurrentThreadAllocatedBytes() - before);
                rounds = round + 1;
            }
        }
        assertEquals(0, fewest, "bytes allocated by 112 decode steps in the best of " + rounds + " rounds");
        System.out.println("ForwardPassAllocationTest: no allocation in round " + rounds);
    }
}
