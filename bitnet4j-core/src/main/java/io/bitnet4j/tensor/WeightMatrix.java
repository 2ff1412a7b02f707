package io.bitnet4j.tensor;

import java.lang.foreign.MemorySegment;

/**
 * A 2-D weight tensor of {@code outFeatures} rows, each {@code inFeatures} long (GGUF shape [ne0=in, ne1=out]),
 * viewed in place over the file mapping. Every type pairs a fast kernel with a plain scalar reference.
 *
 * <p>Products follow the reference engines' arithmetic: the input is first converted to
 * {@link #activationFormat()} (see {@link Activations}), then each row's dot product is taken in that format.
 */
public interface WeightMatrix {
    String name();

    GgmlType type();

    int inFeatures();

    int outFeatures();

    ActivationFormat activationFormat();

    /**
     * For every prepared activation row t in [0, x.rows()) and weight row r in [rowFrom, rowTo):
     * {@code out[t * outStride + r] = dot(weight row r, activation row t)}.
     * Thread-safe for disjoint row ranges: callers split rows among threads.
     */
    void matMul(Activations x, float[] out, int outStride, int rowFrom, int rowTo);

    /**
     * Load-time work for share {@code index} of {@code count} of the rows, run once by each of {@code count} threads
     * (I2_S: repacking for the lookup kernel); {@link #matMul} does what is left undone when it is first needed.
     */
    default void prepare(int index, int count) {}

    /** Weight row {@code row} as floats (scales applied): the reference dequantizer; also used for embedding lookup. */
    void dequantizeRow(int row, float[] dst, int dstOffset);

    /** The raw bytes, a slice of the file mapping. */
    MemorySegment data();

    /** A view of a 2-D (or 1-D, one row) tensor of a supported type; a clear error for any other type. */
    static WeightMatrix of(String name, GgmlType type, long[] shape, MemorySegment data) {
        return WeightMatrices.create(name, type, shape, data);
    }

    /**
     * The same matrix with {@link #matMul} computed by the type's plain scalar reference dot product: slow, for
     * checking that the fast kernels change nothing on a real file.
     */
    static WeightMatrix reference(WeightMatrix m) {
        return switch (m) {
            case ReferenceMatrix r -> r;
            case BaseMatrix b -> new ReferenceMatrix(b);
            default -> throw new IllegalArgumentException("no reference kernel for " + m);
        };
    }
}
