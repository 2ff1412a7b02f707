package io.bitnet4j.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q6_K weights (ggml type 14): 256-value blocks of 210 bytes — {@code ql[128]} (low 4 bits), {@code qh[64]} (high
 * 2 bits), {@code scales[16]} (int8, one per 16 values), fp16 {@code d}. Value {@code e = 128n + 32k + l} has its
 * low nibble in {@code ql[64n + l + 32(k&1)]} (low half for k<2, high half otherwise), its high bits at {@code 2k}
 * of {@code qh[32n + l]}; value = d * scales[e/16] * (q - 32). Paired with Q8_K activations.
 *
 * <p>The fast kernel takes 32 consecutive values at a time (with 256-bit vectors, in two halves): their low nibbles
 * and high bits sit in 32 consecutive bytes of ql and qh, so zero-extending loads and a few shifts rebuild the codes
 * in int16 lanes. (code-32)·q is exact in int16; adjacent lanes are added into int32 lanes, multiplied by their
 * group's scale and summed over the block; adjacent int32 lanes then give ggml's eight int lanes
 * ({@link Numerics#pairSums}, {@link Numerics#avx2LanesInterleaved}) and the float epilogue is the reference's lane
 * by lane, so the result is bit for bit {@link #dotReference}. Vectors narrower than 256 bits run the reference.
 */
final class Q6KMatrix extends RowDotMatrix {
    static final int BLOCK = 256;
    static final int BLOCK_BYTES = 210;
    static final int QH = 128;
    static final int SCALES = 192;
    static final int D = 208;

    Q6KMatrix(String name, int in, int out, MemorySegment data) {
        super(name, in, out, data, VECTORIZED);
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

    /** int16 lanes: 32 (512-bit), one 32-value chunk a vector; or 16 (256-bit), a chunk in two parts. */
    static final VectorSpecies<Short> S = ShortVector.SPECIES_PREFERRED.vectorBitSize() >= 512
            ? ShortVector.SPECIES_512 : ShortVector.SPECIES_256;
    static final VectorSpecies<Byte> B = S.vectorBitSize() == 512 ? ByteVector.SPECIES_256 : ByteVector.SPECIES_128;
    static final boolean VECTORIZED = ShortVector.SPECIES_PREFERRED.vectorBitSize() >= 256;
    static final boolean WIDE = S.length() == 32;
    /** int32 pair sums of one part: 16 lanes (512-bit) or 8 (256-bit). */
    static final VectorSpecies<Integer> I = WIDE ? IntVector.SPECIES_512 : IntVector.SPECIES_256;
    /**
     * 512-bit: for the chunk of 16-value groups {2c, 2c+1}, the shuffle putting group 2c's scale in int lanes 0..7
     * and group 2c+1's in lanes 8..15 (a pair-sum lane i holds values 2i, 2i+1 of the chunk).
     */
    private static final VectorShuffle<Integer>[] CHUNK_SCALES = chunkScaleShuffles();

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Integer>[] chunkScaleShuffles() {
        VectorShuffle<Integer>[] shuffles = new VectorShuffle[8];
        for (int c = 0; c < 8; c++) {
            int g = 2 * c;
            shuffles[c] = VectorShuffle.fromOp(IntVector.SPECIES_512, i -> i < 8 ? g : g + 1);
        }
        return shuffles;
    }

    /**
     * Per block, 8 chunks of 32 values {@code 128j + 32k + [0, 32)}: their low nibbles are ql[64j + 32(k&1)..] (the
     * high nibbles for k >= 2), high bits 2k of qh[32j..]; each ql/qh load, zero-extended to int16, serves two or
     * four chunks. (code - 32)·q is exact in int16 (|·| <= 4096), adjacent lanes are added into int32 lanes
     * ({@link Numerics#pairSums}) and multiplied by their group's scale, then summed over chunks.
     */
    @Override
    float dot(int row, Activations x, int t) {
        int xBlock0 = t * (in / BLOCK);
        short[] q16 = x.q16;
        FloatVector acc = FloatVector.zero(FloatVector.SPECIES_256);
        long rowBase = blockOffset(row, 0);
        for (int b = 0; b < in / BLOCK; b++) {
            long base = rowBase + (long) b * BLOCK_BYTES;
            int xo = (xBlock0 + b) * BLOCK;
            IntVector scales = WIDE ? (IntVector) ByteVector.fromMemorySegment(ByteVector.SPECIES_128, data,
                    base + SCALES, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, I, 0) : null;
            // pair sums of e % 32 in [0, S.length()) and (256-bit only) in [16, 32)
            IntVector low = IntVector.zero(I);
            IntVector high = IntVector.zero(I);
            for (int j = 0; j < 2; j++) {
                for (int part = 0; part < 32 / S.length(); part++) {
                    int l = part * S.length();
                    ShortVector qh = widen(base + QH + 32 * j + l);
                    for (int h = 0; h < 2; h++) {
                        ShortVector ql = widen(base + 64 * j + 32 * h + l);
                        for (int k = h; k < 4; k += 2) {
                            int e = 128 * j + 32 * k + l;
                            ShortVector code = (k < 2 ? ql.and((short) 15) : ql.lanewise(VectorOperators.LSHR, 4))
                                    .or(highBits(qh, k));
                            IntVector pairs = Numerics.pairSums(
                                    code.sub((short) 32).mul(ShortVector.fromArray(S, q16, xo + e)));
                            IntVector scaled = pairs.mul(WIDE ? scales.rearrange(CHUNK_SCALES[4 * j + k])
                                    : IntVector.broadcast(I, data.get(ValueLayout.JAVA_BYTE, base + SCALES + e / 16)));
                            if (part == 0) {
                                low = low.add(scaled);
                            } else {
                                high = high.add(scaled);
                            }
                        }
                    }
                }
            }
            IntVector lanes = WIDE ? Numerics.pairSums(low) : Numerics.avx2LanesInterleaved(low, high);
            float d = x.scales[xBlock0 + b] * Numerics.f16At(data, base + D);
            acc = ((FloatVector) lanes.convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.broadcast(FloatVector.SPECIES_256, d), acc);
        }
        return Numerics.hsumFloat8(WIDE ? acc : acc.rearrange(Numerics.INTERLEAVED_TO_AVX2));
    }

    /** Bits 2k, 2k+1 of each qh byte moved to bits 4, 5 (one shift, one mask). */
    private static ShortVector highBits(ShortVector qh, int k) {
        ShortVector moved = k == 2 ? qh : k < 2 ? qh.lanewise(VectorOperators.LSHL, 4 - 2 * k)
                : qh.lanewise(VectorOperators.LSHR, 2 * k - 4);
        return moved.and((short) 0x30);
    }

    /** {@link S}'s length of bytes from {@code offset}, zero-extended to int16 lanes. */
    private ShortVector widen(long offset) {
        return (ShortVector) ByteVector.fromMemorySegment(B, data, offset, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
    }
}
