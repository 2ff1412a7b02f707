package io.bitnet4j.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteOrder;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link StreamBench}'s two shapes timed by the thread's CPU time as well as wall time: on a machine shared with
 * other jobs the CPU time of the measuring thread is the steadier figure (it still sees their cache and memory
 * traffic). Alongside, a plain vector read of the same I2_S matrices gives the memory ceiling of the moment.
 * Run: {@code java --add-modules jdk.incubator.vector -cp benchmarks.jar io.bitnet4j.tensor.StreamThroughput
 * [tokens] [seconds]}.
 */
public final class StreamThroughput {
    private StreamThroughput() {}

    public static void main(String[] args) {
        int tokens = args.length > 0 ? Integer.parseInt(args[0]) : 1;
        double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 3;
        StreamBench bench = new StreamBench();
        bench.tokens = tokens;
        bench.setUp();
        try {
            double weights = (double) StreamBench.FFN * StreamBench.HIDDEN * tokens;
            double headBytes = GgmlType.F16.byteSize(StreamBench.HIDDEN, StreamBench.VOCAB);
            for (int round = 0; round < 2; round++) {
                String warm = round == 0 ? "warm-up  " : "measured ";
                double[] read = time(() -> readAll(bench), seconds);
                double bytes = (double) I2S_BYTES * StreamBench.I2S_MATRICES;
                System.out.printf("%s plain read of the I2_S matrices: %.1f GB/s (CPU time), %.1f (wall)%n",
                        warm, bytes / read[0], bytes / read[1]);
                double[] i2s = time(bench::i2s, seconds);
                System.out.printf("%s I2_S 6912x2560, %d token(s): %.1f G weights/s (CPU time), %.1f (wall)%n",
                        warm, tokens, weights / i2s[0], weights / i2s[1]);
                double[] f16 = time(bench::f16Head, seconds);
                System.out.printf("%s F16 head 128256x2560, %d token(s): %.1f GB/s (CPU time), %.1f (wall)%n",
                        warm, tokens, headBytes / f16[0], headBytes / f16[1]);
            }
        } finally {
            bench.tearDown();
        }
    }

    private static final long I2S_BYTES = (long) StreamBench.FFN * StreamBench.HIDDEN / 4;
    private static final VectorSpecies<Long> L = LongVector.SPECIES_PREFERRED;
    static long sink;

    /** Sums every packed byte of the I2_S matrices as longs: the cost of only reading them. */
    private static void readAll(StreamBench bench) {
        LongVector acc = LongVector.zero(L);
        for (WeightMatrix m : bench.i2sMatrices()) {
            MemorySegment data = m.data();
            for (long i = 0; i + L.vectorByteSize() <= I2S_BYTES; i += L.vectorByteSize()) {
                acc = acc.add(LongVector.fromMemorySegment(L, data, i, ByteOrder.LITTLE_ENDIAN));
            }
        }
        sink += acc.reduceLanes(VectorOperators.ADD);
    }

    /** Nanoseconds per call, by thread CPU time and by wall time. */
    private static double[] time(Runnable op, double seconds) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long cpu0 = threads.getCurrentThreadCpuTime();
        long wall0 = System.nanoTime();
        long calls = 0;
        do {
            op.run();
            calls++;
        } while (System.nanoTime() - wall0 < seconds * 1e9);
        long cpu = threads.getCurrentThreadCpuTime() - cpu0;
        long wall = System.nanoTime() - wall0;
        return new double[] {(double) cpu / calls, (double) wall / calls};
    }
}
