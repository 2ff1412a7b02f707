package io.bitnet4j.tensor;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * What every {@link WeightMatrix} type shares: the shape, the mapping slice, argument checks, and the scalar
 * reference product that each type's fast {@link #matMul} is tested against.
 */
abstract class BaseMatrix implements WeightMatrix {
    final String name;
    final int in;
    final int out;
    final MemorySegment data;

    BaseMatrix(String name, int in, int out, MemorySegment data) {
        this.name = name;
        this.in = in;
        this.out = out;
        this.data = data;
        long need = type().byteSize(in, out);
        if (data.byteSize() < need) {
            throw new IllegalArgumentException("tensor '" + name + "' (" + type() + ", " + in + " x " + out
                    + ") needs " + need + " bytes, has " + data.byteSize());
        }
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final int inFeatures() {
        return in;
    }

    @Override
    public final int outFeatures() {
        return out;
    }

    @Override
    public final MemorySegment data() {
        return data;
    }

    /** The scalar reference dot product of weight row {@code row} with activation row {@code t}. */
    abstract float dotReference(int row, Activations x, int t);

    /** {@link #matMul} computed with {@link #dotReference}: slow, obviously right. */
    final void matMulReference(Activations x, float[] dst, int outStride, int rowFrom, int rowTo) {
        checkMatMul(x, dst, outStride, rowFrom, rowTo);
        for (int t = 0; t < x.rows(); t++) {
            for (int r = rowFrom; r < rowTo; r++) {
                dst[t * outStride + r] = dotReference(r, x, t);
            }
        }
    }

    final void checkMatMul(Activations x, float[] dst, int outStride, int rowFrom, int rowTo) {
        if (x.format() != activationFormat() || x.cols() != in) {
            throw new IllegalArgumentException("tensor '" + name + "' takes " + activationFormat() + " activations of "
                    + in + " values, got " + x.format() + " of " + x.cols());
        }
        Objects.checkFromToIndex(rowFrom, rowTo, out);
        if (x.rows() > 0 && rowTo > rowFrom) {
            if (outStride < rowTo) {
                throw new IllegalArgumentException("outStride " + outStride + " is shorter than the rows written");
            }
            Objects.checkIndex((long) (x.rows() - 1) * outStride + rowTo - 1, (long) dst.length);
        }
    }

    final void checkRow(int row, float[] dst, int dstOffset) {
        Objects.checkIndex(row, out);
        Objects.checkFromIndexSize(dstOffset, in, dst.length);
    }

    @Override
    public String toString() {
        return name + " " + type() + " [" + in + ", " + out + "]";
    }
}
