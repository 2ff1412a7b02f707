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
 * llama.cpp's TQ2_0 ternary weights (ggml type 35): 256-value blocks of 66 bytes, {@code qs[64]} then fp16 d.
 * Value {@code e = 128g + 32n + m} is stored as trit+1 in bits {@code 2n..2n+1} of {@code qs[32g + m]};
 * value = (code - 1) * d. Paired with Q8_K activations.
 *
 * <p>The fast kernel loads the qs bytes of a block V at a time; for each n, {@code (qs >>> 2n) & 3} gives V codes
 * whose values form runs of 32 consecutive indices, so widening them to int16 lines them up with contiguous
 * int16 activations ({@link Activations#q16}). Σcode*q is exact in int16 lanes within a block. With 512-bit
 * vectors int16 lane k collects the values with e % 32 == k; with 256-bit vectors the two widened halves of a
 * load hold e % 32 in [0, 16) and [16, 32) and go to separate accumulators. Adjacent lanes are then added into
 * ggml's eight int lanes ({@link Numerics#pairSums}, {@link Numerics#avx2LanesInterleaved}), the Q8_K sums subtracted, and the float epilogue is the
 * reference's lane by lane, so the result is bit for bit {@link #dotReference}. Other vector widths run the
 * reference.
 */
final class Tq2Matrix extends RowDotMatrix {
    static final int BLOCK = 256;
    static final int BLOCK_BYTES = 66;
    static final int D = 64;

    Tq2Matrix(String name, int in, int out, MemorySegment data) {
        super(name, in, out, data, VECTORIZED);
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

    static final VectorSpecies<Byte> B = ByteVector.SPECIES_PREFERRED;
    static final VectorSpecies<Short> S = ShortVector.SPECIES_PREFERRED;
    static final int V = B.length();
    static final boolean WIDE = V == 64;
    static final boolean VECTORIZED = V == 64 || V == 32;

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
            // the first and second widened half of each load
            ShortVector low = ShortVector.zero(S);
            ShortVector high = ShortVector.zero(S);
            for (int j = 0; j < 64; j += V) {
                ShortVector qs = ByteVector.fromMemorySegment(B, data, base + j, ByteOrder.LITTLE_ENDIAN)
                        .reinterpretAsShorts();
                for (int n = 0; n < 4; n++) {
                    ByteVector codes = qs.lanewise(VectorOperators.LSHR, 2 * n).and((short) 0x0303)
                            .reinterpretAsBytes();
                    int lo = j;
                    int hi = j + V / 2;
                    ShortVector c0 = (ShortVector) codes.convertShape(VectorOperators.B2S, S, 0);
                    ShortVector c1 = (ShortVector) codes.convertShape(VectorOperators.B2S, S, 1);
                    low = low.add(c0.mul(ShortVector.fromArray(S, q16, xo + 128 * (lo >> 5) + 32 * n + (lo & 31))));
                    high = high.add(c1.mul(ShortVector.fromArray(S, q16, xo + 128 * (hi >> 5) + 32 * n + (hi & 31))));
                }
            }
            int sums = (xBlock0 + b) * Activations.Q8_K_SUMS;
            IntVector lanes = WIDE
                    ? Numerics.pairSums(Numerics.pairSums(low.add(high))
                            .sub(IntVector.fromArray(IntVector.SPECIES_512, x.sums, sums)))
                    : Numerics.avx2LanesInterleaved(
                            Numerics.pairSums(low).sub(IntVector.fromArray(IntVector.SPECIES_256, x.sums, sums)),
                            Numerics.pairSums(high).sub(IntVector.fromArray(IntVector.SPECIES_256, x.sums, sums + 8)));
            acc = ((FloatVector) lanes.convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.broadcast(FloatVector.SPECIES_256, d), acc);
        }
        return Numerics.hsumFloat8(WIDE ? acc : acc.rearrange(Numerics.INTERLEAVED_TO_AVX2));
    }
}
