package io.bitnet4j.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * llama.cpp's TQ1_0 ternary weights (ggml type 34): 256-value blocks of 54 bytes, {@code qs[48]}, {@code qh[4]},
 * fp16 d. Each byte packs 5 (qs) or 4 (qh) trits as a fixed-point fraction {@code q = ceil(256*v/243)} of
 * {@code v = 81t0 + 27t1 + 9t2 + 3t3 + t4}, so trit n is {@code ((uint8)(q * 3^n) * 3) >> 8}. {@code qs[m]}
 * (m<32) holds values {@code m + 32n}, {@code qs[32+m]} (m<16) holds {@code 160 + m + 16n}, {@code qh[j]} holds
 * {@code 240 + j + 4n}. Value = (trit - 1) * d. Paired with Q8_K activations.
 */
final class Tq1Matrix extends BaseMatrix {
    static final int BLOCK = 256;
    static final int BLOCK_BYTES = 54;
    static final int QH = 48;
    static final int D = 52;
    private static final int[] POW3 = {1, 3, 9, 27, 81};

    Tq1Matrix(String name, int in, int out, MemorySegment data) {
        super(name, in, out, data);
    }

    @Override
    public GgmlType type() {
        return GgmlType.TQ1_0;
    }

    @Override
    public ActivationFormat activationFormat() {
        return ActivationFormat.Q8_K;
    }

    private long blockOffset(int row, int block) {
        return ((long) row * (in / BLOCK) + block) * BLOCK_BYTES;
    }

    /** Trit n (0..2, most significant first) of a packed byte. */
    static int trit(int packed, int n) {
        return (((packed * POW3[n]) & 0xff) * 3) >> 8;
    }

    /** The stored trit (0..2) of value {@code e} of the block at {@code base}. */
    static int code(MemorySegment seg, long base, int e) {
        int byteIndex;
        int n;
        if (e < 160) {
            byteIndex = e & 31;
            n = e >> 5;
        } else if (e < 240) {
            byteIndex = 32 + ((e - 160) & 15);
            n = (e - 160) >> 4;
        } else {
            byteIndex = QH + ((e - 240) & 3);
            n = (e - 240) >> 2;
        }
        return trit(seg.get(ValueLayout.JAVA_BYTE, base + byteIndex) & 0xff, n);
    }

    @Override
    public void dequantizeRow(int row, float[] dst, int dstOffset) {
        checkRow(row, dst, dstOffset);
        for (int b = 0; b < in / BLOCK; b++) {
            long base = blockOffset(row, b);
            float d = Numerics.f16At(data, base + D);
            for (int e = 0; e < BLOCK; e++) {
                dst[dstOffset + b * BLOCK + e] = (float) (code(data, base, e) - 1) * d;
            }
        }
    }

    /**
     * ggml_vec_dot_tq1_0_q8_K as x86 builds run it (AVX2): the same lanes, int-to-float conversion and final sum as
     * {@link Tq2Matrix}'s dot (its int16 lanes see the same values), so TQ1_0 and TQ2_0 give bit-identical results,
     * as they do in llama.cpp.
     */
    @Override
    float dotReference(int row, Activations x, int t) {
        int xBlock0 = t * (in / BLOCK);
        float[] acc = new float[8];
        int[] lanes = new int[8];
        for (int b = 0; b < in / BLOCK; b++) {
            long base = blockOffset(row, b);
            int xo = (xBlock0 + b) * BLOCK;
            java.util.Arrays.fill(lanes, 0);
            for (int e = 0; e < BLOCK; e++) {
                lanes[Numerics.avx2Lane(e)] += code(data, base, e) * x.q[xo + e];
            }
            float d = x.scales[xBlock0 + b] * Numerics.f16At(data, base + D);
            for (int m = 0; m < 8; m++) {
                int sums = x.sums[(xBlock0 + b) * 16 + 2 * m] + x.sums[(xBlock0 + b) * 16 + 2 * m + 1];
                acc[m] = Math.fma((float) (lanes[m] - sums), d, acc[m]);
            }
        }
        return Numerics.hsumFloat8(acc);
    }

    @Override
    public void matMul(Activations x, float[] out, int outStride, int rowFrom, int rowTo) {
        matMulReference(x, out, outStride, rowFrom, rowTo);
    }
}
