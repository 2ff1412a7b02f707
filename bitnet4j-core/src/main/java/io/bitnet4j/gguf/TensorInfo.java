package io.bitnet4j.gguf;

import io.bitnet4j.tensor.GgmlType;
import java.util.Arrays;

/**
 * One entry of the tensor index. {@code shape[0]} (ne0) is the contiguous row length; {@code offset} is relative to
 * the start of the data section.
 */
public record TensorInfo(String name, GgmlType type, long[] shape, long offset, long byteSize) {

    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** Length of one row (ne0). */
    public long rowLength() {
        return shape[0];
    }

    /** Number of rows: the product of all dimensions after ne0. */
    public long rowCount() {
        return elementCount() / shape[0];
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && type == t.type && Arrays.equals(shape, t.shape)
                && offset == t.offset && byteSize == t.byteSize;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + type + " " + shapeString();
    }
}
