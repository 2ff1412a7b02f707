package io.bitnet4j.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * llama.cpp's TQ1_0 ternary weights (ggml type 34): 256-value blocks of 54 bytes, {@code qs[48]}, {@code qh[4]},
 * fp16 d. Each byte packs 5 (qs) or 4 (qh) trits as a fixed-point fraction {@code q = ceil(256*v/243)} of
 * {@code v = 81t0 + 27t1 + 9t2 + 3t3 + t4}, so trit n is {@code ((uint8)(q * 3^n) * 3) >> 8}. {@code qs[m]}
 * (m<32) holds values {@code m + 32n}, {@code qs[32+m]} (m<16) holds {@code 160 + m + 16n}, {@code qh[j]} holds
 * {@code 240 + j + 4n}. Value = (trit - 1) * d. Paired with Q8_K activations.
 *
 * <p>The fast kernel widens 16 qs bytes at a time to int16 lanes (256-bit vectors) and extracts trit n of every
 * lane with the same fixed-point arithmetic as the reference ({@code ((q * 3^n) & 0xff) * 3 >> 8}); the 16 values
 * of one trit are consecutive, so they meet contiguous int16 activations, and each run covers e % 32 in [0, 16) or
 * [16, 32), collected by separate accumulators. The 16 values in qh (240..255, e % 32 in [16, 32)) are one more
 * such vector: qh broadcast to 16 byte lanes, lane k taking trit k/4 of qh[k % 4]. Σtrit*q is exact in int16 lanes
 * within a block; adjacent lanes are then added into ggml's eight int lanes ({@link Numerics#avx2LanesInterleaved}),
 * the Q8_K sums subtracted, and the float epilogue is the reference's lane by lane, so the result is bit for bit
 * {@link #dotReference}. Vectors narrower than 256 bits run the reference.
 */
final class Tq1Matrix extends RowDotMatrix {
    static final int BLOCK = 256;
    static final int BLOCK_BYTES = 54;
    static final int QH = 48;
    static final int D = 52;
    private static final int[] POW3 = {1, 3, 9, 27, 81};

    Tq1Matrix(String name, int in, int out, MemorySegment data) {
        super(name, in, out, data, VECTORIZED);
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

    static final VectorSpecies<Short> S = ShortVector.SPECIES_256;
    static final int L = S.length();
    /** L byte lanes, widened to {@link #S}. */
    static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
    static final boolean VECTORIZED = ShortVector.SPECIES_PREFERRED.vectorBitSize() >= 256;
    /** The power of 3 that brings trit k/4 of a qh byte to the top, for lane k of the qh vector. */
    static final ShortVector QH_POW3 = ShortVector.fromArray(S,
            new short[] {1, 1, 1, 1, 3, 3, 3, 3, 9, 9, 9, 9, 27, 27, 27, 27}, 0);
    static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Override
    float dot(int row, Activations x, int t) {
        int xBlock0 = t * (in / BLOCK);
        short[] q16 = x.q16;
        FloatVector acc = FloatVector.zero(FloatVector.SPECIES_256);
        long rowBase = blockOffset(row, 0);
        for (int b = 0; b < in / BLOCK; b++) {
            long base = rowBase + (long) b * BLOCK_BYTES;
            int xo = (xBlock0 + b) * BLOCK;
            float d = x.scales[xBlock0 + b] * Numerics.f16At(data, base + D);
            // values with e % 32 in [0, 16) and in [16, 32)
            ShortVector low = ShortVector.zero(S);
            ShortVector high = ShortVector.zero(S);
            for (int p = 0; p < QH; p += L) {
                ShortVector packed = (ShortVector) ByteVector.fromMemorySegment(B, data, base + p,
                        ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                // bytes 0..31 hold values p + 32n, bytes 32..47 values 160 + (p - 32) + 16n
                int first = p < 32 ? p : 160 + p - 32;
                int stride = p < 32 ? 32 : 16;
                for (int n = 0; n < 5; n++) {
                    ShortVector trit = packed.mul((short) POW3[n]).and((short) 0xff).mul((short) 3)
                            .lanewise(VectorOperators.LSHR, 8);
                    int e = first + stride * n;
                    ShortVector product = trit.mul(ShortVector.fromArray(S, q16, xo + e));
                    if ((e & 16) == 0) {
                        low = low.add(product);
                    } else {
                        high = high.add(product);
                    }
                }
            }
            ShortVector qh = (ShortVector) IntVector.broadcast(IntVector.SPECIES_128, data.get(LE_INT, base + QH))
                    .reinterpretAsBytes().convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector qhTrit = qh.mul(QH_POW3).and((short) 0xff).mul((short) 3).lanewise(VectorOperators.LSHR, 8);
            high = high.add(qhTrit.mul(ShortVector.fromArray(S, q16, xo + 240)));
            int sums = (xBlock0 + b) * Activations.Q8_K_SUMS;
            IntVector lanes = Numerics.avx2LanesInterleaved(
                    Numerics.pairSums(low).sub(IntVector.fromArray(IntVector.SPECIES_256, x.sums, sums)),
                    Numerics.pairSums(high).sub(IntVector.fromArray(IntVector.SPECIES_256, x.sums, sums + 8)));
            acc = ((FloatVector) lanes.convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.broadcast(FloatVector.SPECIES_256, d), acc);
        }
        return Numerics.hsumFloat8(acc.rearrange(Numerics.INTERLEAVED_TO_AVX2));
    }
}
