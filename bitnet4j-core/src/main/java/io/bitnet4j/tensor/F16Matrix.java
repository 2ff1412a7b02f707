package io.bitnet4j.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
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
 * Only the order of the float additions differs from the reference (lanes, then a tree).
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
        float[] acc = new float[64];
        for (int i = 0; i < np; i++) {
            acc[i % 64] = Math.fma(Numerics.f16At(data, base + (long) i * Short.BYTES), x.values[xo + i], acc[i % 64]);
        }
        float[] l = new float[16];
        for (int j = 0; j < 16; j++) {
            l[j] = (acc[j] + acc[32 + j]) + (acc[16 + j] + acc[48 + j]);
        }
        for (int half = 8; half >= 1; half /= 2) {
            for (int j = 0; j < half; j++) {
                l[j] += l[j + half];
            }
        }
        double sum = l[0];
        for (int i = np; i < in; i++) {
            sum += Numerics.f16At(data, base + (long) i * Short.BYTES) * x.values[xo + i];
        }
        return (float) sum;
    }

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = F.withLanes(int.class);
    /** Half as many bits as {@link #F}: one load gives one float vector's worth of halves. */
    static final VectorSpecies<Short> H = ShortVector.SPECIES_PREFERRED.withShape(
            jdk.incubator.vector.VectorShape.forBitSize(F.vectorBitSize() / 2));
    static final int LANES = F.length();
    static final float TWO_POW_112 = 0x1p112f;
    /** A half without its sign bit is at least this when it is an infinity or a NaN. */
    private static final short INFINITY = 0x7c00;
    private static final short MAGNITUDE = 0x7fff;

    @Override
    public void matMul(Activations x, float[] out, int outStride, int rowFrom, int rowTo) {
        checkMatMul(x, out, outStride, rowFrom, rowTo);
        if (x.rows() == 1) {
            for (int r = rowFrom; r < rowTo; r += 4) {
                dot4Rows(x, r, rowTo, out);
            }
        } else {
            // each weight row stays in L1 while every token group passes over it
            for (int r = rowFrom; r < rowTo; r++) {
                for (int t = 0; t < x.rows(); t += 4) {
                    dot4Tokens(x, t, r, out, outStride);
                }
            }
        }
    }

    /*
     * The kernels spell the conversion out at each use: a helper taking or returning vectors that C2 declines to
     * inline (these methods are near its inlining limits) would box every vector it touches.
     *   h = halves sign-extended to int;  w * 2^-112 = reinterpret((h << 13) & 0x8FFFE000)
     */

    /** Decode: token 0 times rows r..r+3 (rows past {@code rowTo} repeat the last one and are not written). */
    private void dot4Rows(Activations x, int r, int rowTo, float[] out) {
        int last = rowTo - 1;
        long o0 = rowOffset(r);
        long o1 = rowOffset(Math.min(r + 1, last));
        long o2 = rowOffset(Math.min(r + 2, last));
        long o3 = rowOffset(Math.min(r + 3, last));
        float[] xs = x.values;
        FloatVector s0 = FloatVector.zero(F);
        FloatVector s1 = s0;
        FloatVector s2 = s0;
        FloatVector s3 = s0;
        int bound = F.loopBound(in);
        for (int i = 0; i < bound; i += LANES) {
            FloatVector xv = FloatVector.fromArray(F, xs, i).mul(TWO_POW_112);
            long wo = (long) i * Short.BYTES;
            ShortVector hs0 = ShortVector.fromMemorySegment(H, data, o0 + wo, ByteOrder.LITTLE_ENDIAN);
            ShortVector hs1 = ShortVector.fromMemorySegment(H, data, o1 + wo, ByteOrder.LITTLE_ENDIAN);
            ShortVector hs2 = ShortVector.fromMemorySegment(H, data, o2 + wo, ByteOrder.LITTLE_ENDIAN);
            ShortVector hs3 = ShortVector.fromMemorySegment(H, data, o3 + wo, ByteOrder.LITTLE_ENDIAN);
            IntVector h0 = (IntVector) hs0.convertShape(VectorOperators.S2I, I, 0);
            IntVector h1 = (IntVector) hs1.convertShape(VectorOperators.S2I, I, 0);
            IntVector h2 = (IntVector) hs2.convertShape(VectorOperators.S2I, I, 0);
            IntVector h3 = (IntVector) hs3.convertShape(VectorOperators.S2I, I, 0);
            s0 = h0.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats().fma(xv, s0);
            s1 = h1.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats().fma(xv, s1);
            s2 = h2.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats().fma(xv, s2);
            s3 = h3.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats().fma(xv, s3);
        }
        out[r] = finish(r, s0.reduceLanes(VectorOperators.ADD), bound, x, 0);
        if (r + 1 < rowTo) {
            out[r + 1] = finish(r + 1, s1.reduceLanes(VectorOperators.ADD), bound, x, 0);
        }
        if (r + 2 < rowTo) {
            out[r + 2] = finish(r + 2, s2.reduceLanes(VectorOperators.ADD), bound, x, 0);
        }
        if (r + 3 < rowTo) {
            out[r + 3] = finish(r + 3, s3.reduceLanes(VectorOperators.ADD), bound, x, 0);
        }
    }

    /**
     * Prompt: row r times tokens t..t+3, converting each weight once for four tokens (tokens past the last
     * repeat it and are not written).
     */
    private void dot4Tokens(Activations x, int t, int r, float[] out, int outStride) {
        int lastT = x.rows() - 1;
        long o = rowOffset(r);
        float[] xs = x.values;
        int x0 = t * in;
        int x1 = Math.min(t + 1, lastT) * in;
        int x2 = Math.min(t + 2, lastT) * in;
        int x3 = Math.min(t + 3, lastT) * in;
        FloatVector s0 = FloatVector.zero(F);
        FloatVector s1 = s0;
        FloatVector s2 = s0;
        FloatVector s3 = s0;
        int bound = F.loopBound(in);
        for (int i = 0; i < bound; i += LANES) {
            ShortVector hs = ShortVector.fromMemorySegment(H, data, o + (long) i * Short.BYTES,
                    ByteOrder.LITTLE_ENDIAN);
            IntVector h = (IntVector) hs.convertShape(VectorOperators.S2I, I, 0);
            FloatVector w = h.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats();
            s0 = w.fma(FloatVector.fromArray(F, xs, x0 + i).mul(TWO_POW_112), s0);
            s1 = w.fma(FloatVector.fromArray(F, xs, x1 + i).mul(TWO_POW_112), s1);
            s2 = w.fma(FloatVector.fromArray(F, xs, x2 + i).mul(TWO_POW_112), s2);
            s3 = w.fma(FloatVector.fromArray(F, xs, x3 + i).mul(TWO_POW_112), s3);
        }
        out[t * outStride + r] = finish(r, s0.reduceLanes(VectorOperators.ADD), bound, x, t);
        if (t + 1 <= lastT) {
            out[(t + 1) * outStride + r] = finish(r, s1.reduceLanes(VectorOperators.ADD), bound, x, t + 1);
        }
        if (t + 2 <= lastT) {
            out[(t + 2) * outStride + r] = finish(r, s2.reduceLanes(VectorOperators.ADD), bound, x, t + 2);
        }
        if (t + 3 <= lastT) {
            out[(t + 3) * outStride + r] = finish(r, s3.reduceLanes(VectorOperators.ADD), bound, x, t + 3);
        }
    }

    /**
     * The lanes' sum plus the values from {@code from} on, in scalar code; or the reference product for a row
     * that holds an infinity or NaN.
     */
    private float finish(int row, float lanes, int from, Activations x, int t) {
        if (!isFinite(row)) {
            return dotReference(row, x, t);
        }
        float sum = lanes;
        long base = rowOffset(row);
        int xo = t * in;
        for (int i = from; i < in; i++) {
            sum += Numerics.f16At(data, base + (long) i * Short.BYTES) * x.values[xo + i];
        }
        return sum;
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
