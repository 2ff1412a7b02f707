package io.bitnet4j.tensor;

import java.lang.foreign.MemorySegment;

/** Chooses the {@link WeightMatrix} implementation for a ggml type. */
final class WeightMatrices {
    private WeightMatrices() {}

    static WeightMatrix create(String name, GgmlType type, long[] shape, MemorySegment data) {
        if (shape.length < 1 || shape.length > 4) {
            throw new IllegalArgumentException("tensor '" + name + "' has " + shape.length + " dimensions");
        }
        for (int d = 2; d < shape.length; d++) {
            if (shape[d] != 1) {
                throw new IllegalArgumentException("tensor '" + name + "' is not 2-D: dimension " + d + " is "
                        + shape[d]);
            }
        }
        long in = shape[0];
        long out = shape.length > 1 ? shape[1] : 1;
        if (in <= 0 || out <= 0 || in > Integer.MAX_VALUE || out > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("tensor '" + name + "' has an unsupported shape " + in + " x " + out);
        }
        if (in % type.blockSize != 0) {
            throw new IllegalArgumentException("tensor '" + name + "' (" + type + ") has rows of " + in
                    + " values, not a multiple of the block size " + type.blockSize);
        }
        int i = (int) in;
        int o = (int) out;
        return switch (type) {
            case F32 -> new F32Matrix(name, i, o, data);
            case F16 -> new F16Matrix(name, i, o, data);
            case BF16 -> new Bf16Matrix(name, i, o, data);
            case Q8_0 -> new Q8_0Matrix(name, i, o, data);
            case Q6_K -> new Q6KMatrix(name, i, o, data);
            case I2_S -> new I2sMatrix(name, i, o, data);
            case TQ1_0 -> new Tq1Matrix(name, i, o, data);
            case TQ2_0 -> new Tq2Matrix(name, i, o, data);
            default -> throw new IllegalArgumentException("tensor '" + name + "' has type " + type
                    + ", which bitnet4j cannot compute with");
        };
    }
}
