package io.bitnet4j.model;

import java.util.Arrays;

/**
 * Causal grouped-query attention of one query head over the KV cache, with the reference engines' arithmetic
 * (no flash attention, F16 KV cache):
 * <ul>
 *   <li>the attended length is padded to a multiple of {@link #KV_PAD} (llama.cpp's {@code n_kv}); padded and
 *       future positions are masked to -inf, so they only matter through where 16-lane chunks start and end;
 *   <li>scores: Q rounded to F16, K·Q with {@link GgmlFloat#dotF16} — or, for a batch in llama.cpp, tinyBLAS
 *       ({@link GgmlFloat#dotTinyBlas}); then {@code * 1/sqrt(headDim)} in f32;
 *   <li>softmax: {@link GgmlFloat#expAndSum} (ggml's own expf), {@code p *= (float)(1/sum)};
 *   <li>output {@code out[d] = Σ p·V[.][d]}: one decoded token: p rounded to F16 and {@link GgmlFloat#dotF16};
 *       a batch: tinyBLAS with f32 p (bitnet.cpp, whose tinyBLAS takes F16×F32) or F16 p (llama.cpp, whose
 *       tinyBLAS takes F16×F16 only).
 * </ul>
 * Why the batch differs from one token: ggml's matmul hands batches of two or more rows to llamafile's tinyBLAS
 * and single rows to its own {@code ggml_vec_dot_f16}, and the two sum in different orders (see
 * {@link ReferenceEngine}).
 */
final class Attention {
    /** llama.cpp pads the attended KV length to a multiple of 32 when flash attention is off. */
    static final int KV_PAD = 32;

    private Attention() {}

    /** Scratch of one thread. */
    static final class Scratch {
        final float[] scores;
        final float[] qHalf;
        final float[] lanes = new float[GgmlFloat.F16_STEP];

        Scratch(int maxContext, int headDim) {
            scores = new float[paddedLength(maxContext)];
            qHalf = new float[headDim];
        }
    }

    static int paddedLength(int n) {
        return (n + KV_PAD - 1) / KV_PAD * KV_PAD;
    }

    /**
     * @param q       query vector (headDim values at qOff), not yet rounded
     * @param keys    layer key cache, [pos][kvDim], values already F16
     * @param kvOff   offset of this head's kv group within a position
     * @param n       number of positions attended to (0..n-1)
     * @param batch   whether this token is part of a batch of two or more (see class comment)
     * @param out     receives headDim values at outOff
     */
    static void head(ReferenceEngine engine, float[] q, int qOff, float[] keys, float[] values, int kvDim, int kvOff,
            int headDim, int n, float scale, boolean batch, Scratch s, float[] out, int outOff) {
        float[] qHalf = s.qHalf;
        float[] p = s.scores;
        for (int d = 0; d < headDim; d++) {
            qHalf[d] = Float.float16ToFloat(Float.floatToFloat16(q[qOff + d]));
        }
        boolean tinyBlasScores = batch && engine.batchScoresTinyBlas && headDim % GgmlFloat.LANES == 0;
        float max = Float.NEGATIVE_INFINITY;
        for (int pos = 0; pos < n; pos++) {
            int k = pos * kvDim + kvOff;
            float dot = tinyBlasScores
                    ? GgmlFloat.dotTinyBlas(keys, k, 1, qHalf, 0, headDim, s.lanes)
                    : GgmlFloat.dotF16(keys, k, 1, qHalf, 0, headDim, headDim, s.lanes);
            p[pos] = dot * scale;
            max = Math.max(max, p[pos]);
        }
        int nPad = paddedLength(n);
        Arrays.fill(p, n, nPad, Float.NEGATIVE_INFINITY);
        float inv = (float) (1.0 / GgmlFloat.expAndSum(p, nPad, max));
        boolean roundProbs = !batch || engine.batchProbsF16;
        for (int pos = 0; pos < n; pos++) {
            float v = p[pos] * inv;
            p[pos] = roundProbs ? Float.float16ToFloat(Float.floatToFloat16(v)) : v;
        }
        for (int d = 0; d < headDim; d++) {
            int v = kvOff + d;
            // positions n..nPad-1 have p = 0 (and zeroed V in the reference engines): they add nothing, but
            // their count decides how much of ggml_vec_dot_f16 runs in lanes and how much in the double tail
            out[outOff + d] = batch
                    ? GgmlFloat.dotTinyBlas(values, v, kvDim, p, 0, n, s.lanes)
                    : GgmlFloat.dotF16(values, v, kvDim, p, 0, n, nPad, s.lanes);
        }
    }
}
