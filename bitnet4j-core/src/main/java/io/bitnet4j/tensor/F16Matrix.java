package io.bitnet4j.tensor;

import java.lang.foreign.MemorySegment;

/** IEEE half weights (ggml type 1) times activations rounded to half, accumulated in float. */
final class F16Matrix extends BaseMatrix {
    F16Matrix(String name, int in, int out, MemorySegment data) {
        super(name, in, out, data);
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

    @Override
    public void matMul(Activations x, float[] out, int outStride, int rowFrom, int rowTo) {
        matMulReference(x, out, outStride, rowFrom, rowTo);
    }
}
