package io.bitnet4j.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * IEEE half weights (ggml type 1) times activations rounded to half, accumulated in float.
 *
 * <p>The Vector API has no half-precision lanes, so the fast kernel converts with integer operations: a half,
 * sign-extended to int and shifted left by 13, has its exponent and mantissa where a float keeps them, only with
 * an exponent bias 112 too small; masking off the sign copies gives {@code w * 2^-112} exactly (normal and
 * subnormal halves alike). The activations are multiplied by {@code 2^112} instead (exact: halves are below
 * 2^16, so they stay below the float maximum), which leaves every product {@code w*x} exact before it is added.
 * Infinities and NaNs do not survive that trick, so the first product that meets a row scans it once
 * ({@link #isFinite}); a row holding one is always computed by the reference.
 * The additions happen in the reference's order, so the fast kernels equal it bit for bit.
 */
final class F16Matrix extends BaseMatrix {
    /**
     * Per row: 0 not looked at yet, {@link #FINITE}, or {@link #NOT_FINITE}. Threads may race to fill an entry;
     * they write the same value, so at worst a row is scanned twice.
     */
    private final byte[] rowFiniteness;
    private static final byte FINITE = 1;
    private static final byte NOT_FINITE = 2;

    F16Matrix(String name, int in, int out, MemorySegment data) {
        super(name, in, out, data);
        this.rowFiniteness = new byte[out];
    }

    @Override
    public GgmlType type() {
        return GgmlType.F16;
    }

    @Override
    public ActivationFormat activationFormat() {
        return ActivationFormat.F16;
    }

    private long rowOffset(int row) {
        return (long) row * in * Short.BYTES;
    }

    @Override
    public void dequantizeRow(int row, float[] dst, int dstOffset) {
        checkRow(row, dst, dstOffset);
        long base = rowOffset(row);
        for (int i = 0; i < in; i++) {
            dst[dstOffset + i] = Numerics.f16At(data, base + (long) i * Short.BYTES);
        }
    }

    /**
     * ggml_vec_dot_f16 as an AVX-512 build runs it: values [0, in - in%64) go through 4 accumulators of 16 FMA lanes
     * (value i to accumulator (i%64)/16, lane i%16), the accumulators are added lane-wise as (a0+a2)+(a1+a3), the
     * 16 lanes are added as {@code _mm512_reduce_add_ps} does (i + i+8, then +4, +2, +1), and the remaining values
     * are added in double, one float product at a time.
     */
    @Override
    float dotReference(int row, Activations x, int t) {
        long base = rowOffset(row);
        int xo = t * in;
        int np = in - in % 64;
        float[] xv = x.values;
        float a0 = pair(base, xv, xo, np, 0);
        float a1 = pair(base, xv, xo, np, 1);
        float a2 = pair(base, xv, xo, np, 2);
        float a3 = pair(base, xv, xo, np, 3);
        float a4 = pair(base, xv, xo, np, 4);
        float a5 = pair(base, xv, xo, np, 5);
        float a6 = pair(base, xv, xo, np, 6);
        float a7 = pair(base, xv, xo, np, 7);
        double sum = ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7));
        for (int i = np; i < in; i++) {
            sum += Numerics.f16At(data, base + (long) i * Short.BYTES) * xv[xo + i];
        }
        return (float) sum;
    }

    /** First step of the 16-lane reduction: lane j plus lane j+8. */
    private float pair(long base, float[] xv, int xo, int np, int j) {
        return lane(base, xv, xo, np, j) + lane(base, xv, xo, np, j + 8);
    }

    /** Lane j (0..15) after adding the four accumulators as (a0+a2)+(a1+a3). */
    private float lane(long base, float[] xv, int xo, int np, int j) {
        return (accumulator(base, xv, xo, np, j) + accumulator(base, xv, xo, np, 32 + j))
                + (accumulator(base, xv, xo, np, 16 + j) + accumulator(base, xv, xo, np, 48 + j));
    }

    /** FMA lane s (0..63) of the 64-value steps: values s, s+64, s+128, ... below np. */
    private float accumulator(long base, float[] xv, int xo, int np, int s) {
        float acc = 0;
        for (int i = s; i < np; i += 64) {
            acc = Math.fma(Numerics.f16At(data, base + (long) i * Short.BYTES), xv[xo + i], acc);
        }
        return acc;
    }


    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = F.withLanes(int.class);
    /** Half as many bits as {@link #F}: one load gives one float vector's worth of halves. */
    static final VectorSpecies<Short> H = ShortVector.SPECIES_PREFERRED.withShape(
            jdk.incubator.vector.VectorShape.forBitSize(F.vectorBitSize() / 2));
    static final int LANES = F.length();
    static final float TWO_POW_112 = 0x1p112f;
    /** ggml's step: 4 accumulators of 16 lanes. */
    private static final int STEP = 64;
    /** Lane j moved to lane j - k (the upper lanes are never read): the halving tree of _mm512_reduce_add_ps. */
    private static final VectorShuffle<Float> DOWN8 = down(8);
    private static final VectorShuffle<Float> DOWN4 = down(4);
    private static final VectorShuffle<Float> DOWN2 = down(2);
    private static final VectorShuffle<Float> DOWN1 = down(1);
    /** A half without its sign bit is at least this when it is an infinity or a NaN. */
    private static final short INFINITY = 0x7c00;
    private static final short MAGNITUDE = 0x7fff;

    private static VectorShuffle<Float> down(int k) {
        return VectorShuffle.fromOp(F, j -> Math.min(j + k, LANES - 1));
    }

    /**
     * Every kernel reproduces {@link #dotReference}'s order exactly: ggml's 16 lanes are one 512-bit vector, or two
     * 256-bit vectors side by side; other widths take the reference.
     */
    @Override
    public void matMul(Activations x, float[] out, int outStride, int rowFrom, int rowTo) {
        checkMatMul(x, out, outStride, rowFrom, rowTo);
        if (LANES != 16 && LANES != 8) {
            matMulReference(x, out, outStride, rowFrom, rowTo);
            return;
        }
        // row outer: a weight row stays in L1 while every token passes over it
        for (int r = rowFrom; r < rowTo; r++) {
            for (int t = 0; t < x.rows(); t++) {
                out[t * outStride + r] = LANES == 16 ? dot16(x, t, r) : dot8(x, t, r);
            }
        }
    }

    /*
     * The kernels spell the conversion out at each use: a helper taking or returning vectors that C2 declines to
     * inline would box every vector it touches; for the same reason each kernel keeps few accumulators (more
     * exceed C2's inlining budget for the Vector API calls, and everything falls back to boxed objects).
     *   h = halves sign-extended to int;  w * 2^-112 = reinterpret((h << 13) & 0x8FFFE000)
     */

    /** 16 lanes (512-bit vectors): row r times token t; sj is ggml's sum[j], values 16j..16j+15 of each step. */
    private float dot16(Activations x, int t, int r) {
        long o = rowOffset(r);
        float[] xs = x.values;
        int xo = t * in;
        FloatVector s0 = FloatVector.zero(F);
        FloatVector s1 = s0;
        FloatVector s2 = s0;
        FloatVector s3 = s0;
        int np = in - in % STEP;
        for (int i = 0; i < np; i += STEP) {
            s0 = ((IntVector) ShortVector.fromMemorySegment(H, data, o + (long) (i + 0) * Short.BYTES, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000)
                    .reinterpretAsFloats()
                    .fma(FloatVector.fromArray(F, xs, xo + i + 0).mul(TWO_POW_112), s0);
            s1 = ((IntVector) ShortVector.fromMemorySegment(H, data, o + (long) (i + 16) * Short.BYTES, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000)
                    .reinterpretAsFloats()
                    .fma(FloatVector.fromArray(F, xs, xo + i + 16).mul(TWO_POW_112), s1);
            s2 = ((IntVector) ShortVector.fromMemorySegment(H, data, o + (long) (i + 32) * Short.BYTES, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000)
                    .reinterpretAsFloats()
                    .fma(FloatVector.fromArray(F, xs, xo + i + 32).mul(TWO_POW_112), s2);
            s3 = ((IntVector) ShortVector.fromMemorySegment(H, data, o + (long) (i + 48) * Short.BYTES, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000)
                    .reinterpretAsFloats()
                    .fma(FloatVector.fromArray(F, xs, xo + i + 48).mul(TWO_POW_112), s3);
        }
        return finish(r, reduce16(s0, s1, s2, s3), np, x, t);
    }

    /** ggml's combination of its four 16-lane accumulators: (a0+a2)+(a1+a3) lane-wise, then the halving tree. */
    private static float reduce16(FloatVector a0, FloatVector a1, FloatVector a2, FloatVector a3) {
        FloatVector l = a0.add(a2).add(a1.add(a3));
        l = l.add(l.rearrange(DOWN8));
        l = l.add(l.rearrange(DOWN4));
        l = l.add(l.rearrange(DOWN2));
        return l.add(l.rearrange(DOWN1)).lane(0);
    }

    /**
     * 8 lanes (256-bit vectors): row r times token t. ggml's 16-lane accumulator j is the pair (lo_j, hi_j), so the
     * same products meet in the same order; the first step of the tree adds the two halves.
     */
    private float dot8(Activations x, int t, int r) {
        long o = rowOffset(r);
        float[] xs = x.values;
        int xo = t * in;
        FloatVector z = FloatVector.zero(F);
        FloatVector lo0 = z, lo1 = z, lo2 = z, lo3 = z, hi0 = z, hi1 = z, hi2 = z, hi3 = z;
        int np = in - in % STEP;
        for (int i = 0; i < np; i += STEP) {
            lo0 = ((IntVector) ShortVector.fromMemorySegment(H, data, o + (long) (i + 0) * Short.BYTES, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000)
                    .reinterpretAsFloats()
                    .fma(FloatVector.fromArray(F, xs, xo + i + 0).mul(TWO_POW_112), lo0);
            hi0 = ((IntVector) ShortVector.fromMemorySegment(H, data, o + (long) (i + 8) * Short.BYTES, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000)
                    .reinterpretAsFloats()
                    .fma(FloatVector.fromArray(F, xs, xo + i + 8).mul(TWO_POW_112), hi0);
            lo1 = ((IntVector) ShortVector.fromMemorySegment(H, data, o + (long) (i + 16) * Short.BYTES, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000)
                    .reinterpretAsFloats()
                    .fma(FloatVector.fromArray(F, xs, xo + i + 16).mul(TWO_POW_112), lo1);
            hi1 = ((IntVector) ShortVector.fromMemorySegment(H, data, o + (long) (i + 24) * Short.BYTES, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000)
                    .reinterpretAsFloats()
                    .fma(FloatVector.fromArray(F, xs, xo + i + 24).mul(TWO_POW_112), hi1);
            lo2 = ((IntVector) ShortVector.fromMemorySegment(H, data, o + (long) (i + 32) * Short.BYTES, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000)
                    .reinterpretAsFloats()
                    .fma(FloatVector.fromArray(F, xs, xo + i + 32).mul(TWO_POW_112), lo2);
            hi2 = ((IntVector) ShortVector.fromMemorySegment(H, data, o + (long) (i + 40) * Short.BYTES, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000)
                    .reinterpretAsFloats()
                    .fma(FloatVector.fromArray(F, xs, xo + i + 40).mul(TWO_POW_112), hi2);
            lo3 = ((IntVector) ShortVector.fromMemorySegment(H, data, o + (long) (i + 48) * Short.BYTES, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000)
                    .reinterpretAsFloats()
                    .fma(FloatVector.fromArray(F, xs, xo + i + 48).mul(TWO_POW_112), lo3);
            hi3 = ((IntVector) ShortVector.fromMemorySegment(H, data, o + (long) (i + 56) * Short.BYTES, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000)
                    .reinterpretAsFloats()
                    .fma(FloatVector.fromArray(F, xs, xo + i + 56).mul(TWO_POW_112), hi3);
        }
        FloatVector l = lo0.add(lo2).add(lo1.add(lo3)).add(hi0.add(hi2).add(hi1.add(hi3)));
        l = l.add(l.rearrange(DOWN4));
        l = l.add(l.rearrange(DOWN2));
        return finish(r, l.add(l.rearrange(DOWN1)).lane(0), np, x, t);
    }

    /**
     * The lanes' sum plus the values from {@code from} on, in double as ggml adds its leftovers; or the reference
     * product for a row that holds an infinity or NaN.
     */
    private float finish(int row, float lanes, int from, Activations x, int t) {
        if (!isFinite(row)) {
            return dotReference(row, x, t);
        }
        double sum = lanes;
        long base = rowOffset(row);
        int xo = t * in;
        for (int i = from; i < in; i++) {
            sum += Numerics.f16At(data, base + (long) i * Short.BYTES) * x.values[xo + i];
        }
        return (float) sum;
    }

    /** Whether every weight of the row is finite (scanned on first use). */
    private boolean isFinite(int row) {
        byte state = rowFiniteness[row];
        if (state == 0) {
            state = scanRow(row) ? FINITE : NOT_FINITE;
            rowFiniteness[row] = state;
        }
        return state == FINITE;
    }

    private boolean scanRow(int row) {
        long base = rowOffset(row);
        ShortVector magnitude = ShortVector.zero(H);
        int bound = H.loopBound(in);
        for (int i = 0; i < bound; i += H.length()) {
            magnitude = magnitude.max(ShortVector.fromMemorySegment(H, data, base + (long) i * Short.BYTES,
                    ByteOrder.LITTLE_ENDIAN).and(MAGNITUDE));
        }
        int max = magnitude.reduceLanes(VectorOperators.MAX);
        for (int i = bound; i < in; i++) {
            max = Math.max(max, data.get(Numerics.LE_SHORT, base + (long) i * Short.BYTES) & MAGNITUDE);
        }
        return max < INFINITY;
    }
}
