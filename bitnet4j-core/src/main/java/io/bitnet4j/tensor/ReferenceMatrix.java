package io.bitnet4j.tensor;

import java.lang.foreign.MemorySegment;

/**
 * A view of a weight matrix whose {@link #matMul} is the type's scalar reference product
 * ({@link BaseMatrix#matMulReference}) instead of its fast kernel. Running a model on these views is the
 * "reference path" that {@code bitnet4j verify} compares the fast path against on a real file.
 */
final class ReferenceMatrix implements WeightMatrix {
    private final BaseMatrix base;

    ReferenceMatrix(BaseMatrix base) {
        this.base = base;
    }

    @Override
    public String name() {
        return base.name();
    }

    @Override
    public GgmlType type() {
        return base.type();
    }

    @Override
    public int inFeatures() {
        return base.inFeatures();
    }

    @Override
    public int outFeatures() {
        return base.outFeatures();
    }

    @Override
    public ActivationFormat activationFormat() {
        return base.activationFormat();
    }

    @Override
    public void matMul(Activations x, float[] out, int outStride, int rowFrom, int rowTo) {
        base.matMulReference(x, out, outStride, rowFrom, rowTo);
    }

    @Override
    public void dequantizeRow(int row, float[] dst, int dstOffset) {
        base.dequantizeRow(row, dst, dstOffset);
    }

    @Override
    public MemorySegment data() {
        return base.data();
    }

    @Override
    public String toString() {
        return base + " (reference kernel)";
    }
}
