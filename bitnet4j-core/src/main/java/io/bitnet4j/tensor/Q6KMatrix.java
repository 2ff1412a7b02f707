package io.bitnet4j.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Q6_K weights (ggml type 14): 256-value blocks of 210 bytes — {@code ql[128]} (low 4 bits), {@code qh[64]} (high
 * 2 bits), {@code scales[16]} (int8, one per 16 values), fp16 {@code d}. Value {@code e = 128n + 32k + l} has its
 * low nibble in {@code ql[64n + l + 32(k&1)]} (low half for k<2, high half otherwise), its high bits at {@code 2k}
 * of {@code qh[32n + l]}; value = d * scales[e/16] * (q - 32). Paired with Q8_K activations.
 */
final class Q6KMatrix extends BaseMatrix {
    static final int BLOCK = 256;
    static final int BLOCK_BYTES = 210;
    static final int QH = 128;
    static final int SCALES = 192;
    static final int D = 208;

    Q6KMatrix(String name, int in, int out, MemorySegment data) {
        super(name, in, out, data);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q6_K;
    }

    @Override
    public ActivationFormat activationFormat() {
        return ActivationFormat.Q8_K;
    }

    private long blockOffset(int row, int block) {
        return ((long) row * (in / BLOCK) + block) * BLOCK_BYTES;
    }

    /** The signed 6-bit code (-32..31) of value {@code e} of the block at {@code base}. */
    static int code(MemorySegment seg, long base, int e) {
        int n = e >> 7;
        int k = (e >> 5) & 3;
        int l = e & 31;
        int lo = seg.get(ValueLayout.JAVA_BYTE, base + 64 * n + l + 32 * (k & 1)) & 0xff;
        int nibble = k < 2 ? lo & 0xf : lo >> 4;
        int hi = (seg.get(ValueLayout.JAVA_BYTE, base + QH + 32 * n + l) >> (2 * k)) & 3;
        return (nibble | hi << 4) - 32;
    }

    @Override
    public void dequantizeRow(int row, float[] dst, int dstOffset) {
        checkRow(row, dst, dstOffset);
        for (int b = 0; b < in / BLOCK; b++) {
            long base = blockOffset(row, b);
            float d = Numerics.f16At(data, base + D);
            for (int e = 0; e < BLOCK; e++) {
                int sc = data.get(ValueLayout.JAVA_BYTE, base + SCALES + e / 16);
                dst[dstOffset + b * BLOCK + e] = d * sc * code(data, base, e);
            }
        }
    }

    /**
     * ggml_vec_dot_q6_K_q8_K as x86 builds run it (AVX2): per block, eight int lanes ({@link Numerics#avx2Lane})
     * collect scale·code·q; each lane is converted to float and FMA-added as {@code d_x*d_w * lane} to its own float
     * sum; the eight sums are added by {@link Numerics#hsumFloat8}.
     */
    @Override
    float dotReference(int row, Activations x, int t) {
        float[] acc = new float[8];
        int[] lanes = new int[8];
        int xBlock0 = t * (in / BLOCK);
        for (int b = 0; b < in / BLOCK; b++) {
            long base = blockOffset(row, b);
            int xo = (xBlock0 + b) * BLOCK;
            java.util.Arrays.fill(lanes, 0);
            for (int e = 0; e < BLOCK; e++) {
                int sc = data.get(ValueLayout.JAVA_BYTE, base + SCALES + e / 16);
                lanes[Numerics.avx2Lane(e)] += sc * (code(data, base, e) * x.q[xo + e]);
            }
            float d = x.scales[xBlock0 + b] * Numerics.f16At(data, base + D);
            for (int m = 0; m < 8; m++) {
                acc[m] = Math.fma(d, (float) lanes[m], acc[m]);
            }
        }
        return Numerics.hsumFloat8(acc);
    }

    @Override
    public void matMul(Activations x, float[] out, int outStride, int rowFrom, int rowTo) {
        matMulReference(x, out, outStride, rowFrom, rowTo);
    }
}
