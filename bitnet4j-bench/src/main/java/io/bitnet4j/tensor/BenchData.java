package io.bitnet4j.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

/** The inputs the kernel benchmarks share: random weights a type holds naturally, off-heap copies, one token. */
final class BenchData {
    private BenchData() {}

    static boolean ternary(GgmlType t) {
        return t == GgmlType.I2_S || t == GgmlType.TQ1_0 || t == GgmlType.TQ2_0;
    }

    /** {@code out} rows of {@code in} random weights (-1, 0, +1 for the ternary types, else uniform in [-1, 1)), encoded. */
    static byte[] weights(GgmlType t, int in, int out, Random rnd) {
        float[] w = new float[Math.multiplyExact(in, out)];
        for (int i = 0; i < w.length; i++) {
            w[i] = ternary(t) ? rnd.nextInt(3) - 1 : rnd.nextFloat() * 2 - 1;
        }
        return Quantize.encode(t, w, in);
    }

    /** A 64-byte-aligned off-heap copy of {@code bytes}, as a mapped file's tensor would be. */
    static MemorySegment offHeap(Arena arena, byte[] bytes) {
        MemorySegment data = arena.allocate(bytes.length, 64);
        data.copyFrom(MemorySegment.ofArray(bytes));
        return data;
    }

    /** One prepared token of {@code in} Gaussian values in {@code format}. */
    static Activations oneToken(ActivationFormat format, int in, Random rnd) {
        Activations x = new Activations(format, in, 1);
        float[] row = new float[in];
        for (int i = 0; i < in; i++) {
            row[i] = (float) rnd.nextGaussian();
        }
        x.quantize(row, 0, 0);
        x.setRows(1);
        return x;
    }
}
