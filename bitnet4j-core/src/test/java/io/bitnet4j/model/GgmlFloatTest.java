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
}
