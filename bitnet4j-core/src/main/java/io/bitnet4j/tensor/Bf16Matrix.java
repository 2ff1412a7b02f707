package io.bitnet4j.tensor;

import java.lang.foreign.MemorySegment;

/** bfloat16 weights (ggml type 30) times activations rounded to bf16, accumulated in float. */
final class Bf16Matrix extends BaseMatrix {
    Bf16Matrix(String name, int in, int out, MemorySegment data) {
        super(name, in, out, data);
    }

    @Override
    public GgmlType type() {
        return GgmlType.BF16;
    }

    @Override
    public ActivationFormat activationFormat() {
        return ActivationFormat.BF16;
    }

    private long rowOffset(int row) {
        return (long) row * in * Short.BYTES;
    }

    private float weight(long base, int i) {
        return Numerics.bf16ToFloat(data.get(Numerics.LE_SHORT, base + (long) i * Short.BYTES));
    }

    @Override
    public void dequantizeRow(int row, float[] dst, int dstOffset) {
        checkRow(row, dst, dstOffset);
        long base = rowOffset(row);
        for (int i = 0; i < in; i++) {
            dst[dstOffset + i] = weight(base, i);
        }
    }

    @Override
    float dotReference(int row, Activations x, int t) {
        long base = rowOffset(row);
        int xo = t * in;
        float sum = 0;
        for (int i = 0; i < in; i++) {
            sum += weight(base, i) * x.values[xo + i];
        }
        return sum;
    }

    @Override
    public void matMul(Activations x, float[] out, int outStride, int rowFrom, int rowTo) {
        matMulReference(x, out, outStride, rowFrom, rowTo);
    }
}
