package io.bitnet4j.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q8_0 weights (ggml type 8): blocks of 32 values, an fp16 scale d then 32 int8 codes (34 bytes); value = d*q.
 * The product pairs them with Q8_0 activations as ggml does: per block an exact int dot, times (d_w*d_x) in float.
 *
 * <p>The fast kernel keeps the per-block products exact in int lanes (codes sign-extended to int), but scales
 * each lane's block sum by d_w*d_x into float lanes and adds the lanes at the end of the row: the rounding
 * differs from the reference (one float per lane per block instead of one per block), within a tight tolerance.
 */
final class Q8_0Matrix extends RowDotMatrix {
    static final int BLOCK = 32;
    static final int BLOCK_BYTES = 34;

    Q8_0Matrix(String name, int in, int out, MemorySegment data) {
        super(name, in, out, data, VECTORIZED);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q8_0;
    }

    @Override
    public ActivationFormat activationFormat() {
        return ActivationFormat.Q8_0;
    }

    private long blockOffset(int row, int block) {
        return ((long) row * (in / BLOCK) + block) * BLOCK_BYTES;
    }

    @Override
    public void dequantizeRow(int row, float[] dst, int dstOffset) {
        checkRow(row, dst, dstOffset);
        for (int b = 0; b < in / BLOCK; b++) {
            long base = blockOffset(row, b);
            float d = Numerics.f16At(data, base);
            for (int i = 0; i < BLOCK; i++) {
                dst[dstOffset + b * BLOCK + i] = data.get(ValueLayout.JAVA_BYTE, base + 2 + i) * d;
            }
        }
    }

    /** ggml_vec_dot_q8_0_q8_0 (portable version): {@code sumf += sumi * (d_w * d_x)} block after block. */
    @Override
    float dotReference(int row, Activations x, int t) {
        float sum = 0;
        int xBlock0 = t * (in / BLOCK);
        for (int b = 0; b < in / BLOCK; b++) {
            long base = blockOffset(row, b);
            int xo = (xBlock0 + b) * BLOCK;
            int sumi = 0;
            for (int i = 0; i < BLOCK; i++) {
                sumi += data.get(ValueLayout.JAVA_BYTE, base + 2 + i) * x.q[xo + i];
            }
            sum += sumi * (Numerics.f16At(data, base) * x.scales[xBlock0 + b]);
        }
        return sum;
    }

    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    /** The kernel loads a quarter of an int vector's bits as bytes: 64 bits at least, so 256-bit vectors or wider. */
    static final boolean VECTORIZED = I.vectorBitSize() >= 256;
    /** As many byte lanes as {@link #I} has int lanes. */
    static final VectorSpecies<Byte> B = ByteVector.SPECIES_PREFERRED.withShape(
            VectorShape.forBitSize(Math.max(64, I.vectorBitSize() / 4)));

    /**
     * The reference's arithmetic with the block's integer sum vectorised: {@code sumf += sumi * (d_w * d_x)} in block
     * order. Deterministic by construction: a float {@code reduceLanes(ADD)} at the end, as before, adds in an order
     * the Vector API leaves open (C2's code and the interpreter's differ), so the same row could give two logits one
     * ulp apart in one run, depending on what had been compiled yet.
     */
    @Override
    float dot(int row, Activations x, int t) {
        int xBlock0 = t * (in / BLOCK);
        float sum = 0;
        for (int b = 0; b < in / BLOCK; b++) {
            long base = blockOffset(row, b);
            int xo = (xBlock0 + b) * BLOCK;
            IntVector products = IntVector.zero(I);
            for (int i = 0; i < BLOCK; i += I.length()) {
                IntVector w = (IntVector) ByteVector.fromMemorySegment(B, data, base + 2 + i, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.B2I, I, 0);
                IntVector q = (IntVector) ByteVector.fromArray(B, x.q, xo + i).convertShape(VectorOperators.B2I, I, 0);
                products = products.add(w.mul(q));
            }
            sum += products.reduceLanes(VectorOperators.ADD) * (Numerics.f16At(data, base) * x.scales[xBlock0 + b]);
        }
        return sum;
    }
}
