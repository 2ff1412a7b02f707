package io.bitnet4j.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * llama.cpp's TQ1_0 ternary weights (ggml type 34): 256-value blocks of 54 bytes, {@code qs[48]}, {@code qh[4]},
 * fp16 d. Each byte packs 5 (qs) or 4 (qh) trits as a fixed-point fraction {@code q = ceil(256*v/243)} of
 * {@code v = 81t0 + 27t1 + 9t2 + 3t3 + t4}, so trit n is {@code ((uint8)(q * 3^n) * 3) >> 8}. {@code qs[m]}
 * (m<32) holds values {@code m + 32n}, {@code qs[32+m]} (m<16) holds {@code 160 + m + 16n}, {@code qh[j]} holds
 * {@code 240 + j + 4n}. Value = (trit - 1) * d. Paired with Q8_K activations.
 *
 * <p>The fast kernel widens L qs bytes at a time to int16 lanes and extracts trit n of every lane with the same
 * fixed-point arithmetic as the reference ({@code ((q * 3^n) & 0xff) * 3 >> 8}); the L values of one trit are
 * consecutive, so they meet contiguous int16 activations. L is 16 (256-bit vectors: the 48 qs bytes are three
 * such groups), the 16 values in qh are done in scalar code. Σtrit*q is exact in int16 lanes within a block, and
 * the float epilogue is the reference's, so the result is bit for bit {@link #dotReference}.
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

    static final VectorSpecies<Short> S = ShortVector.SPECIES_PREFERRED.length() >= 16
            ? ShortVector.SPECIES_256 : ShortVector.SPECIES_PREFERRED;
    static final int L = S.length();
    /** L byte lanes, widened to {@link #S}. */
    static final VectorSpecies<Byte> B = ByteVector.SPECIES_PREFERRED.withShape(VectorShape.forBitSize(8 * L));

    @Override
    public void matMul(Activations x, float[] out, int outStride, int rowFrom, int rowTo) {
        checkMatMul(x, out, outStride, rowFrom, rowTo);
        for (int t = 0; t < x.rows(); t++) {
            for (int r = rowFrom; r < rowTo; r++) {
                out[t * outStride + r] = dot(r, x, t);
            }
        }
    }

    private float dot(int row, Activations x, int t) {
        int xBlock0 = t * (in / BLOCK);
        short[] q16 = x.q16;
        float sum = 0;
        for (int b = 0; b < in / BLOCK; b++) {
            long base = blockOffset(row, b);
            int xo = (xBlock0 + b) * BLOCK;
            ShortVector acc = ShortVector.zero(S);
            for (int p = 0; p < QH; p += L) {
                ShortVector packed = (ShortVector) ByteVector.fromMemorySegment(B, data, base + p,
                        ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                // bytes 0..31 hold values p + 32n, bytes 32..47 values 160 + (p - 32) + 16n
                int first = p < 32 ? p : 160 + p - 32;
                int stride = p < 32 ? 32 : 16;
                for (int n = 0; n < 5; n++) {
                    ShortVector trit = packed.mul((short) POW3[n]).and((short) 0xff).mul((short) 3)
                            .lanewise(VectorOperators.LSHR, 8);
                    acc = acc.add(trit.mul(ShortVector.fromArray(S, q16, xo + first + stride * n)));
                }
            }
            IntVector pairs = acc.reinterpretAsInts();
            int sumTritQ = pairs.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(pairs.lanewise(VectorOperators.ASHR, 16)).reduceLanes(VectorOperators.ADD);
            for (int j = 0; j < 4; j++) {
                int packed = data.get(ValueLayout.JAVA_BYTE, base + QH + j) & 0xff;
                for (int n = 0; n < 4; n++) {
                    sumTritQ += trit(packed, n) * x.q[xo + 240 + j + 4 * n];
                }
            }
            int sumi = sumTritQ - x.blockSums[xBlock0 + b];
            sum += (float) sumi * (Numerics.f16At(data, base + D) * x.scales[xBlock0 + b]);
        }
        return sum;
    }
}
