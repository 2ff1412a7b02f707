package io.bitnet4j.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * bitnet.cpp's I2_S ternary weights (ggml type 36): the whole tensor is one flat array of 2-bit codes (0,1,2 =
 * -1,0,+1) in 128-value blocks of 32 bytes — byte j of a block holds values j, 32+j, 64+j, 96+j in bits 7..6,
 * 5..4, 3..2, 1..0 — followed by one float32 scale for the tensor. Paired with I8_ROW activations; a row's
 * product is {@code ((float)Σcode*q - (float)Σq) / act_scale * w_scale} with exact integer sums, as bitnet.cpp.
 *
 * <p>The fast kernel reads the mapped bytes as they are, one vector of {@code V} bytes (a "chunk", 4V weights) at
 * a time, as {@code V/2} little-endian int16 lanes. Lane i holds bytes 2i and 2i+1, i.e. eight codes c_0..c_7
 * (c_n in bits 2n..2n+1), and {@code u_n = lane >>> 2n} holds codes n..7: {@code u_n = c_n + 4 u_(n+1)}. So
 * {@code Σ c_n q_n = Σ u_n (q_n - 4 q_(n-1))} (q_(-1) = 0) — exactly, in the wrap-around arithmetic of int16 lanes —
 * and each group of 32 weights costs one shift, one multiply and one add, with no masking or widening of codes.
 * {@link Activations} stores each row's codes in that form ({@link #kernelActivations}: permuted to the lane order,
 * differenced, as int16). The true lane sums are flushed to int32 every {@link #FLUSH_CHUNKS} chunks, before they
 * can leave the int16 range, so the wrapped sums are exact; the epilogue is the reference's, so results are bit
 * for bit those of {@link #dotReference}.
 */
final class I2sMatrix extends BaseMatrix {
    static final int BLOCK = 128;
    static final int BLOCK_BYTES = 32;

    final float scale;
    /** The weights repacked for the table-lookup decode kernel; null where it cannot run (see {@link TernaryLut}). */
    final TernaryLut lut;

    I2sMatrix(String name, int in, int out, MemorySegment data) {
        super(name, in, out, data);
        if (in % BLOCK != 0) {
            throw new IllegalArgumentException("I2_S tensor '" + name + "' has rows of " + in
                    + " values, not a multiple of " + BLOCK);
        }
        this.scale = data.get(Numerics.LE_FLOAT, (long) in * out / 4);
        this.lut = TernaryLut.of(this);
    }

    @Override
    public void prepare(int index, int count) {
        if (lut != null) {
            lut.prepare(index, count);
        }
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

    static final VectorSpecies<Short> S16 = ShortVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> S32 = S16.withLanes(int.class).withShape(S16.vectorShape());
    /** Bytes per chunk (one vector), so 4*V weights per chunk and V/2 int16 lanes. */
    static final int V = S16.vectorByteSize();
    static final int LANES = S16.length();
    /**
     * The true sum of an int16 lane grows by 8 products per chunk, each |code*q| <= 3*128 = 384 (code 3 never
     * occurs in a valid file but counts as 3 in the reference, so it must stay exact too): 10 chunks, at most 30720.
     */
    static final int FLUSH_CHUNKS = 10;

    /**
     * The order in which the kernel consumes the activations of one row of {@code in} values: position p of the
     * permuted row holds value {@code kernelOrder(in)[p]}. Whole chunks are permuted; a trailing part of a row that
     * is shorter than a chunk keeps its natural order (the kernel finishes it in scalar code).
     */
    static int[] kernelOrder(int in) {
        int[] order = new int[in];
        int chunks = in / (4 * V);
        for (int p = 0; p < in; p++) {
            order[p] = p;
        }
        for (int c = 0; c < chunks; c++) {
            for (int n = 0; n < 8; n++) {
                for (int i = 0; i < LANES; i++) {
                    int o = c * V + 2 * i + (n >> 2); // byte within the row
                    order[c * 4 * V + n * LANES + i] = BLOCK * (o >> 5) + 32 * (3 - (n & 3)) + (o & 31);
                }
            }
        }
        return order;
    }

    /**
     * Writes row {@code q[offset .. offset+order.length)} of int8 codes as the kernel consumes it: position
     * {@code p = chunk*4V + n*LANES + i} holds {@code q_n - 4 q_(n-1)} of the values {@code order[p]} and
     * {@code order[p - LANES]} (just {@code q_0} for n = 0). The tail shorter than a chunk is copied unchanged (the
     * kernel reads the int8 codes there).
     */
    static void kernelActivations(byte[] q, short[] q16, int offset, int[] order) {
        int full = order.length / (4 * V) * (4 * V);
        for (int p = 0; p < order.length; p++) {
            q16[offset + p] = q[offset + order[p]];
        }
        for (int c = offset; c < offset + full; c += 4 * V) {
            for (int n = 7; n >= 1; n--) { // downwards, so each q_(n-1) read is still the plain code
                for (int i = c + n * LANES; i < c + (n + 1) * LANES; i++) {
                    q16[i] -= (short) (4 * q16[i - LANES]);
                }
            }
        }
    }

    @Override
    public void matMul(Activations x, float[] out, int outStride, int rowFrom, int rowTo) {
        checkMatMul(x, out, outStride, rowFrom, rowTo);
        if (lut != null && rowFrom % TernaryLut.ROWS == 0) { // lut != null: I8_ROW activations carry tables
            if (x.rows() == 1) {
                lut.matVec(x.lut, x.scales[0], scale, out, rowFrom, rowTo);
            } else {
                lut.matMulTokens(x, scale, out, outStride, rowFrom, rowTo);
            }
            for (int r = rowFrom; r < rowTo; r += TernaryLut.ROWS) {
                if (!lut.ready(r / TernaryLut.ROWS)) { // a block with code 3
                    matMulI2s(x, out, outStride, r, Math.min(r + TernaryLut.ROWS, rowTo));
                }
            }
        } else {
            matMulI2s(x, out, outStride, rowFrom, rowTo);
        }
    }

    /** The I2_S kernels: rows in fours for one token, tokens in fours for several. */
    private void matMulI2s(Activations x, float[] out, int outStride, int rowFrom, int rowTo) {
        if (x.rows() == 1) {
            for (int r = rowFrom; r < rowTo; r += 4) {
                dot4Rows(x, r, rowTo, out);
            }
        } else {
            // each weight row stays in L1 while every token group passes over it
            for (int r = rowFrom; r < rowTo; r++) {
                for (int t = 0; t < x.rows(); t += 4) {
                    dot4Tokens(x, t, r, out, outStride);
                }
            }
        }
    }

    private long rowOffset(int row) {
        return (long) row * (in / 4);
    }

    /** Decode: token 0 times rows r..r+3 (rows past {@code rowTo} repeat the last one and are not written). */
    private void dot4Rows(Activations x, int r, int rowTo, float[] out) {
        int last = rowTo - 1;
        long o0 = rowOffset(r);
        long o1 = rowOffset(Math.min(r + 1, last));
        long o2 = rowOffset(Math.min(r + 2, last));
        long o3 = rowOffset(Math.min(r + 3, last));
        short[] q16 = x.i2sForm();
        int chunks = in / (4 * V);
        IntVector t0 = IntVector.zero(S32);
        IntVector t1 = t0;
        IntVector t2 = t0;
        IntVector t3 = t0;
        for (int c0 = 0; c0 < chunks; c0 += FLUSH_CHUNKS) {
            ShortVector a0 = ShortVector.zero(S16);
            ShortVector a1 = a0;
            ShortVector a2 = a0;
            ShortVector a3 = a0;
            for (int c = c0; c < Math.min(c0 + FLUSH_CHUNKS, chunks); c++) {
                long wo = (long) c * V;
                ShortVector w0 = ShortVector.fromMemorySegment(S16, data, o0 + wo, ByteOrder.LITTLE_ENDIAN);
                ShortVector w1 = ShortVector.fromMemorySegment(S16, data, o1 + wo, ByteOrder.LITTLE_ENDIAN);
                ShortVector w2 = ShortVector.fromMemorySegment(S16, data, o2 + wo, ByteOrder.LITTLE_ENDIAN);
                ShortVector w3 = ShortVector.fromMemorySegment(S16, data, o3 + wo, ByteOrder.LITTLE_ENDIAN);
                int xo = c * 4 * V;
                for (int n = 0; n < 8; n++) {
                    ShortVector q = ShortVector.fromArray(S16, q16, xo + n * LANES);
                    a0 = a0.add(w0.lanewise(VectorOperators.LSHR, 2 * n).mul(q));
                    a1 = a1.add(w1.lanewise(VectorOperators.LSHR, 2 * n).mul(q));
                    a2 = a2.add(w2.lanewise(VectorOperators.LSHR, 2 * n).mul(q));
                    a3 = a3.add(w3.lanewise(VectorOperators.LSHR, 2 * n).mul(q));
                }
            }
            t0 = t0.add(widenPairs(a0));
            t1 = t1.add(widenPairs(a1));
            t2 = t2.add(widenPairs(a2));
            t3 = t3.add(widenPairs(a3));
        }
        int tail = chunks * 4 * V;
        out[r] = finish(t0.reduceLanes(VectorOperators.ADD) + tailDot(o0, x, 0, tail), x, 0);
        if (r + 1 < rowTo) {
            out[r + 1] = finish(t1.reduceLanes(VectorOperators.ADD) + tailDot(o1, x, 0, tail), x, 0);
        }
        if (r + 2 < rowTo) {
            out[r + 2] = finish(t2.reduceLanes(VectorOperators.ADD) + tailDot(o2, x, 0, tail), x, 0);
        }
        if (r + 3 < rowTo) {
            out[r + 3] = finish(t3.reduceLanes(VectorOperators.ADD) + tailDot(o3, x, 0, tail), x, 0);
        }
    }

    /**
     * Prompt: row r times tokens t..t+3, so each code extraction serves four tokens (tokens past the last repeat
     * it and are not written).
     */
    private void dot4Tokens(Activations x, int t, int r, float[] out, int outStride) {
        int lastT = x.rows() - 1;
        long o = rowOffset(r);
        short[] q16 = x.i2sForm();
        int x0 = t * in;
        int x1 = Math.min(t + 1, lastT) * in;
        int x2 = Math.min(t + 2, lastT) * in;
        int x3 = Math.min(t + 3, lastT) * in;
        int chunks = in / (4 * V);
        IntVector t0 = IntVector.zero(S32);
        IntVector t1 = t0;
        IntVector t2 = t0;
        IntVector t3 = t0;
        for (int c0 = 0; c0 < chunks; c0 += FLUSH_CHUNKS) {
            ShortVector a0 = ShortVector.zero(S16);
            ShortVector a1 = a0;
            ShortVector a2 = a0;
            ShortVector a3 = a0;
            for (int c = c0; c < Math.min(c0 + FLUSH_CHUNKS, chunks); c++) {
                ShortVector w = ShortVector.fromMemorySegment(S16, data, o + (long) c * V, ByteOrder.LITTLE_ENDIAN);
                for (int n = 0; n < 8; n++) {
                    int xo = c * 4 * V + n * LANES;
                    ShortVector u = w.lanewise(VectorOperators.LSHR, 2 * n);
                    a0 = a0.add(u.mul(ShortVector.fromArray(S16, q16, x0 + xo)));
                    a1 = a1.add(u.mul(ShortVector.fromArray(S16, q16, x1 + xo)));
                    a2 = a2.add(u.mul(ShortVector.fromArray(S16, q16, x2 + xo)));
                    a3 = a3.add(u.mul(ShortVector.fromArray(S16, q16, x3 + xo)));
                }
            }
            t0 = t0.add(widenPairs(a0));
            t1 = t1.add(widenPairs(a1));
            t2 = t2.add(widenPairs(a2));
            t3 = t3.add(widenPairs(a3));
        }
        int tail = chunks * 4 * V;
        out[t * outStride + r] = finish(t0.reduceLanes(VectorOperators.ADD) + tailDot(o, x, t, tail), x, t);
        if (t + 1 <= lastT) {
            out[(t + 1) * outStride + r] = finish(t1.reduceLanes(VectorOperators.ADD) + tailDot(o, x, t + 1, tail),
                    x, t + 1);
        }
        if (t + 2 <= lastT) {
            out[(t + 2) * outStride + r] = finish(t2.reduceLanes(VectorOperators.ADD) + tailDot(o, x, t + 2, tail),
                    x, t + 2);
        }
        if (t + 3 <= lastT) {
            out[(t + 3) * outStride + r] = finish(t3.reduceLanes(VectorOperators.ADD) + tailDot(o, x, t + 3, tail),
                    x, t + 3);
        }
    }

    /** The int16 lanes of {@code a}, added in pairs into int32 lanes (sign-extending each half). */
    private static IntVector widenPairs(ShortVector a) {
        IntVector pairs = a.reinterpretAsInts();
        return pairs.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                .add(pairs.lanewise(VectorOperators.ASHR, 16));
    }

    /** Σ code*q over the values of a row from {@code from} (a block boundary) to its end, in scalar code. */
    private int tailDot(long rowOffset, Activations x, int t, int from) {
        int sum = 0;
        int xo = t * in;
        for (int b = from / BLOCK; b < in / BLOCK; b++) {
            long base = rowOffset + (long) b * BLOCK_BYTES;
            for (int j = 0; j < 32; j++) {
                int packed = data.get(ValueLayout.JAVA_BYTE, base + j);
                for (int k = 0; k < 4; k++) {
                    sum += ((packed >> (6 - 2 * k)) & 3) * x.q[xo + BLOCK * b + 32 * k + j];
                }
            }
        }
        return sum;
    }
}
