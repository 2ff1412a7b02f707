package io.bitnet4j.tensor;

/**
 * ggml tensor types as numbered in GGUF files, with their block geometry.
 *
 * <p>Sizes are what llama.cpp (and bitnet.cpp's fork, for I2_S) write. A type whose geometry we know can be listed
 * and range-checked even when no kernel exists for it ({@link #hasKernel()}); ids we do not know at all are
 * rejected by the reader.
 */
public enum GgmlType {
    F32(0, 1, 4, true),
    F16(1, 1, 2, true),
    Q4_0(2, 32, 18, false),
    Q4_1(3, 32, 20, false),
    Q5_0(6, 32, 22, false),
    Q5_1(7, 32, 24, false),
    Q8_0(8, 32, 34, true),
    Q8_1(9, 32, 36, false),
    Q2_K(10, 256, 84, false),
    Q3_K(11, 256, 110, false),
    Q4_K(12, 256, 144, false),
    Q5_K(13, 256, 176, false),
    Q6_K(14, 256, 210, true),
    Q8_K(15, 256, 292, false),
    IQ2_XXS(16, 256, 66, false),
    IQ2_XS(17, 256, 74, false),
    IQ3_XXS(18, 256, 98, false),
    IQ1_S(19, 256, 50, false),
    IQ4_NL(20, 32, 18, false),
    IQ3_S(21, 256, 110, false),
    IQ2_S(22, 256, 82, false),
    IQ4_XS(23, 256, 136, false),
    I8(24, 1, 1, false),
    I16(25, 1, 2, false),
    I32(26, 1, 4, false),
    I64(27, 1, 8, false),
    F64(28, 1, 8, false),
    IQ1_M(29, 256, 56, false),
    BF16(30, 1, 2, true),
    TQ1_0(34, 256, 54, true),
    TQ2_0(35, 256, 66, true),
    /**
     * bitnet.cpp's 2-bit ternary type. Its nominal traits claim one byte per element, but the real tensor is
     * n/4 packed bytes followed by one fp32 scale and padding to 32 bytes: see {@link #byteSize(long, long)}.
     */
    I2_S(36, 128, 32, true);

    /** Bytes that follow the packed I2_S data: one float32 per-tensor scale, then padding. */
    public static final int I2S_TRAILER_BYTES = 32;

    public final int id;
    /** Elements per block; a row length must be a multiple of it. */
    public final int blockSize;
    /** Bytes per block (for I2_S: packed bytes per 128-element block, the trailer excluded). */
    public final int blockBytes;
    private final boolean kernel;

    GgmlType(int id, int blockSize, int blockBytes, boolean kernel) {
        this.id = id;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
        this.kernel = kernel;
    }

    /** Whether bitnet4j can compute with tensors of this type (the others can only be listed). */
    public boolean hasKernel() {
        return kernel;
    }

    /**
     * Exact bytes a tensor of {@code rowLength x rows} occupies in a GGUF file.
     *
     * @throws ArithmeticException on overflow (callers treat that as a corrupt shape)
     */
    public long byteSize(long rowLength, long rows) {
        long n = Math.multiplyExact(rowLength, rows);
        if (this == I2_S) {
            return Math.addExact(n / 4, I2S_TRAILER_BYTES);
        }
        return Math.multiplyExact(n / blockSize, (long) blockBytes);
    }

    private static final GgmlType[] BY_ID = new GgmlType[64];

    static {
        for (GgmlType t : values()) {
            BY_ID[t.id] = t;
        }
    }

    /** The type with this GGUF id, or null when the id is unknown to bitnet4j. */
    public static GgmlType byId(long id) {
        return id >= 0 && id < BY_ID.length ? BY_ID[(int) id] : null;
    }

    /** Case-insensitive lookup by name, e.g. "i2_s"; null when there is none. */
    public static GgmlType byName(String name) {
        for (GgmlType t : values()) {
            if (t.name().equalsIgnoreCase(name)) {
                return t;
            }
        }
        return null;
    }
}
