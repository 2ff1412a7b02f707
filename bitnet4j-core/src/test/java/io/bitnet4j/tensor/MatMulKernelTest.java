package io.bitnet4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every type's fast {@link WeightMatrix#matMul} against its scalar {@link BaseMatrix#matMulReference}: bit for bit
 * for the ternary types and Q6_K (their references follow ggml's rounding order, which the next layer's int8
 * re-quantization makes visible) and Q8_0 (whose kernel must not depend on an unspecified lane-reduction order),
 * within a summation-order tolerance for the float ones.
 */
class MatMulKernelTest {
    static final GgmlType[] TYPES = {GgmlType.I2_S, GgmlType.TQ2_0, GgmlType.TQ1_0, GgmlType.F16, GgmlType.BF16,
            GgmlType.F32, GgmlType.Q8_0, GgmlType.Q6_K};

    static boolean ternary(GgmlType type) {
        return type == GgmlType.I2_S || type == GgmlType.TQ2_0 || type == GgmlType.TQ1_0;
    }

    /**
     * Fast kernels equal to their reference bit for bit: the ternary types (exact integer sums) and the types whose
     * reference follows ggml's lane order (Q6_K and F16 heads), so the logits stay the reference engines'.
     */
    static boolean exact(GgmlType type) {
        return ternary(type) || type == GgmlType.Q6_K || type == GgmlType.F16 || type == GgmlType.Q8_0;
    }

    static BaseMatrix matrix(GgmlType type, float[] w, int in) {
        byte[] bytes = Quantize.encode(type, w, in);
        return (BaseMatrix) WeightMatrix.of("w", type, new long[] {in, w.length / in}, MemorySegment.ofArray(bytes));
    }

    /** Weights the type holds naturally: ternary times a scale for the ternary types, uniform floats otherwise. */
    static float[] weights(GgmlType type, Random rnd, int n) {
        return ternary(type) ? QuantizeTest.ternary(rnd, n, 0.0672607421875f) : QuantizeTest.randomFloats(rnd, n, 1f);
    }

    static Activations activations(ActivationFormat format, float[][] rows) {
        Activations x = new Activations(format, rows[0].length, rows.length);
        for (int t = 0; t < rows.length; t++) {
            x.quantize(rows[t], 0, t);
        }
        x.setRows(rows.length);
        return x;
    }

    static float[][] randomRows(Random rnd, int tokens, int cols) {
        float[][] rows = new float[tokens][];
        for (int t = 0; t < tokens; t++) {
            rows[t] = QuantizeTest.randomFloats(rnd, cols, 3f);
        }
        return rows;
    }

    /** Runs both products over rows [from, to) of every token and compares them. */
    static void assertFastMatchesReference(BaseMatrix m, Activations x, int from, int to) {
        int stride = m.outFeatures() + 3;
        float[] ref = new float[x.rows() * stride];
        float[] fast = new float[x.rows() * stride];
        Arrays.fill(ref, Float.NaN);
        Arrays.fill(fast, Float.NaN);
        m.matMulReference(x, ref, stride, from, to);
        m.matMul(x, fast, stride, from, to);
        for (int t = 0; t < x.rows(); t++) {
            for (int r = 0; r < stride; r++) {
                float want = ref[t * stride + r];
                float got = fast[t * stride + r];
                String where = m.type() + " " + m.inFeatures() + "x" + m.outFeatures() + " token " + t + "/"
                        + x.rows() + " row " + r + " of [" + from + ", " + to + ")";
                if (r < from || r >= to) {
                    assertTrue(Float.isNaN(got), where + " was written");
                } else if (exact(m.type()) || !Float.isFinite(want)) {
                    assertEquals(want, got, 0f, where);
                } else {
                    assertEquals(want, got, 2e-5f * Math.max(1f, Math.abs(want)) + 1e-6f * norm(m, x, t, r), where);
                }
            }
        }
    }

    /** Σ|w*x| of one product: the scale of its rounding error, whatever the order of summation. */
    static float norm(BaseMatrix m, Activations x, int t, int r) {
        float[] w = new float[m.inFeatures()];
        m.dequantizeRow(r, w, 0);
        double sum = 0;
        for (int i = 0; i < w.length; i++) {
            double xi = switch (x.format()) {
                case F32, F16, BF16 -> x.value(t, i);
                case I8_ROW -> x.code(t, i) / x.rowScale(t);
                default -> x.code(t, i) * x.blockScale(t, i);
            };
            sum += Math.abs(w[i] * xi);
        }
        return (float) sum;
    }

    @ParameterizedTest
    @EnumSource(names = {"I2_S", "TQ2_0", "TQ1_0", "F16", "BF16", "F32", "Q8_0", "Q6_K"})
    void batchesOfOneToNineTokensOverOddRowRanges(GgmlType type) {
        Random rnd = new Random(type.ordinal());
        // 768 = 3 blocks of 256: a whole number of 512-bit chunks for I2_S plus a half chunk
        // F32/F16/BF16 rows need not fill a vector: 275 leaves a scalar tail
        int[] lengths = type.blockSize == 1 ? new int[] {275, 256, 2560} : new int[] {256, 768, 2560};
        for (int in : lengths) {
            int out = 37;
            BaseMatrix m = matrix(type, weights(type, rnd, in * out), in);
            for (int tokens = 1; tokens <= 9; tokens++) {
                Activations x = activations(m.activationFormat(), randomRows(rnd, tokens, in));
                assertFastMatchesReference(m, x, 0, out);
                assertFastMatchesReference(m, x, 3, 22);
                assertFastMatchesReference(m, x, 36, 37);
                assertFastMatchesReference(m, x, 5, 5);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"I2_S", "TQ2_0", "TQ1_0", "F16", "BF16", "F32", "Q8_0", "Q6_K"})
    void extremeActivationsAndZeroRows(GgmlType type) {
        Random rnd = new Random(100 + type.ordinal());
        int in = 1024;
        int out = 19;
        float[] w = weights(type, rnd, in * out);
        Arrays.fill(w, 4 * in, 5 * in, 0f); // row 4 all zero
        BaseMatrix m = matrix(type, w, in);
        float[][] rows = new float[5][in];
        Arrays.fill(rows[0], 1f); // every code +127 (Q8_K: -127)
        Arrays.fill(rows[1], -1f); // every code -127 (Q8_K: +127)
        for (int i = 0; i < in; i++) {
            rows[2][i] = i % 2 == 0 ? 1f : -1.0079f; // -128 for I8_ROW next to +127
            rows[3][i] = rnd.nextInt(3) - 1; // sparse
        }
        // rows[4] all zero
        Activations x = activations(m.activationFormat(), rows);
        assertFastMatchesReference(m, x, 0, out);
        assertFastMatchesReference(m, x, 1, 18);
    }

    @ParameterizedTest
    @EnumSource(names = {"I2_S", "TQ2_0", "TQ1_0", "F16", "BF16", "F32", "Q8_0", "Q6_K"})
    void threadsSplittingRowsLikeTheForwardPassGetTheReferenceResult(GgmlType type) throws Exception {
        Random rnd = new Random(200 + type.ordinal());
        int in = 512;
        int out = 16 * 7 + 5;
        BaseMatrix m = matrix(type, weights(type, rnd, in * out), in);
        for (int tokens : new int[] {1, 6}) {
            // a buffer sized for more tokens than it holds, with stale rows after the prepared ones
            Activations x = new Activations(m.activationFormat(), in, tokens + 4);
            float[][] rows = randomRows(rnd, tokens + 4, in);
            for (int t = 0; t < rows.length; t++) {
                x.quantize(rows[t], 0, t);
            }
            x.setRows(tokens);
            float[] ref = new float[tokens * out];
            float[] fast = new float[tokens * out];
            m.matMulReference(x, ref, out, 0, out);
            int split = 16 * 4;
            Thread other = Thread.ofPlatform().start(() -> m.matMul(x, fast, out, split, out));
            m.matMul(x, fast, out, 0, split);
            other.join();
            for (int i = 0; i < ref.length; i++) {
                float tolerance = exact(type) ? 0f : 2e-5f * Math.max(1f, Math.abs(ref[i])) + 1e-6f * norm(m, x,
                        i / out, i % out);
                assertEquals(ref[i], fast[i], tolerance, type + " value " + i);
            }
        }
    }

    @Test
    void i2sLongRowsFlushTheirInt16SumsBeforeTheyOverflow() {
        // 6912 values (the 2B-4T FFN width): every weight +1 (code 2) or -1 (code 0), activations at the int8 limits
        int in = 6912;
        int out = 5;
        float[] w = new float[in * out];
        Arrays.fill(w, 1f);
        Arrays.fill(w, in, 2 * in, -1f);
        BaseMatrix m = matrix(GgmlType.I2_S, w, in);
        float[][] rows = new float[3][in];
        Arrays.fill(rows[0], -1f);
        Arrays.fill(rows[1], 1f);
        Activations x = activations(ActivationFormat.I8_ROW, rows);
        // quantize never rounds to -128 (the absmax maps to 127), but its clamp allows it: set the codes directly
        for (int i = 0; i < in; i++) {
            setI8Code(x, 2, i, -128);
        }
        assertEquals(-127, x.code(0, 1));
        assertFastMatchesReference(m, x, 0, out);
    }

    @Test
    void i2sUnusedCode3CountsAsTheReferenceCountsIt() {
        int in = 2560 + 128;
        byte[] bytes = new byte[Math.toIntExact(GgmlType.I2_S.byteSize(in, 3))];
        Arrays.fill(bytes, 0, in * 3 / 4, (byte) 0xff); // every code 3
        MemorySegment.ofArray(bytes).set(Numerics.LE_FLOAT, in * 3 / 4, 0.5f);
        BaseMatrix m = (BaseMatrix) WeightMatrix.of("w", GgmlType.I2_S, new long[] {in, 3}, MemorySegment.ofArray(bytes));
        float[][] rows = new float[1][in];
        Arrays.fill(rows[0], -1f);
        Activations x = activations(ActivationFormat.I8_ROW, rows);
        for (int i = 0; i < in; i += 3) {
            setI8Code(x, 0, i, -128);
        }
        assertFastMatchesReference(m, x, 0, 3);
    }

    /** Overwrites one I8_ROW code, keeping the row sum and the kernels' forms consistent. */
    static void setI8Code(Activations x, int t, int i, int v) {
        int at = t * x.cols() + i;
        x.sums[t] += v - x.q[at];
        x.q[at] = (byte) v;
        x.setRows(x.rows()); // rebuilds the lookup tables of a single row and the I2_S form on its next use
    }

    @Test
    void f16InfinitiesAndNaNsGiveTheReferenceResult() {
        Random rnd = new Random(7);
        int in = 256 + 16 + 3; // a vector tail too
        int out = 9;
        float[] w = QuantizeTest.randomFloats(rnd, in * out, 1f);
        w[in + 5] = Float.POSITIVE_INFINITY;
        w[3 * in + in - 1] = Float.NEGATIVE_INFINITY; // in the scalar tail
        w[6 * in + 100] = Float.NaN;
        w[7 * in + 7] = 65504f; // the largest half: finite
        w[8 * in + 8] = 6e-8f; // subnormal halves
        w[8 * in + 9] = -3e-6f;
        BaseMatrix m = matrix(GgmlType.F16, w, in);
        for (int tokens : new int[] {1, 5}) {
            Activations x = activations(ActivationFormat.F16, randomRows(rnd, tokens, in));
            assertFastMatchesReference(m, x, 0, out);
        }
    }

    /**
     * The kernel converts halves with shifts and a mask, from the low and the high 16 bits of 32-bit lanes alike:
     * every finite half (both signs, subnormals, zeros, the largest), at even and at odd columns, must give the
     * reference's product.
     */
    @Test
    void f16EveryFiniteHalfGivesTheReferenceResult() {
        Random rnd = new Random(11);
        int in = 2560;
        int halves = 2 * 0x7c00; // the finite patterns 0x0000-0x7bff, with either sign
        int out = (halves + in / 2 - 1) / (in / 2) * 2; // each pattern at an even and at an odd column
        byte[] bytes = new byte[in * out * 2];
        int at = 0;
        for (int copy = 0; copy < 2; copy++) {
            for (int h = 0; h < halves; h++) {
                int bits = h % 0x7c00 | (h >= 0x7c00 ? 0x8000 : 0);
                int col = at % (in / 2) * 2 + copy; // even columns first, then the same patterns at odd ones
                int row = at / (in / 2) + copy * (out / 2);
                int i = (row * in + col) * 2;
                bytes[i] = (byte) bits;
                bytes[i + 1] = (byte) (bits >>> 8);
                at = (at + 1) % (out / 2 * (in / 2));
            }
        }
        BaseMatrix m = (BaseMatrix) WeightMatrix.of("w", GgmlType.F16, new long[] {in, out},
                MemorySegment.ofArray(bytes));
        for (int tokens : new int[] {1, 2}) {
            Activations x = activations(ActivationFormat.F16, randomRows(rnd, tokens, in));
            assertFastMatchesReference(m, x, 0, out);
        }
    }

    @Test
    void i2sKernelOrderIsAPermutation() {
        for (int in : new int[] {128, 256, 384, 2560, 6912}) {
            int[] order = I2sMatrix.kernelOrder(in);
            int[] sorted = order.clone();
            Arrays.sort(sorted);
            for (int i = 0; i < in; i++) {
                assertEquals(i, sorted[i], "row length " + in);
            }
        }
    }
}
