package io.bitnet4j.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * llama.cpp's TQ2_0 ternary weights (ggml type 35): 256-value blocks of 66 bytes, {@code qs[64]} then fp16 d.
 * Value {@code e = 128g + 32n + m} is stored as trit+1 in bits {@code 2n..2n+1} of {@code qs[32g + m]};
 * value = (code - 1) * d. Paired with Q8_K activations.
 */
final class Tq2Matrix extends BaseMatrix {
    static final int BLOCK = 256;
    static final int BLOCK_BYTES = 66;
    static final int D = 64;

    Tq2Matrix(String name, int in, int out, MemorySegment data) {
        super(name, in, out, data);
    }

    @Override
    public GgmlType type() {
        return GgmlType.TQ2_0;
    }

    @Override
    public ActivationFormat activationFormat() {
        return ActivationFormat.Q8_K;
    }

    private long blockOffset(int row, int block) {
        return ((long) row * (in / BLOCK) + block) * BLOCK_BYTES;
    }

    /** The stored code (trit+1) of value {@code e} of the block at {@code base}. */
    static int code(MemorySegment seg, long base, int e) {
        int b = seg.get(ValueLayout.JAVA_BYTE, base + 32 * (e >> 7) + (e & 31));
        return (b >> (2 * ((e >> 5) & 3))) & 3;
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
     * ggml_vec_dot_tq2_0_q8_K as x86 builds run it (the AVX2 kernel, also on AVX-512 machines): per block, eight
     * int lanes ({@link Numerics#avx2Lane}) collect code·q, lane m then loses the Q8_K sums of values
     * [32m, 32m+32) (the kernel subtracts bsums from its int16 lanes); each lane is converted to float and added
     * as {@code fma(lane, d_x*d_w, sum)} to its own float sum (the kernel writes mul then add, which GCC's default
     * {@code -ffp-contract=fast} fuses: the llama.cpp oracle agrees only with the fused form); the eight sums are
     * added by {@link Numerics#hsumFloat8}. Rounding in this order is what keeps the Q8_K re-quantization of the
     * next matmul identical to llama.cpp's.
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
