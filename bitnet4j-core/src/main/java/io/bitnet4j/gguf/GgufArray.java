package io.bitnet4j.gguf;

import java.util.Arrays;

/**
 * A GGUF metadata array. {@code elements} is a primitive array chosen by element type, so that a 128k-token
 * vocabulary costs one Java array, not 128k boxes:
 * <ul>
 *   <li>UINT8, INT8, UINT16, INT16, INT32 → {@code int[]}; UINT32, INT64, UINT64 → {@code long[]}
 *       (UINT64 values above Long.MAX_VALUE wrap, as in Java's unsigned conventions)</li>
 *   <li>FLOAT32 → {@code float[]}; FLOAT64 → {@code double[]}; BOOL → {@code boolean[]}; STRING → {@code String[]}</li>
 *   <li>ARRAY → {@code GgufArray[]}</li>
 * </ul>
 */
public record GgufArray(GgufValueType elementType, Object elements) {

    public int length() {
        return java.lang.reflect.Array.getLength(elements);
    }

    public String[] strings() {
        return cast(String[].class);
    }

    public int[] ints() {
        return cast(int[].class);
    }

    public long[] longs() {
        return cast(long[].class);
    }

    public float[] floats() {
        return cast(float[].class);
    }

    private <T> T cast(Class<T> type) {
        if (!type.isInstance(elements)) {
            throw new GgufException("metadata array of " + elementType + " read as " + type.getSimpleName());
        }
        return type.cast(elements);
    }

    /** Java array class that holds elements of the given GGUF type. */
    static Class<?> storageFor(GgufValueType type) {
        return switch (type) {
            case UINT8, INT8, UINT16, INT16, INT32 -> int[].class;
            case UINT32, INT64, UINT64 -> long[].class;
            case FLOAT32 -> float[].class;
            case FLOAT64 -> double[].class;
            case BOOL -> boolean[].class;
            case STRING -> String[].class;
            case ARRAY -> GgufArray[].class;
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufArray other && elementType == other.elementType
                && Arrays.deepEquals(new Object[] {elements}, new Object[] {other.elements});
    }

    @Override
    public int hashCode() {
        return elementType.hashCode() * 31 + Arrays.deepHashCode(new Object[] {elements});
    }

    @Override
    public String toString() {
        return "[" + elementType + " x " + length() + "]";
    }
}
