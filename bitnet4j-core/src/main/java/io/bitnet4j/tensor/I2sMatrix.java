package io.bitnet4j.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * bitnet.cpp's I2_S ternary weights (ggml type 36): the whole tensor is one flat array of 2-bit codes (0,1,2 =
 * -1,0,+1) in 128-value blocks of 32 bytes — byte j of a block holds values j, 32+j, 64+j, 96+j in bits 7..6,
 * 5..4, 3..2, 1..0 — followed by one float32 scale for the tensor. Paired with I8_ROW activations; a row's
 * product is {@code ((float)Σcode*q - (float)Σq) / act_scale * w_scale} with exact integer sums, as bitnet.cpp.
 */
final class I2sMatrix extends BaseMatrix {
    static final int BLOCK = 128;
    static final int BLOCK_BYTES = 32;

    final float scale;

    I2sMatrix(String name, int in, int out, MemorySegment data) {
        super(name, in, out, data);
        if (in % BLOCK != 0) {
            throw new IllegalArgumentException("I2_S tensor '" + name + "' has rows of " + in
                    + " values, not a multiple of " + BLOCK);
        }
        this.scale = data.get(Numerics.LE_FLOAT, (long) in * out / 4);
    }

    @Override
    public GgmlType type() {
        return GgmlType.I2_S;
    }

    @Override
    public ActivationFormat activationFormat() {
        return ActivationFormat.I8_ROW;
    }

    /** The tensor's one scale. */
    float scale() {
        return scale;
    }

    /** The 2-bit code of value {@code i} of row {@code row}. */
    int code(int row, int i) {
        long g = (long) row * in + i;
        int j = (int) (g % BLOCK);
        int b = data.get(ValueLayout.JAVA_BYTE, g / BLOCK * BLOCK_BYTES + (j & 31));
        return (b >> (6 - 2 * (j >> 5))) & 3;
    }

    /** Decodes as bitnet.cpp's dequantizer does: the unused code 3 reads as 0. */
    @Override
    public void dequantizeRow(int row, float[] dst, int dstOffset) {
        checkRow(row, dst, dstOffset);
        for (int i = 0; i < in; i++) {
            int c = code(row, i);
            dst[dstOffset + i] = c == 3 ? 0f : scale * (c - 1);
        }
    }

    @Override
    float dotReference(int row, Activations x, int t) {
        int xo = t * in;
        int sum = 0;
        for (int i = 0; i < in; i++) {
            sum += code(row, i) * x.q[xo + i];
        }
        return finish(sum, x, t);
    }

    /** bitnet.cpp's epilogue: its kernel returns (float)Σcode*q; the row sum is subtracted in float. */
    float finish(int sumCodeQ, Activations x, int t) {
        return ((float) sumCodeQ - (float) x.sums[t]) / x.scales[t] * scale;
    }

    @Override
    public void matMul(Activations x, float[] out, int outStride, int rowFrom, int rowTo) {
        matMulReference(x, out, outStride, rowFrom, rowTo);
    }
}
