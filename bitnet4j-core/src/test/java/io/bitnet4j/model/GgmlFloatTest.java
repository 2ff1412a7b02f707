package io.bitnet4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * ggml's expf is an approximation (documented max error 1.45 + 0.5 ulp) with ggml's own overflow/underflow cut-offs;
 * whether it reproduces ggml bit for bit is shown by the oracle test, these check that the port is an exp at all.
 */
class GgmlFloatTest {
    @Test
    void expfIsWithinTwoUlpsOfExp() {
        int differing = 0;
        int n = 0;
        for (float x = -87f; x <= 88f; x += 0.0137f, n++) {
            float exact = (float) StrictMath.exp(x);
            float approx = GgmlFloat.expf(x);
            assertTrue(Math.abs(approx - exact) <= 2 * Math.ulp(exact), "expf(" + x + ") = " + approx + ", exp = " + exact);
            if (approx != exact) {
                differing++;
            }
        }
        // about half its results are an ulp off a correctly rounded exp; using Math.exp in the softmax instead moves
        // the oracle logits by up to 2e-2 (measured), which is why it is ported rather than replaced
        assertTrue(differing > n / 10, differing + " of " + n + " differ");
    }

    @Test
    void expfCutOffsAsGgml() {
        assertEquals(1f, GgmlFloat.expf(0f));
        assertEquals(0f, GgmlFloat.expf(Float.NEGATIVE_INFINITY));
        assertEquals(0f, GgmlFloat.expf(-200f));
        assertEquals(Float.POSITIVE_INFINITY, GgmlFloat.expf(200f));
    }

    @Test
    void reduce16AddsHalvesPairwise() {
        float[] lanes = new float[16];
        lanes[0] = 1e8f;
        lanes[8] = -1e8f;
        lanes[1] = 1f;
        // (1e8 + -1e8) first, so the 1 survives; a left-to-right sum would lose it in 1e8 + 1
        assertEquals(1f, GgmlFloat.reduce16(lanes, 0));
    }

    @Test
    void softmaxSumCoversPaddedChunksWithZeros() {
        float[] p = new float[32];
        java.util.Arrays.fill(p, Float.NEGATIVE_INFINITY);
        p[0] = 0f;
        p[1] = (float) Math.log(3);
        double sum = GgmlFloat.expAndSum(p, 32, p[1]);
        assertEquals(0f, p[20]);
        assertEquals(1.0 + GgmlFloat.expf(-(float) Math.log(3)), sum, 0.0);
    }

    @Test
    void vectorSoftmaxEqualsTheScalarOneBitForBit() {
        java.util.Random r = new java.util.Random(7);
        // ordinary scores, ones far below the max (subnormal and zero results), the cut-offs, -inf padding, NaN
        float[] special = {0f, -0f, -87.3f, -88.7f, -100f, -103.9f, -125.5f, -150f, -191.9f, -192.1f, -500f,
                Float.NEGATIVE_INFINITY, 88.5f, 150f, 200f, Float.NaN, Float.MIN_VALUE, -Float.MAX_VALUE};
        for (int round = 0; round < 20_000; round++) { // enough calls for C2 to compile the vector form
            int n = 1 + r.nextInt(80);
            float[] p = new float[n];
            for (int i = 0; i < n; i++) {
                p[i] = r.nextInt(6) == 0 ? special[r.nextInt(special.length)] : (float) (r.nextGaussian() * 8);
            }
            float max = round % 3 == 0 ? 0f : p[r.nextInt(n)];
            float[] ref = p.clone();
            double expected = GgmlFloat.expAndSumReference(ref, n, max);
            double actual = GgmlFloat.expAndSum(p, n, max);
            assertEquals(Double.doubleToLongBits(expected), Double.doubleToLongBits(actual), // any NaN equals any NaN
                    "sum, round " + round);
            for (int i = 0; i < n; i++) {
                assertEquals(Float.floatToIntBits(ref[i]), Float.floatToIntBits(p[i]), "round " + round + " value " + i);
            }
        }
    }
}
