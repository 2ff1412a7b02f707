package io.bitnet4j.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Plain float32 weights (ggml type 0) times float32 activations. The fast kernel is one FMA per lane; only the
 * order of the additions differs from the reference.
 */
final class F32Matrix extends RowDotMatrix {
    F32Matrix(String name, int in, int out, MemorySegment data) {
        super(name, in, out, data, true);
    }

    @Override
    public GgmlType type() {
        return GgmlType.F32;
    }

    @Override
    public ActivationFormat activationFormat() {
        return ActivationFormat.F32;
    }

    private long rowOffset(int row) {
        return (long) row * in * Float.BYTES;
    }

    @Override
    public void dequantizeRow(int row, float[] dst, int dstOffset) {
        checkRow(row, dst, dstOffset);
        long base = rowOffset(row);
        for (int i = 0; i < in; i++) {
            dst[dstOffset + i] = data.get(Numerics.LE_FLOAT, base + (long) i * Float.BYTES);
        }
    }

    @Override
    float dotReference(int row, Activations x, int t) {
        long base = rowOffset(row);
        int xo = t * in;
        float sum = 0;
        for (int i = 0; i < in; i++) {
            sum += data.get(Numerics.LE_FLOAT, base + (long) i * Float.BYTES) * x.values[xo + i];
        }
        return sum;
    }

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    @Override
    float dot(int row, Activations x, int t) {
        long base = rowOffset(row);
        int xo = t * in;
        FloatVector acc = FloatVector.zero(F);
        int bound = F.loopBound(in);
        for (int i = 0; i < bound; i += F.length()) {
            FloatVector w = FloatVector.fromMemorySegment(F, data, base + (long) i * Float.BYTES,
                    ByteOrder.LITTLE_ENDIAN);
            acc = w.fma(FloatVector.fromArray(F, x.values, xo + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (int i = bound; i < in; i++) {
            sum += data.get(Numerics.LE_FLOAT, base + (long) i * Float.BYTES) * x.values[xo + i];
        }
        return sum;
    }
}
