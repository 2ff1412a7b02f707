package io.bitnet4j.model;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal grouped-query attention of one query head over the KV cache, with the reference engines' arithmetic
 * (no flash attention, F16 KV cache):
 * <ul>
 *   <li>the attended length is padded to a multiple of {@link #KV_PAD} (llama.cpp's {@code n_kv}); padded and
 *       future positions are masked to -inf, so they only matter through where lane chunks start and end;
 *   <li>scores: Q rounded to F16, K·Q in {@code ggml_vec_dot_f16}'s order — or, for a batch in llama.cpp, in
 *       tinyBLAS's order; then {@code * 1/sqrt(headDim)} in f32;
 *   <li>softmax: {@link GgmlFloat#expAndSum} (ggml's own expf), then {@code p *= (float)(1/sum)};
 *   <li>output {@code out[d] = Σ p·V[.][d]}: one decoded token: p rounded to F16, {@code ggml_vec_dot_f16}'s
 *       order over the padded length; a batch: tinyBLAS's order with f32 p (bitnet.cpp, whose tinyBLAS takes
 *       F16×F32) or F16 p (llama.cpp, whose tinyBLAS takes F16×F16 only).
 * </ul>
 * The two summation orders (ggml-cpu.c {@code ggml_vec_dot_f16} and {@code GGML_F32x16_REDUCE} for AVX-512,
 * llamafile/sgemm.cpp {@code tinyBLAS::gemm_bloc}):
 * <ul>
 *   <li>vec_dot_f16: values [0, n - n%64) go through 4 accumulators of 16 FMA lanes (value i to accumulator
 *       (i%64)/16, lane i%16); accumulators are added lane-wise as (a0+a2)+(a1+a3) and the 16 lanes reduced by
 *       {@link GgmlFloat#reduce16}; the remaining values are added in double, one float product at a time;
 *   <li>tinyBLAS: value i goes to FMA lane i%16, the lanes are reduced by {@link GgmlFloat#reduce16}.
 * </ul>
 * Why a batch differs from one token: ggml's matmul hands batches of two or more rows to llamafile's tinyBLAS and
 * single rows to its own {@code ggml_vec_dot_f16} (see {@link ReferenceEngine}). The test tree's
 * {@code ReferenceForwardPass} computes the same with scalar loops; the vector code here must agree bit for bit.
 */
final class Attention {
    /** llama.cpp pads the attended KV length to a multiple of 32 when flash attention is off. */
    static final int KV_PAD = 32;
    /** ggml's 16 AVX-512 lanes are held as two vectors of this species (lanes 0-7 and 8-15), on any CPU. */
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    private static final int LANES = GgmlFloat.LANES;
    private static final int STEP = GgmlFloat.F16_STEP;

    private Attention() {}

    /** Scratch of one thread, allocated once. */
    static final class Scratch {
        final float[] scores;
        final float[] qHalf;
        /** P·V accumulators: one row of headDim per ggml lane (64 for vec_dot_f16, 16 for tinyBLAS). */
        final float[] slots;
        final double[] tail;
        final float[] lanes = new float[F8.length()];

        Scratch(int maxContext, int headDim) {
            scores = new float[paddedLength(maxContext)];
            qHalf = new float[headDim];
            slots = new float[STEP * headDim];
            tail = new double[headDim];
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
        boolean tinyBlasScores = batch && engine.batchScoresTinyBlas && headDim % LANES == 0;
        float max = Float.NEGATIVE_INFINITY;
        for (int pos = 0; pos < n; pos++) {
            int k = pos * kvDim + kvOff;
            float dot = tinyBlasScores
                    ? dotTinyBlas(keys, k, qHalf, headDim, s.lanes)
                    : dotF16(keys, k, qHalf, headDim, s.lanes);
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
        // Positions n..nPad-1 have p = 0 (and zeroed V in the reference engines): they add nothing, but their count
        // decides how much of ggml_vec_dot_f16 runs in lanes and how much in its double tail.
        int inLanes = batch ? n : Math.min(n, nPad - nPad % STEP);
        probabilitiesTimesValues(values, kvDim, kvOff, headDim, p, inLanes, batch ? LANES : STEP, s.slots);
        for (int d = 0; d < headDim; d++) {
            s.tail[d] = s.slots[d];
        }
        for (int pos = inLanes; pos < n; pos++) {
            for (int d = 0; d < headDim; d++) {
                s.tail[d] += values[pos * kvDim + kvOff + d] * p[pos];
            }
        }
        for (int d = 0; d < headDim; d++) {
            out[outOff + d] = (float) s.tail[d];
        }
    }

    /**
     * The lane part of P·V for every output dimension at once: position pos goes to lane row {@code pos % lanes}
     * (vec_dot_f16: 64 rows = 4 accumulators × 16 lanes; tinyBLAS: 16 rows), FMA
     * vectorised over the head dimension; then the rows are reduced in the kernels' order into row 0.
     *
     * <p>With fewer positions than lane rows (a short context) only the first {@code positions} rows receive a
     * product; the others hold +0 in the reference, and adding +0 changes nothing but the sign of a zero. So those
     * rows are neither cleared nor added, and a zero result is made +0 at the end, as the reference's additions of
     * +0 would leave it: the work follows the context length, not the lane count.
     */
    private static void probabilitiesTimesValues(float[] values, int kvDim, int kvOff, int headDim, float[] p,
            int positions, int lanes, float[] slots) {
        int rows = Math.min(positions, lanes);
        Arrays.fill(slots, 0, Math.max(1, rows) * headDim, 0f);
        for (int pos = 0; pos < positions; pos++) {
            axpy(p[pos], values, pos * kvDim + kvOff, slots, (pos % lanes) * headDim, headDim);
        }
        // rows from `rows` on hold +0 and are not added (see above); the callers skip them so that addRows itself
        // has no early exit: compiled while that exit was all C2 had seen, its vector loop now and then stayed on
        // the Vector API's allocating fallback for good
        if (lanes == STEP) { // (a0 + a2) + (a1 + a3), lane-wise
            for (int j = 0; j < LANES; j++) {
                if (2 * LANES + j < rows) {
                    addRows(slots, j, 2 * LANES + j, headDim);
                }
                if (3 * LANES + j < rows) {
                    addRows(slots, LANES + j, 3 * LANES + j, headDim);
                }
                if (LANES + j < rows) {
                    addRows(slots, j, LANES + j, headDim);
                }
            }
        }
        for (int half = LANES / 2; half >= 1; half /= 2) { // _mm512_reduce_add_ps
            for (int j = 0; j < half && j + half < rows; j++) {
                addRows(slots, j, j + half, headDim);
            }
        }
        if (rows < lanes) {
            for (int d = 0; d < headDim; d++) {
                slots[d] += 0f; // -0 + +0 = +0
            }
        }
    }

    /** y[yOff..] = fma(x[xOff..], alpha, y[yOff..]), n values. */
    private static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        int i = 0;
        FloatVector a = FloatVector.broadcast(F8, alpha);
        for (int bound = F8.loopBound(n); i < bound; i += F8.length()) {
            FloatVector.fromArray(F8, x, xOff + i).fma(a, FloatVector.fromArray(F8, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            y[yOff + i] = Math.fma(x[xOff + i], alpha, y[yOff + i]);
        }
    }

    /** Row {@code a} += row {@code b} (rows of n floats). */
    private static void addRows(float[] slots, int a, int b, int n) {
        int ao = a * n;
        int bo = b * n;
        int i = 0;
        for (int bound = F8.loopBound(n); i < bound; i += F8.length()) {
            FloatVector.fromArray(F8, slots, ao + i).add(FloatVector.fromArray(F8, slots, bo + i)).intoArray(slots, ao + i);
        }
        for (; i < n; i++) {
            slots[ao + i] += slots[bo + i];
        }
    }

    /** vec_dot_f16 of a key row and the F16 query, ggml's 16 lanes as two 8-lane vectors. */
    private static float dotF16(float[] k, int kOff, float[] q, int n, float[] tmp) {
        int np = n - n % STEP;
        FloatVector zero = FloatVector.zero(F8);
        FloatVector a0 = zero, b0 = zero, a1 = zero, b1 = zero, a2 = zero, b2 = zero, a3 = zero, b3 = zero;
        for (int i = 0; i < np; i += STEP) {
            a0 = FloatVector.fromArray(F8, k, kOff + i).fma(FloatVector.fromArray(F8, q, i), a0);
            b0 = FloatVector.fromArray(F8, k, kOff + i + 8).fma(FloatVector.fromArray(F8, q, i + 8), b0);
            a1 = FloatVector.fromArray(F8, k, kOff + i + 16).fma(FloatVector.fromArray(F8, q, i + 16), a1);
            b1 = FloatVector.fromArray(F8, k, kOff + i + 24).fma(FloatVector.fromArray(F8, q, i + 24), b1);
            a2 = FloatVector.fromArray(F8, k, kOff + i + 32).fma(FloatVector.fromArray(F8, q, i + 32), a2);
            b2 = FloatVector.fromArray(F8, k, kOff + i + 40).fma(FloatVector.fromArray(F8, q, i + 40), b2);
            a3 = FloatVector.fromArray(F8, k, kOff + i + 48).fma(FloatVector.fromArray(F8, q, i + 48), a3);
            b3 = FloatVector.fromArray(F8, k, kOff + i + 56).fma(FloatVector.fromArray(F8, q, i + 56), b3);
        }
        FloatVector lo = a0.add(a2).add(a1.add(a3));
        FloatVector hi = b0.add(b2).add(b1.add(b3));
        double sum = reduce16(lo, hi, tmp);
        for (int i = np; i < n; i++) {
            sum += k[kOff + i] * q[i];
        }
        return (float) sum;
    }

    /** tinyBLAS's dot of a key row and the F16 query ({@code n % 16 == 0}). */
    private static float dotTinyBlas(float[] k, int kOff, float[] q, int n, float[] tmp) {
        FloatVector lo = FloatVector.zero(F8);
        FloatVector hi = lo;
        for (int i = 0; i < n; i += LANES) {
            lo = FloatVector.fromArray(F8, k, kOff + i).fma(FloatVector.fromArray(F8, q, i), lo);
            hi = FloatVector.fromArray(F8, k, kOff + i + 8).fma(FloatVector.fromArray(F8, q, i + 8), hi);
        }
        return reduce16(lo, hi, tmp);
    }

    /** {@link GgmlFloat#reduce16} of lanes 0-7 in {@code lo} and 8-15 in {@code hi}. */
    private static float reduce16(FloatVector lo, FloatVector hi, float[] tmp) {
        lo.add(hi).intoArray(tmp, 0);
        return ((tmp[0] + tmp[4]) + (tmp[2] + tmp[6])) + ((tmp[1] + tmp[5]) + (tmp[3] + tmp[7]));
    }
}
