package io.bitnet4j.tensor;

import java.lang.foreign.MemorySegment;

/** Plain float32 weights (ggml type 0) times float32 activations. */
final class F32Matrix extends BaseMatrix {
    F32Matrix(String name, int in, int out, MemorySegment data) {
        super(name, in, out, data);
    }

    @Override
    public GgmlType type() {
        return GgmlType.F32;
    }

    @Override
    public ActivationFormat activationFormat() {
        return ActivationFormat.F32;
    }

    private long rowOffset(int row) {
        return (long) row * in * Float.BYTES;
    }

    @Override
    public void dequantizeRow(int row, float[] dst, int dstOffset) {
        checkRow(row, dst, dstOffset);
        long base = rowOffset(row);
        for (int i = 0; i < in; i++) {
            dst[dstOffset + i] = data.get(Numerics.LE_FLOAT, base + (long) i * Float.BYTES);
        }
    }

    @Override
    float dotReference(int row, Activations x, int t) {
        long base = rowOffset(row);
        int xo = t * in;
        float sum = 0;
        for (int i = 0; i < in; i++) {
            sum += data.get(Numerics.LE_FLOAT, base + (long) i * Float.BYTES) * x.values[xo + i];
        }
        return sum;
    }

    @Override
    public void matMul(Activations x, float[] out, int outStride, int rowFrom, int rowTo) {
        matMulReference(x, out, outStride, rowFrom, rowTo);
    }
}
