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

    @Override
    public void matMul(Activations x, float[] out, int outStride, int rowFrom, int rowTo) {
        matMulReference(x, out, outStride, rowFrom, rowTo);
    }
}
