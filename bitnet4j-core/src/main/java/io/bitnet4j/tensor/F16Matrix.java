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
 * <p>The Vector API has no half-precision lanes, so the fast kernels convert with integer operations: a half placed in
 * the top 16 bits of an int and shifted right arithmetically by 3 has its exponent and mantissa where a float keeps
 * them, only with an exponent bias 112 too small; masking off the sign copies (and, for a half in the low 16 bits
 * shifted up first, nothing else is left below) gives {@code w * 2^-112} exactly, normal and subnormal halves alike
 * (the 256-bit kernel gets the same bits by sign-extending each half to an int and shifting it left by 13).
 * The activations are multiplied by {@code 2^112} instead (exact: halves are below 2^16, so they stay below the
 * float maximum), which leaves every product {@code w*x} exact before it is added.
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
        if (LANES == 8) {
            // row outer: a weight row stays in L1 while every token passes over it
            for (int r = rowFrom; r < rowTo; r++) {
                for (int t = 0; t < x.rows(); t++) {
                    out[t * outStride + r] = dot8(x, t, r);
                }
            }
            return;
        }
        // Row r goes with row r + half: two streams from far apart in memory. One core reads one sequential stream
        // no faster than its prefetching runs ahead of a loop this busy (the head streamed at 15-17 GB/s, a plain
        // read at 27-30); two streams at once reached 24-26 GB/s. An odd last row goes with itself.
        int half = (rowTo - rowFrom + 1) / 2;
        for (int r = rowFrom; r < rowFrom + half; r++) {
            int r2 = Math.min(r + half, rowTo - 1);
            for (int t = 0; t < x.rows(); t++) {
                dot16(x, t, r, r2, out, t * outStride);
            }
        }
    }

    /*
     * The kernels spell the conversion out at each use: a helper taking or returning vectors that C2 declines to
     * inline would box every vector it touches.
     *   h = halves sign-extended to int;  w * 2^-112 = reinterpret((h << 13) & 0x8FFFE000)
     */

    /**
     * 16 lanes (512-bit vectors): rows r and r2 times token t, from {@link Activations#f16Lanes}, into
     * {@code out[o + r]} and {@code out[o + r2]}. One 512-bit int load holds 32 halves, two per lane; the low halves
     * (even values) and the high halves (odd values) become two float vectors with no widening load. So per 64-value
     * step, e0/o0 hold the even/odd values of 0..31 and e1/o1 those of 32..63 (f0/p0, f1/p1 for row r2): lane k of e0
     * is value 2k, which ggml adds in accumulator 0 (k < 8) or 1 (k >= 8) at lane 2k mod 16. Every ggml accumulator
     * lane is one lane here, fed the same products in the same order; the reduction then adds them as ggml does.
     */
    private void dot16(Activations x, int t, int r, int r2, float[] out, int o) {
        long a = rowOffset(r);
        long b = rowOffset(r2);
        float[] xs = x.f16Lanes;
        int xo = t * in;
        FloatVector e0 = FloatVector.zero(F);
        FloatVector o0 = e0;
        FloatVector e1 = e0;
        FloatVector o1 = e0;
        FloatVector f0 = e0;
        FloatVector p0 = e0;
        FloatVector f1 = e0;
        FloatVector p1 = e0;
        int np = in - in % STEP;
        for (int i = 0; i < np; i += STEP) {
            FloatVector x0 = FloatVector.fromArray(F, xs, xo + i);
            FloatVector x1 = FloatVector.fromArray(F, xs, xo + i + 16);
            FloatVector x2 = FloatVector.fromArray(F, xs, xo + i + 32);
            FloatVector x3 = FloatVector.fromArray(F, xs, xo + i + 48);
            long at = (long) i * Short.BYTES;
            IntVector lo = IntVector.fromMemorySegment(I, data, a + at, ByteOrder.LITTLE_ENDIAN);
            IntVector hi = IntVector.fromMemorySegment(I, data, a + at + 64, ByteOrder.LITTLE_ENDIAN);
            e0 = lo.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000)
                    .reinterpretAsFloats().fma(x0, e0);
            o0 = lo.lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000).reinterpretAsFloats().fma(x1, o0);
            e1 = hi.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000)
                    .reinterpretAsFloats().fma(x2, e1);
            o1 = hi.lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000).reinterpretAsFloats().fma(x3, o1);
            lo = IntVector.fromMemorySegment(I, data, b + at, ByteOrder.LITTLE_ENDIAN);
            hi = IntVector.fromMemorySegment(I, data, b + at + 64, ByteOrder.LITTLE_ENDIAN);
            f0 = lo.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000)
                    .reinterpretAsFloats().fma(x0, f0);
            p0 = lo.lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000).reinterpretAsFloats().fma(x1, p0);
            f1 = hi.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000)
                    .reinterpretAsFloats().fma(x2, f1);
            p1 = hi.lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000).reinterpretAsFloats().fma(x3, p1);
        }
        // ggml's reduction, per parity and row (spelled out: a helper taking vectors may be left out of line and box
        // them). Lane k (< 8) of e0+e1 holds a0+a2 at ggml lane 2k and lane k+8 holds a1+a3 there, so adding lane
        // k+8 is ggml's (a0+a2)+(a1+a3); the next three steps are its halving tree (+8, +4, +2) on the even lanes,
        // and its last step (+1) adds the even and the odd sum.
        FloatVector ev = e0.add(e1);
        FloatVector od = o0.add(o1);
        FloatVector ev2 = f0.add(f1);
        FloatVector od2 = p0.add(p1);
        ev = ev.add(ev.rearrange(DOWN8));
        od = od.add(od.rearrange(DOWN8));
        ev2 = ev2.add(ev2.rearrange(DOWN8));
        od2 = od2.add(od2.rearrange(DOWN8));
        ev = ev.add(ev.rearrange(DOWN4));
        od = od.add(od.rearrange(DOWN4));
        ev2 = ev2.add(ev2.rearrange(DOWN4));
        od2 = od2.add(od2.rearrange(DOWN4));
        ev = ev.add(ev.rearrange(DOWN2));
        od = od.add(od.rearrange(DOWN2));
        ev2 = ev2.add(ev2.rearrange(DOWN2));
        od2 = od2.add(od2.rearrange(DOWN2));
        ev = ev.add(ev.rearrange(DOWN1));
        od = od.add(od.rearrange(DOWN1));
        ev2 = ev2.add(ev2.rearrange(DOWN1));
        od2 = od2.add(od2.rearrange(DOWN1));
        float lanes2 = ev2.lane(0) + od2.lane(0);
        out[o + r] = finish(r, ev.lane(0) + od.lane(0), np, x, t);
        out[o + r2] = finish(r2, lanes2, np, x, t);
    }

    /**
     * {@code values[from .. from+n)} times 2^112 into {@code dst[from ..]} in {@link #dot16}'s order: per 64 values, the
     * even then the odd ones of the first 32, then of the next 32. A tail shorter than 64 is not read by the kernel
     * (the leftovers come from the rounded values), so it is copied as it is.
     */
    static void laneOrder(float[] values, int from, int n, float[] dst) {
        int np = n - n % STEP;
        for (int b = from; b < from + np; b += 32) {
            for (int k = 0; k < 16; k++) {
                dst[b + k] = values[b + 2 * k] * TWO_POW_112;
                dst[b + 16 + k] = values[b + 2 * k + 1] * TWO_POW_112;
            }
        }
        System.arraycopy(values, from + np, dst, from + np, n - np);
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
