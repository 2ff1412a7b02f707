package io.bitnet4j.tensor;

import java.lang.foreign.MemorySegment;

/** Chooses the {@link WeightMatrix} implementation for a ggml type. */
final class WeightMatrices {
    private WeightMatrices() {}

    static WeightMatrix create(String name, GgmlType type, long[] shape, MemorySegment data) {
        // Filled in by the tensor-types work: one implementation per supported type.
        throw new IllegalArgumentException("tensor '" + name + "' has type " + type + ", which bitnet4j cannot compute with");
    }
}
