package io.bitnet4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** encode then dequantize gives the input back, within each type's own precision. */
class QuantizeTest {

    static float[] dequantizeAll(WeightMatrix m) {
        float[] all = new float[m.inFeatures() * m.outFeatures()];
        for (int r = 0; r < m.outFeatures(); r++) {
            m.dequantizeRow(r, all, r * m.inFeatures());
        }
        return all;
    }

    static WeightMatrix view(GgmlType type, byte[] bytes, int in, int out) {
        return WeightMatrix.of("t", type, new long[] {in, out}, MemorySegment.ofArray(bytes));
    }

    /** Ternary values times one scale: what a BitNet checkpoint holds. */
    static float[] ternary(Random rnd, int n, float scale) {
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = (rnd.nextInt(3) - 1) * scale;
        }
        return w;
    }

    @ParameterizedTest
    @EnumSource(names = {"I2_S", "TQ1_0", "TQ2_0"})
    void ternaryTypesAreLossless(GgmlType type) {
        int in = 512;
        int out = 3;
        float scale = 0.0672607421875f; // an fp16 value, so TQ's fp16 d is exact too
        float[] w = ternary(new Random(1), in * out, scale);
        byte[] bytes = Quantize.encode(type, w, in);
        assertEquals(type.byteSize(in, out), bytes.length);
        assertArrayEquals(w, dequantizeAll(view(type, bytes, in, out)));
    }

    @Test
    void floatTypesRoundAsTheirFormat() {
        float[] w = randomFloats(new Random(2), 64, 3f);
        assertArrayEquals(w, dequantizeAll(view(GgmlType.F32, Quantize.encode(GgmlType.F32, w, 32), 32, 2)));
        float[] f16 = dequantizeAll(view(GgmlType.F16, Quantize.encode(GgmlType.F16, w, 32), 32, 2));
        float[] bf16 = dequantizeAll(view(GgmlType.BF16, Quantize.encode(GgmlType.BF16, w, 32), 32, 2));
        for (int i = 0; i < w.length; i++) {
            assertEquals(Numerics.roundToF16(w[i]), f16[i]);
            assertEquals(Numerics.roundToBf16(w[i]), bf16[i]);
        }
    }

    @Test
    void q8_0RoundTripsWithinHalfAStep() {
        float[] w = randomFloats(new Random(3), 32 * 8, 2f);
        float[] back = dequantizeAll(view(GgmlType.Q8_0, Quantize.encode(GgmlType.Q8_0, w, 64), 64, 4));
        for (int b = 0; b < 8; b++) {
            float amax = 0;
            for (int i = 0; i < 32; i++) {
                amax = Math.max(amax, Math.abs(w[32 * b + i]));
            }
            float step = amax / 127;
            // half a step, plus up to 127 times the fp16 rounding error of the stored step (2^-11 relative)
            float bound = step * (0.5f + 127f / 2048);
            for (int i = 32 * b; i < 32 * b + 32; i++) {
                assertTrue(Math.abs(w[i] - back[i]) <= bound, "value " + i);
            }
        }
    }

    @Test
    void q6KRoundTripsWithinItsPrecision() {
        float[] w = randomFloats(new Random(4), 256 * 6, 1f);
        float[] back = dequantizeAll(view(GgmlType.Q6_K, Quantize.encode(GgmlType.Q6_K, w, 512), 512, 3));
        double err = 0;
        double norm = 0;
        for (int i = 0; i < w.length; i++) {
            err += (w[i] - back[i]) * (double) (w[i] - back[i]);
            norm += w[i] * (double) w[i];
            assertTrue(Math.abs(w[i] - back[i]) < 0.04f, "value " + i + ": " + w[i] + " -> " + back[i]);
        }
        assertTrue(Math.sqrt(err / norm) < 0.02, "relative rms error " + Math.sqrt(err / norm));
    }

    @Test
    void q6KKeepsAllZeroBlocksZero() {
        byte[] bytes = Quantize.encode(GgmlType.Q6_K, new float[256], 256);
        assertArrayEquals(new byte[210], bytes);
    }

    @Test
    void i2sTreatsTinyWeightsAsZeroAndKeepsSigns() {
        float[] w = new float[128];
        w[0] = 0.5f;
        w[1] = -0.25f;
        w[2] = 9e-7f;
        w[3] = -2f;
        byte[] bytes = Quantize.encode(GgmlType.I2_S, w, 128);
        float[] back = dequantizeAll(view(GgmlType.I2_S, bytes, 128, 1));
        assertEquals(2f, back[0]);
        assertEquals(-2f, back[1]);
        assertEquals(0f, back[2]);
        assertEquals(-2f, back[3]);
        assertEquals(0f, back[4]);
    }

    @Test
    void rejectsShapesTheTypeCannotHold() {
        assertThrows(IllegalArgumentException.class, () -> Quantize.encode(GgmlType.TQ2_0, new float[128], 128));
        assertThrows(IllegalArgumentException.class, () -> Quantize.encode(GgmlType.F16, new float[10], 3));
        assertThrows(IllegalArgumentException.class, () -> Quantize.encode(GgmlType.Q4_0, new float[32], 32));
    }

    static float[] randomFloats(Random rnd, int n, float range) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (rnd.nextFloat() * 2 - 1) * range;
        }
        return x;
    }

    /** The vectorised per-row int8 quantization equals the one-value-at-a-time reference: codes, scale and sum. */
    @Test
    void i8RowQuantizationEqualsTheReference() {
        Random rnd = new Random(3);
        for (int cols : new int[] {2560, 6912, 275, 7}) {
            java.util.List<float[]> rows = new java.util.ArrayList<>();
            rows.add(randomFloats(rnd, cols, 3f));
            rows.add(new float[cols]); // all zero: the 1e-5 floor
            float[] ties = new float[cols];
            for (int i = 0; i < cols; i++) {
                ties[i] = (i % 9 - 4) * 0.5f; // max 2: s = 63.5, so x*s lands on halves (ties to even)
            }
            rows.add(ties);
            float[] wide = randomFloats(rnd, cols, 1e-3f);
            wide[cols / 2] = -3e4f; // one large value, the rest rounding to 0 or -1
            rows.add(wide);
            float[] nan = randomFloats(rnd, cols, 1f);
            nan[cols - 1] = Float.NaN;
            rows.add(nan);
            float[] inf = randomFloats(rnd, cols, 1f);
            inf[0] = Float.NEGATIVE_INFINITY;
            rows.add(inf);
            for (float[] row : rows) {
                Activations fast = new Activations(ActivationFormat.I8_ROW, cols, 1);
                Activations plain = new Activations(ActivationFormat.I8_ROW, cols, 1);
                fast.quantize(row, 0, 0);
                plain.quantizeI8RowReference(row, 0, 0);
                assertArrayEquals(plain.q, fast.q, "codes, row length " + cols);
                assertEquals(plain.scales[0], fast.scales[0], "scale, row length " + cols);
                assertEquals(plain.sums[0], fast.sums[0], "code sum, row length " + cols);
            }
        }
    }
}
