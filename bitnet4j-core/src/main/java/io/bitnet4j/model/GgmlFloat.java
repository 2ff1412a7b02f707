package io.bitnet4j.model;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float kernels of ggml's CPU backend as an x86 build with AVX-512 runs them (bitnet.cpp and llama.cpp are both
 * built with {@code -march=native}), written lane by lane so that every rounding happens in the same order.
 *
 * <p>Why bother: each ternary matmul re-quantizes its input to int8, so a one-ulp difference in an attention score
 * can move an int8 code and then the logits by 1e-2. Matching these orders is what makes the greedy tokens of the
 * oracle files agree for all 32 steps. The reference code read: ggml-cpu.c {@code ggml_vec_dot_f16} (with the
 * AVX-512 {@code GGML_F16_STEP 64 / GGML_F16_EPR 16} and {@code GGML_F32x16_REDUCE}), {@code ggml_v_expf},
 * {@code ggml_vec_soft_max_f32}, {@code ggml_vec_silu_f32}, and llamafile/sgemm.cpp {@code tinyBLAS::gemm_bloc}
 * (16-lane FMA accumulators, {@code hsum} = {@code _mm512_reduce_add_ps}).
 */
final class GgmlFloat {
    /** AVX-512 float lanes. */
    static final int LANES = 16;
    /** ggml_vec_dot_f16 consumes 64 values per step, in 4 accumulators of 16 lanes. */
    static final int F16_STEP = 64;

    private GgmlFloat() {}

    /**
     * {@code ggml_v_expf} (AVX-512 flavour): ARM's optimized-routines expf, max error ~1.5 ulp. It differs from a
     * correctly rounded exp in a few percent of inputs; ggml's softmax and SiLU use it for every full 16-lane chunk.
     */
    static float expf(float x) {
        float r = 0x1.8p23f;
        float z = Math.fma(x, 0x1.715476p+0f, r);
        float n = z - r;
        float b = Math.fma(-n, 0x1.7f7d1cp-20f, Math.fma(-n, 0x1.62e4p-1f, x));
        float u = b * b;
        float j = Math.fma(
                Math.fma(Math.fma(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u, Math.fma(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)),
                u,
                Math.fma(0x1.ffffecp-1f, b, 1.0f));
        if (Math.abs(n) > 192) {
            return n <= 0 ? 0f : Float.POSITIVE_INFINITY;
        }
        return Math.scalb(j, (int) n); // _mm512_scalef_ps: j * 2^n, one rounding
    }

    /** {@code _mm512_reduce_add_ps}: halves added pairwise (lane i + lane i+8, then +4, +2, +1). */
    static float reduce16(float[] lanes, int off) {
        float a0 = lanes[off] + lanes[off + 8];
        float a1 = lanes[off + 1] + lanes[off + 9];
        float a2 = lanes[off + 2] + lanes[off + 10];
        float a3 = lanes[off + 3] + lanes[off + 11];
        float a4 = lanes[off + 4] + lanes[off + 12];
        float a5 = lanes[off + 5] + lanes[off + 13];
        float a6 = lanes[off + 6] + lanes[off + 14];
        float a7 = lanes[off + 7] + lanes[off + 15];
        float b0 = a0 + a4;
        float b1 = a1 + a5;
        float b2 = a2 + a6;
        float b3 = a3 + a7;
        return (b0 + b2) + (b1 + b3);
    }

    /**
     * {@code ggml_vec_dot_f16} over a vector of {@code paddedN} values of which only the first {@code n} may be
     * non-zero: {@code x[xOff + i*xStride] · y[yOff + i]}. Values below {@code paddedN - paddedN%64} go through 4×16
     * FMA lanes (value i to accumulator (i%64)/16, lane i%16), the accumulators are added as (a0+a2)+(a1+a3)
     * lane-wise and reduced with {@link #reduce16}; the rest is added in double, one float product at a time.
     * Skipping the zero values changes nothing. Inputs must already be F16 values. {@code lanes}: 64 floats.
     */
    static float dotF16(float[] x, int xOff, int xStride, float[] y, int yOff, int n, int paddedN, float[] lanes) {
        int np = paddedN - paddedN % F16_STEP;
        int inLanes = Math.min(n, np);
        java.util.Arrays.fill(lanes, 0, F16_STEP, 0f);
        for (int i = 0; i < inLanes; i++) {
            int s = i % F16_STEP;
            lanes[s] = Math.fma(x[xOff + i * xStride], y[yOff + i], lanes[s]);
        }
        for (int l = 0; l < LANES; l++) {
            lanes[l] = (lanes[l] + lanes[2 * LANES + l]) + (lanes[LANES + l] + lanes[3 * LANES + l]);
        }
        double sum = reduce16(lanes, 0);
        for (int i = np; i < n; i++) {
            sum += x[xOff + i * xStride] * y[yOff + i];
        }
        return (float) sum;
    }

    /**
     * llamafile's {@code tinyBLAS} dot (AVX-512): value i goes to FMA lane i%16, the lanes are reduced with
     * {@link #reduce16}. As in {@link #dotF16}, values past {@code n} are zero padding and skipped; tinyBLAS
     * declines a padded length that is not a multiple of 16. {@code lanes}: 16 floats.
     */
    static float dotTinyBlas(float[] x, int xOff, int xStride, float[] y, int yOff, int n, float[] lanes) {
        java.util.Arrays.fill(lanes, 0, LANES, 0f);
        for (int i = 0; i < n; i++) {
            int l = i % LANES;
            lanes[l] = Math.fma(x[xOff + i * xStride], y[yOff + i], lanes[l]);
        }
        return reduce16(lanes, 0);
    }

    /**
     * {@code ggml_vec_soft_max_f32}: {@code p[i] = exp(p[i] - max)} with {@link #expf} over full 16-value chunks (each
     * chunk summed with {@link #reduce16} and added to a double), libm expf ({@link StrictMath#exp}) for the tail;
     * returns the double sum.
     */
    static double expAndSum(float[] p, int n, float max) {
        double sum = 0;
        int i = 0;
        for (; i + LANES <= n; i += LANES) {
            expChunk(p, i, max);
            expChunk(p, i + F8.length(), max);
            sum += reduce16(p, i);
        }
        for (; i < n; i++) {
            p[i] = (float) StrictMath.exp(p[i] - max);
            sum += p[i];
        }
        return sum;
    }

    /** {@link #expAndSum} one value at a time with {@link #expf}: the reference the vector form is pinned to. */
    static double expAndSumReference(float[] p, int n, float max) {
        double sum = 0;
        int i = 0;
        for (; i + LANES <= n; i += LANES) {
            for (int l = 0; l < LANES; l++) {
                p[i + l] = expf(p[i + l] - max);
            }
            sum += reduce16(p, i);
        }
        for (; i < n; i++) {
            p[i] = (float) StrictMath.exp(p[i] - max);
            sum += p[i];
        }
        return sum;
    }

    /** ggml's 16 lanes as two vectors of 8 (any x86 CPU with AVX2 has them). */
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;

    /**
     * {@code p[i..i+8) = expf(p - max)}, {@link #expf}'s operations lane-wise. Its last step, {@code j * 2^n}, is
     * one multiplication by a power of two built from the exponent bits wherever that is exact (n in [-125, 127]:
     * the result is normal, as |j| lies in [0.7, 1.5)); n below -192 gives 0 and above 192 infinity, as in expf.
     * Other lanes (subnormal results, NaN) send the 8 values to the scalar {@link #expf}.
     */
    private static void expChunk(float[] p, int i, float max) {
        FloatVector x = FloatVector.fromArray(F8, p, i).sub(max);
        FloatVector z = x.fma(0x1.715476p+0f, 0x1.8p23f);
        FloatVector n = z.sub(0x1.8p23f);
        FloatVector minusN = n.neg();
        FloatVector b = minusN.fma(FloatVector.broadcast(F8, 0x1.7f7d1cp-20f),
                minusN.fma(FloatVector.broadcast(F8, 0x1.62e4p-1f), x));
        FloatVector u = b.mul(b);
        FloatVector j = b.fma(0x1.0e4020p-7f, 0x1.573e2ep-5f).fma(u, b.fma(0x1.555e66p-3f, 0x1.fffdb6p-2f))
                .fma(u, b.fma(0x1.ffffecp-1f, 1.0f));
        VectorMask<Float> tiny = n.compare(VectorOperators.LT, -192f);
        VectorMask<Float> huge = n.compare(VectorOperators.GT, 192f);
        VectorMask<Float> exact = n.compare(VectorOperators.GE, -125f).and(n.compare(VectorOperators.LE, 127f));
        if (exact.or(tiny).or(huge).allTrue()) {
            FloatVector pow = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23)
                    .reinterpretAsFloats();
            j.mul(pow).blend(0f, tiny).blend(Float.POSITIVE_INFINITY, huge).intoArray(p, i);
        } else {
            for (int k = i; k < i + F8.length(); k++) {
                p[k] = expf(p[k] - max);
            }
        }
    }

    /**
     * {@code ggml_vec_silu_f32} on one row: {@code x / (1 + expf(-x))} with {@link #expf} over full 16-value chunks,
     * libm expf for the tail.
     */
    static void silu(float[] x, int off, int n) {
        int full = n - n % LANES;
        for (int i = off; i < off + full; i++) {
            x[i] = x[i] / (1f + expf(-x[i]));
        }
        for (int i = off + full; i < off + n; i++) {
            x[i] = x[i] / (1f + (float) StrictMath.exp(-x[i]));
        }
    }
}
