package io.bitnet4j.model;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal grouped-query attention of one query head over the KV cache, with the reference engines' rounding:
 * Q is rounded to F16 before the K·Q products (K and V are F16 in the cache), the scores are scaled in f32, and the
 * softmax sums its exponentials in double. When a single token is decoded the probabilities are rounded to F16
 * before ·V; a batched prompt keeps them f32 (ggml takes different kernels for the two cases).
 */
final class Attention {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private Attention() {}

    /**
     * @param q       query vector (headDim values at qOff), not yet rounded
     * @param keys    layer key cache, [pos][kvDim]
     * @param kvOff   offset of this head's kv group within a position
     * @param n       number of positions to attend to (0..n-1)
     * @param scores  scratch of at least n floats
     * @param qHalf   scratch of headDim floats
     * @param out     receives headDim values at outOff
     */
    static void head(float[] q, int qOff, float[] keys, float[] values, int kvDim, int kvOff, int headDim, int n,
            float scale, boolean roundProbs, float[] scores, float[] qHalf, float[] out, int outOff) {
        for (int d = 0; d < headDim; d++) {
            qHalf[d] = Float.float16ToFloat(Float.floatToFloat16(q[qOff + d]));
        }
        float max = Float.NEGATIVE_INFINITY;
        for (int s = 0; s < n; s++) {
            float score = dot(qHalf, keys, s * kvDim + kvOff, headDim) * scale;
            scores[s] = score;
            max = Math.max(max, score);
        }
        double sum = 0;
        for (int s = 0; s < n; s++) {
            float e = (float) Math.exp(scores[s] - max);
            scores[s] = e;
            sum += e;
        }
        float inv = (float) (1.0 / sum);
        for (int s = 0; s < n; s++) {
            float p = scores[s] * inv;
            scores[s] = roundProbs ? Float.float16ToFloat(Float.floatToFloat16(p)) : p;
        }
        java.util.Arrays.fill(out, outOff, outOff + headDim, 0f);
        for (int s = 0; s < n; s++) {
            axpy(scores[s], values, s * kvDim + kvOff, out, outOff, headDim);
        }
    }

    static float dot(float[] a, float[] b, int bOff, int n) {
        int i = 0;
        FloatVector acc = FloatVector.zero(F);
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            acc = FloatVector.fromArray(F, a, i).fma(FloatVector.fromArray(F, b, bOff + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += a[i] * b[bOff + i];
        }
        return sum;
    }

    static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        int i = 0;
        FloatVector a = FloatVector.broadcast(F, alpha);
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            FloatVector.fromArray(F, x, xOff + i).fma(a, FloatVector.fromArray(F, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            y[yOff + i] += alpha * x[xOff + i];
        }
    }
}
