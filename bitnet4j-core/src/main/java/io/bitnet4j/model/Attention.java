package io.bitnet4j.model;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
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
        if (tinyBlasScores) {
            scoresTinyBlas(keys, kvDim, kvOff, qHalf, headDim, n, scale, p);
        } else {
            scoresF16(keys, kvDim, kvOff, qHalf, headDim, n, scale, p);
        }
        float max = Float.NEGATIVE_INFINITY;
        for (int pos = 0; pos < n; pos++) {
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
        if (headDim % BLOCK_DIMS == 0) {
            for (int first = 0; first < rows; first += BLOCK_ROWS) {
                accumulateRows(values, kvDim, kvOff, headDim, p, positions, lanes, first, slots);
            }
            if (rows == 0) {
                Arrays.fill(slots, 0, headDim, 0f);
            }
        } else {
            Arrays.fill(slots, 0, Math.max(1, rows) * headDim, 0f);
            for (int pos = 0; pos < positions; pos++) {
                axpy(p[pos], values, pos * kvDim + kvOff, slots, (pos % lanes) * headDim, headDim);
            }
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

    /** Lane rows and value dimensions one {@link #accumulateRows} call keeps in registers: 4 × 4 vectors of 8. */
    private static final int BLOCK_ROWS = 4;
    private static final int BLOCK_DIMS = 4 * 8;

    /**
     * Lane rows {@code first .. first+3} of {@link #probabilitiesTimesValues}: row r is the FMA chain over positions
     * r, r + lanes, r + 2·lanes, ... (below {@code positions}), in that order, as the one-position-at-a-time form
     * computes it, but 32 dimensions at a time with the 4 rows' accumulators in registers: each position's
     * probability is broadcast once for 4 vectors, and no row is stored and reloaded per position (16 lane rows × 8
     * dimensions at a time took 16.8 ns per position for a 128-dimension head, this 10.7, alternating in one
     * process). A last group of fewer than 4 positions is added to the stored rows one position at a time. The 16
     * accumulators are spelled out: vectors held in an array, or passed to a helper, would be boxed.
     */
    private static void accumulateRows(float[] values, int kvDim, int kvOff, int headDim, float[] p, int positions,
            int lanes, int first, float[] slots) {
        int full = first;
        while (full + BLOCK_ROWS <= positions) {
            full += lanes;
        }
        for (int d = 0; d < headDim; d += BLOCK_DIMS) {
            FloatVector z = FloatVector.zero(F8);
            FloatVector r00 = z, r01 = z, r02 = z, r03 = z, r10 = z, r11 = z, r12 = z, r13 = z;
            FloatVector r20 = z, r21 = z, r22 = z, r23 = z, r30 = z, r31 = z, r32 = z, r33 = z;
            for (int b = first; b < full; b += lanes) {
                int o = b * kvDim + kvOff + d;
                FloatVector p0 = FloatVector.broadcast(F8, p[b]);
                r00 = FloatVector.fromArray(F8, values, o).fma(p0, r00);
                r01 = FloatVector.fromArray(F8, values, o + 8).fma(p0, r01);
                r02 = FloatVector.fromArray(F8, values, o + 16).fma(p0, r02);
                r03 = FloatVector.fromArray(F8, values, o + 24).fma(p0, r03);
                o += kvDim;
                FloatVector p1 = FloatVector.broadcast(F8, p[b + 1]);
                r10 = FloatVector.fromArray(F8, values, o).fma(p1, r10);
                r11 = FloatVector.fromArray(F8, values, o + 8).fma(p1, r11);
                r12 = FloatVector.fromArray(F8, values, o + 16).fma(p1, r12);
                r13 = FloatVector.fromArray(F8, values, o + 24).fma(p1, r13);
                o += kvDim;
                FloatVector p2 = FloatVector.broadcast(F8, p[b + 2]);
                r20 = FloatVector.fromArray(F8, values, o).fma(p2, r20);
                r21 = FloatVector.fromArray(F8, values, o + 8).fma(p2, r21);
                r22 = FloatVector.fromArray(F8, values, o + 16).fma(p2, r22);
                r23 = FloatVector.fromArray(F8, values, o + 24).fma(p2, r23);
                o += kvDim;
                FloatVector p3 = FloatVector.broadcast(F8, p[b + 3]);
                r30 = FloatVector.fromArray(F8, values, o).fma(p3, r30);
                r31 = FloatVector.fromArray(F8, values, o + 8).fma(p3, r31);
                r32 = FloatVector.fromArray(F8, values, o + 16).fma(p3, r32);
                r33 = FloatVector.fromArray(F8, values, o + 24).fma(p3, r33);
            }
            int o = first * headDim + d;
            r00.intoArray(slots, o);
            r01.intoArray(slots, o + 8);
            r02.intoArray(slots, o + 16);
            r03.intoArray(slots, o + 24);
            o += headDim;
            r10.intoArray(slots, o);
            r11.intoArray(slots, o + 8);
            r12.intoArray(slots, o + 16);
            r13.intoArray(slots, o + 24);
            o += headDim;
            r20.intoArray(slots, o);
            r21.intoArray(slots, o + 8);
            r22.intoArray(slots, o + 16);
            r23.intoArray(slots, o + 24);
            o += headDim;
            r30.intoArray(slots, o);
            r31.intoArray(slots, o + 8);
            r32.intoArray(slots, o + 16);
            r33.intoArray(slots, o + 24);
        }
        for (int pos = full; pos < Math.min(positions, full + BLOCK_ROWS); pos++) {
            axpy(p[pos], values, pos * kvDim + kvOff, slots, (pos % lanes) * headDim, headDim);
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

    /**
     * {@code p[pos] = (K[pos] · q) * scale} for positions [0, positions), each dot in vec_dot_f16's order, ggml's 16
     * lanes as two 8-lane vectors (a_j lanes 0-7, b_j lanes 8-15 of accumulator j). The lanes are reduced with
     * shuffles in {@link GgmlFloat#reduce16}'s tree: lane k + lane k+8 (a + b), then +4, +2, +1. (Two positions
     * at a time sharing each load of q came out slower: 15.6-17.1 against 11-13 ns per position.)
     */
    private static void scoresF16(float[] keys, int kvDim, int kvOff, float[] q, int headDim, int positions, float scale,
            float[] p) {
        int np = headDim - headDim % STEP;
        for (int pos = 0; pos < positions; pos++) {
            int k = pos * kvDim + kvOff;
            FloatVector zero = FloatVector.zero(F8);
            FloatVector a0 = zero, b0 = zero, a1 = zero, b1 = zero, a2 = zero, b2 = zero, a3 = zero, b3 = zero;
            for (int i = 0; i < np; i += STEP) {
                a0 = FloatVector.fromArray(F8, keys, k + i).fma(FloatVector.fromArray(F8, q, i), a0);
                b0 = FloatVector.fromArray(F8, keys, k + i + 8).fma(FloatVector.fromArray(F8, q, i + 8), b0);
                a1 = FloatVector.fromArray(F8, keys, k + i + 16).fma(FloatVector.fromArray(F8, q, i + 16), a1);
                b1 = FloatVector.fromArray(F8, keys, k + i + 24).fma(FloatVector.fromArray(F8, q, i + 24), b1);
                a2 = FloatVector.fromArray(F8, keys, k + i + 32).fma(FloatVector.fromArray(F8, q, i + 32), a2);
                b2 = FloatVector.fromArray(F8, keys, k + i + 40).fma(FloatVector.fromArray(F8, q, i + 40), b2);
                a3 = FloatVector.fromArray(F8, keys, k + i + 48).fma(FloatVector.fromArray(F8, q, i + 48), a3);
                b3 = FloatVector.fromArray(F8, keys, k + i + 56).fma(FloatVector.fromArray(F8, q, i + 56), b3);
            }
            FloatVector v = a0.add(a2).add(a1.add(a3)).add(b0.add(b2).add(b1.add(b3)));
            v = v.add(v.rearrange(DOWN4));
            v = v.add(v.rearrange(DOWN2));
            float lanes = v.add(v.rearrange(DOWN1)).lane(0);
            if (np == headDim) {
                p[pos] = lanes * scale;
            } else { // the leftovers added in double, as vec_dot_f16 adds them
                double sum = lanes;
                for (int i = np; i < headDim; i++) {
                    sum += keys[k + i] * q[i];
                }
                p[pos] = (float) sum * scale;
            }
        }
    }

    /**
     * {@code p[pos] = (K[pos] · q) * scale} for positions [0, positions), each dot in tinyBLAS's order
     * ({@code headDim % 16 == 0}).
     */
    private static void scoresTinyBlas(float[] keys, int kvDim, int kvOff, float[] q, int headDim, int positions, float scale,
            float[] p) {
        for (int pos = 0; pos < positions; pos++) {
            int k = pos * kvDim + kvOff;
            FloatVector lo = FloatVector.zero(F8);
            FloatVector hi = lo;
            for (int i = 0; i < headDim; i += LANES) {
                lo = FloatVector.fromArray(F8, keys, k + i).fma(FloatVector.fromArray(F8, q, i), lo);
                hi = FloatVector.fromArray(F8, keys, k + i + 8).fma(FloatVector.fromArray(F8, q, i + 8), hi);
            }
            FloatVector v = lo.add(hi);
            v = v.add(v.rearrange(DOWN4));
            v = v.add(v.rearrange(DOWN2));
            p[pos] = v.add(v.rearrange(DOWN1)).lane(0) * scale;
        }
    }

    /** Lane j moved to lane j - k (the upper lanes are never read): the halving steps of reduce16. */
    private static final VectorShuffle<Float> DOWN4 = down(4);
    private static final VectorShuffle<Float> DOWN2 = down(2);
    private static final VectorShuffle<Float> DOWN1 = down(1);

    private static VectorShuffle<Float> down(int k) {
        return VectorShuffle.fromOp(F8, j -> Math.min(j + k, F8.length() - 1));
    }
}
