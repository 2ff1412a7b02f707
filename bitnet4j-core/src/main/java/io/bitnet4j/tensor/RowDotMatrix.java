package io.bitnet4j.tensor;

import java.lang.foreign.MemorySegment;

/**
 * The weight types whose fast kernel computes one (weight row, activation row) dot product at a time. They share the
 * loop; each supplies its kernel, and says whether this machine's vectors suit it (the reference runs otherwise).
 */
abstract class RowDotMatrix extends BaseMatrix {
    private final boolean vectorized;

    RowDotMatrix(String name, int in, int out, MemorySegment data, boolean vectorized) {
        super(name, in, out, data);
        this.vectorized = vectorized;
    }

    /** The Vector API kernel: weight row {@code row} times activation row {@code t}. */
    abstract float dot(int row, Activations x, int t);

    @Override
    public final void matMul(Activations x, float[] out, int outStride, int rowFrom, int rowTo) {
        checkMatMul(x, out, outStride, rowFrom, rowTo);
        for (int t = 0; t < x.rows(); t++) {
            for (int r = rowFrom; r < rowTo; r++) {
                out[t * outStride + r] = vectorized ? dot(r, x, t) : dotReference(r, x, t);
            }
        }
    }
}
