package io.bitnet4j.gguf;

/**
 * One typed metadata value. Java representation by type: UINT8/INT8/UINT16/INT16/INT32 → Integer,
 * UINT32/INT64/UINT64 → Long, FLOAT32 → Float, FLOAT64 → Double, BOOL → Boolean, STRING → String,
 * ARRAY → {@link GgufArray}. The GGUF type is kept so a file can be written back exactly.
 */
public record GgufValue(GgufValueType type, Object value) {

    public static GgufValue string(String s) {
        return new GgufValue(GgufValueType.STRING, s);
    }

    public static GgufValue uint32(long v) {
        if (v < 0 || v > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("not a uint32: " + v);
        }
        return new GgufValue(GgufValueType.UINT32, v);
    }

    public static GgufValue int32(int v) {
        return new GgufValue(GgufValueType.INT32, v);
    }

    public static GgufValue uint64(long v) {
        return new GgufValue(GgufValueType.UINT64, v);
    }

    public static GgufValue float32(float v) {
        return new GgufValue(GgufValueType.FLOAT32, v);
    }

    public static GgufValue bool(boolean v) {
        return new GgufValue(GgufValueType.BOOL, v);
    }

    public static GgufValue array(GgufValueType elementType, Object elements) {
        if (!GgufArray.storageFor(elementType).isInstance(elements)) {
            throw new IllegalArgumentException(elementType + " array needs " + GgufArray.storageFor(elementType));
        }
        return new GgufValue(GgufValueType.ARRAY, new GgufArray(elementType, elements));
    }

    public static GgufValue strings(String... values) {
        return array(GgufValueType.STRING, values);
    }

    /** Short human-readable form: scalars as they are, arrays summarised. */
    public String display() {
        if (value instanceof GgufArray a) {
            return "[" + a.elementType().name().toLowerCase() + " x " + a.length() + "]" + preview(a);
        }
        if (value instanceof String s) {
            String one = s.replace("\n", "\\n");
            return one.length() > 80 ? '"' + one.substring(0, 77) + "...\" (" + s.length() + " chars)" : '"' + one + '"';
        }
        return String.valueOf(value);
    }

    private static String preview(GgufArray a) {
        int n = Math.min(a.length(), 5);
        if (n == 0 || a.elementType() == GgufValueType.ARRAY) {
            return "";
        }
        StringBuilder sb = new StringBuilder(" ");
        for (int i = 0; i < n; i++) {
            Object e = java.lang.reflect.Array.get(a.elements(), i);
            sb.append(i == 0 ? "" : ", ").append(e instanceof String s ? '"' + s.replace("\n", "\\n") + '"' : e);
        }
        return sb.append(a.length() > n ? ", ..." : "").toString();
    }
}
