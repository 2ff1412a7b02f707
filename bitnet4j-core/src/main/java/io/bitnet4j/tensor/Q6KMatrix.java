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
 * Q6_K weights (ggml type 14): 256-value blocks of 210 bytes — {@code ql[128]} (low 4 bits), {@code qh[64]} (high
 * 2 bits), {@code scales[16]} (int8, one per 16 values), fp16 {@code d}. Value {@code e = 128n + 32k + l} has its
 * low nibble in {@code ql[64n + l + 32(k&1)]} (low half for k<2, high half otherwise), its high bits at {@code 2k}
 * of {@code qh[32n + l]}; value = d * scales[e/16] * (q - 32). Paired with Q8_K activations.
 *
 * <p>The fast kernel takes 16 consecutive values at a time (one 16-value scale group, 256-bit int16 vectors): their
 * low nibbles and high bits sit in 16 consecutive bytes of ql and qh, so one widening load of each and a few shifts
 * rebuild the codes in int16 lanes. code*q is exact in int16; it is widened to int32 (with 512-bit vectors one
 * lane per value, else adjacent lanes added into one) and multiplied by the group's scale, into one accumulator for
 * e % 32 in [0, 16) and one for [16, 32). Adjacent lanes are then added into ggml's eight int lanes
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

    static final VectorSpecies<Short> S = ShortVector.SPECIES_256;
    static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
    static final boolean VECTORIZED = ShortVector.SPECIES_PREFERRED.vectorBitSize() >= 256;
    static final boolean WIDE = IntVector.SPECIES_PREFERRED.vectorBitSize() == 512;
    /** The int32 accumulators: one lane per value (512-bit), or per pair of adjacent values (256-bit). */
    static final VectorSpecies<Integer> I = WIDE ? IntVector.SPECIES_512 : IntVector.SPECIES_256;

    @Override
    float dot(int row, Activations x, int t) {
        int xBlock0 = t * (in / BLOCK);
        short[] q16 = x.q16;
        FloatVector acc = FloatVector.zero(FloatVector.SPECIES_256);
        long rowBase = blockOffset(row, 0);
        for (int b = 0; b < in / BLOCK; b++) {
            long base = rowBase + (long) b * BLOCK_BYTES;
            int xo = (xBlock0 + b) * BLOCK;
            // values with e % 32 in [0, 16) and in [16, 32)
            IntVector low = IntVector.zero(I);
            IntVector high = IntVector.zero(I);
            for (int n = 0; n < 2; n++) {
                for (int l = 0; l < 32; l += 16) {
                    // values 128n + 32k + l + [0, 16), k = 0..3: low nibbles of ql[64n + l..] (k=0), of
                    // ql[64n + 32 + l..] (k=1), then their high nibbles (k=2, 3); high bits 2k of qh[32n + l..]
                    // (one pass over k, not four copies: C2 stops inlining in methods that parse too large)
                    ShortVector qh = widen(base + QH + 32 * n + l);
                    IntVector part = IntVector.zero(I);
                    for (int k = 0; k < 4; k++) {
                        int e = 128 * n + 32 * k + l;
                        ShortVector code = widen(base + 64 * n + 32 * (k & 1) + l)
                                .lanewise(VectorOperators.LSHR, 4 * (k >> 1)).and((short) 15)
                                .or(qh.lanewise(VectorOperators.LSHR, 2 * k).and((short) 3)
                                        .lanewise(VectorOperators.LSHL, 4));
                        part = part.add(widen(code.sub((short) 32).mul(ShortVector.fromArray(S, q16, xo + e)))
                                .mul(scale(base, e)));
                    }
                    if (l == 0) {
                        low = low.add(part);
                    } else {
                        high = high.add(part);
                    }
                }
            }
            IntVector lanes = WIDE
                    ? Numerics.avx2LanesInterleaved(Numerics.pairSums(low), Numerics.pairSums(high))
                    : Numerics.avx2LanesInterleaved(low, high);
            float d = x.scales[xBlock0 + b] * Numerics.f16At(data, base + D);
            acc = ((FloatVector) lanes.convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.broadcast(FloatVector.SPECIES_256, d), acc);
        }
        return Numerics.hsumFloat8(acc.rearrange(Numerics.INTERLEAVED_TO_AVX2));
    }

    /** 16 bytes from {@code offset}, zero-extended to int16 lanes. */
    private ShortVector widen(long offset) {
        return (ShortVector) ByteVector.fromMemorySegment(B, data, offset, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
    }

    /** 16 int16 products in {@link #I}'s lanes: one per lane (512-bit), or adjacent pairs added (256-bit). */
    private static IntVector widen(ShortVector products) {
        return WIDE ? (IntVector) products.convertShape(VectorOperators.S2I, I, 0) : Numerics.pairSums(products);
    }

    /** The int8 scale of the 16-value group holding value {@code e} of the block at {@code base}. */
    private int scale(long base, int e) {
        return data.get(ValueLayout.JAVA_BYTE, base + SCALES + e / 16);
    }
}
