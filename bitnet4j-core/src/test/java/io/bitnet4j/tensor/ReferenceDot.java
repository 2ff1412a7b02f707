package io.bitnet4j.tensor;

/** Test access to each weight type's scalar reference dot product, for reference implementations in other packages. */
public final class ReferenceDot {
    private ReferenceDot() {}

    /** Weight row {@code row} of {@code m} times prepared activation row {@code t}, by the type's reference dot. */
    public static float dot(WeightMatrix m, int row, Activations x, int t) {
        return ((BaseMatrix) m).dotReference(row, x, t);
    }
}
