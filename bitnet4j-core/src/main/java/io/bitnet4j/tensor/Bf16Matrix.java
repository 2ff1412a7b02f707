package io.bitnet4j.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * bfloat16 weights (ggml type 30) times activations rounded to bf16, accumulated in float. The fast kernel widens
 * each bf16 to int and shifts it into the top half, which is exactly its float; only the order of the additions
 * differs from the reference.
 */
final class Bf16Matrix extends RowDotMatrix {
    Bf16Matrix(String name, int in, int out, MemorySegment data) {
        super(name, in, out, data, true);
    }

    @Override
    public GgmlType type() {
        return GgmlType.BF16;
    }

    @Override
    public ActivationFormat activationFormat() {
        return ActivationFormat.BF16;
    }

    private long rowOffset(int row) {
        return (long) row * in * Short.BYTES;
    }

    private float weight(long base, int i) {
        return Numerics.bf16ToFloat(data.get(Numerics.LE_SHORT, base + (long) i * Short.BYTES));
    }

    @Override
    public void dequantizeRow(int row, float[] dst, int dstOffset) {
        checkRow(row, dst, dstOffset);
        long base = rowOffset(row);
        for (int i = 0; i < in; i++) {
            dst[dstOffset + i] = weight(base, i);
        }
    }

    @Override
    float dotReference(int row, Activations x, int t) {
        long base = rowOffset(row);
        int xo = t * in;
        float sum = 0;
        for (int i = 0; i < in; i++) {
            sum += weight(base, i) * x.values[xo + i];
        }
        return sum;
    }

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = F.withLanes(int.class);
    static final VectorSpecies<Short> H = ShortVector.SPECIES_PREFERRED.withShape(
            VectorShape.forBitSize(F.vectorBitSize() / 2));

    @Override
    float dot(int row, Activations x, int t) {
        long base = rowOffset(row);
        int xo = t * in;
        FloatVector acc = FloatVector.zero(F);
        int bound = F.loopBound(in);
        for (int i = 0; i < bound; i += F.length()) {
            FloatVector w = ((IntVector) ShortVector.fromMemorySegment(H, data, base + (long) i * Short.BYTES,
                    ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            acc = w.fma(FloatVector.fromArray(F, x.values, xo + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (int i = bound; i < in; i++) {
            sum += weight(base, i) * x.values[xo + i];
        }
        return sum;
    }
}
