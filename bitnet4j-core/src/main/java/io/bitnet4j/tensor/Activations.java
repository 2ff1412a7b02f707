package io.bitnet4j.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Reusable buffer holding up to {@code maxRows} activation rows (one per token), each {@code cols} long, converted
 * to one {@link ActivationFormat} exactly as the reference engine does before its dot products. Allocated once per
 * session and shape; {@link #quantize} allocates nothing.
 *
 * <p>Storage per format (row t starts at {@code t * cols} in the per-value arrays):
 * <ul>
 *   <li>F32, F16, BF16: {@link #values} — the floats after rounding to the format, so kernels only widen weights;
 *       F16 with 512-bit vectors also {@link #f16Lanes}, the same scaled and reordered for {@link F16Matrix}'s kernel;
 *   <li>I8_ROW: {@link #q}, plus one {@link #scales} (127/max) and one {@link #sums} (Σq) per row, and
 *       {@link #q16}: the same codes prepared for the I2_S kernel ({@link I2sMatrix#kernelActivations}) when it
 *       first asks ({@link #i2sForm});
 *   <li>Q8_0: {@link #q}, plus one {@link #scales} (the fp16-rounded d) per 32-value block;
 *   <li>Q8_K: {@link #q}, plus one {@link #scales} (d) and 16 {@link #sums} (block sums) per 256-value block;
 *       for the kernels also {@link #q16} (the codes widened to int16, natural order).
 * </ul>
 */
public final class Activations {
    static final int Q8_0_BLOCK = 32;
    static final int Q8_K_BLOCK = 256;
    static final int Q8_K_SUMS = Q8_K_BLOCK / 16;

    private final ActivationFormat format;
    private final int cols;
    private final int maxRows;
    private int rows;

    /** Rounded floats (F32, F16, BF16); null otherwise. */
    final float[] values;
    /** F16 on 16-lane hardware: {@link F16Matrix#laneOrder} of {@link #values}; null otherwise. */
    final float[] f16Lanes;
    /** int8 codes (I8_ROW, Q8_0, Q8_K); null otherwise. */
    final byte[] q;
    /** I8_ROW: the I2_S kernel's int16 form of each row's codes; Q8_K: the codes as int16; null otherwise. */
    final short[] q16;
    /** I8_ROW: whether {@link #q16} is the I2_S form of the current rows ({@link #i2sForm}). */
    private volatile boolean i2sFormReady;
    /** I8_ROW: {@link I2sMatrix#kernelOrder} of this row length. */
    private final int[] i2sOrder;
    /**
     * I8_ROW on AVX-512: {@link TernaryLut}'s lookup tables of row 0, built when one row is prepared (decode); null
     * otherwise.
     */
    final short[] lut;
    /** Per row (I8_ROW) or per block (Q8_0, Q8_K) scale; null for the float formats. */
    final float[] scales;
    /** Per row Σq (I8_ROW) or per 16 values Σq (Q8_K); null otherwise. */
    final int[] sums;

    public Activations(ActivationFormat format, int cols, int maxRows) {
        if (cols <= 0 || maxRows <= 0) {
            throw new IllegalArgumentException("cols " + cols + " and maxRows " + maxRows + " must be positive");
        }
        int block = switch (format) {
            case Q8_0 -> Q8_0_BLOCK;
            case Q8_K -> Q8_K_BLOCK;
            default -> 1;
        };
        if (cols % block != 0) {
            throw new IllegalArgumentException(format + " activations need a row length that is a multiple of "
                    + block + ", got " + cols);
        }
        this.format = format;
        this.cols = cols;
        this.maxRows = maxRows;
        int n = Math.multiplyExact(cols, maxRows);
        int blocks = n / block;
        boolean isFloat = format == ActivationFormat.F32 || format == ActivationFormat.F16
                || format == ActivationFormat.BF16;
        this.values = isFloat ? new float[n] : null;
        this.f16Lanes = format == ActivationFormat.F16 && F16Matrix.LANES == 16 ? new float[n] : null;
        this.q = isFloat ? null : new byte[n];
        this.q16 = format == ActivationFormat.I8_ROW || format == ActivationFormat.Q8_K ? new short[n] : null;
        this.i2sOrder = format == ActivationFormat.I8_ROW ? I2sMatrix.kernelOrder(cols) : null;
        this.lut = format == ActivationFormat.I8_ROW && TernaryLut.ENABLED
                ? new short[TernaryLut.groups(cols) * TernaryLut.TABLE] : null;
        this.scales = switch (format) {
            case I8_ROW -> new float[maxRows];
            case Q8_0, Q8_K -> new float[blocks];
            default -> null;
        };
        this.sums = switch (format) {
            case I8_ROW -> new int[maxRows];
            case Q8_K -> new int[blocks * Q8_K_SUMS];
            default -> null;
        };
    }

    public ActivationFormat format() {
        return format;
    }

    public int cols() {
        return cols;
    }

    public int maxRows() {
        return maxRows;
    }

    /** Number of rows currently prepared. */
    public int rows() {
        return rows;
    }

    /** Sets the number of prepared rows (rows [0, n) must each have been quantized). */
    public void setRows(int n) {
        if (n < 0 || n > maxRows) {
            throw new IllegalArgumentException("rows " + n + " not in [0, " + maxRows + "]");
        }
        rows = n;
        i2sFormReady = false;
        if (n == 1 && lut != null) {
            TernaryLut.buildTables(q, 0, cols, lut);
        }
    }

    /**
     * I8_ROW: {@link #q16} holding the I2_S kernel's form of the prepared rows, computed on the first call after they
     * change. Lazily, because with the lookup kernel only blocks that hold the code 3 still need it; the matmul's
     * threads may all ask at once, and the first computes it.
     */
    short[] i2sForm() {
        if (!i2sFormReady) {
            synchronized (this) {
                if (!i2sFormReady) {
                    for (int t = 0; t < rows; t++) {
                        I2sMatrix.kernelActivations(q, q16, t * cols, i2sOrder);
                    }
                    i2sFormReady = true;
                }
            }
        }
        return q16;
    }

    /** Converts {@code x[xOffset .. xOffset+cols)} into row {@code row} of this buffer. */
    public void quantize(float[] x, int xOffset, int row) {
        if (row < 0 || row >= maxRows) {
            throw new IndexOutOfBoundsException("row " + row + " not in [0, " + maxRows + ")");
        }
        java.util.Objects.checkFromIndexSize(xOffset, cols, x.length);
        int dst = row * cols;
        switch (format) {
            case F32 -> System.arraycopy(x, xOffset, values, dst, cols);
            case F16 -> {
                for (int i = 0; i < cols; i++) {
                    values[dst + i] = Numerics.roundToF16(x[xOffset + i]);
                }
                if (f16Lanes != null) {
                    F16Matrix.laneOrder(values, dst, cols, f16Lanes);
                }
            }
            case BF16 -> {
                for (int i = 0; i < cols; i++) {
                    values[dst + i] = Numerics.roundToBf16(x[xOffset + i]);
                }
            }
            case I8_ROW -> quantizeI8Row(x, xOffset, row);
            case Q8_0 -> {
                for (int b = 0; b < cols / Q8_0_BLOCK; b++) {
                    quantizeQ8_0Block(x, xOffset + b * Q8_0_BLOCK, dst / Q8_0_BLOCK + b);
                }
            }
            case Q8_K -> {
                for (int b = 0; b < cols / Q8_K_BLOCK; b++) {
                    quantizeQ8_KBlock(x, xOffset + b * Q8_K_BLOCK, dst / Q8_K_BLOCK + b);
                }
            }
        }
    }

    /**
     * bitnet.cpp's {@code quantize_row_i8_s}: the absmax is taken in double with a floor of 1e-5 (a double, not the
     * nearest float), {@code s = (float)(127/max)}, and {@code q = nearest_int(x*s)} on the float product. Vectorised;
     * {@link #quantizeI8RowReference} is the plain form it must equal.
     */
    private void quantizeI8Row(float[] x, int off, int row) {
        int bound = F.length() >= 8 ? F.loopBound(cols) : 0;
        FloatVector absMax = FloatVector.zero(F);
        for (int i = 0; i < bound; i += F.length()) {
            absMax = absMax.max(FloatVector.fromArray(F, x, off + i).abs());
        }
        float m = absMax.reduceLanes(VectorOperators.MAX);
        for (int i = bound; i < cols; i++) {
            m = Math.max(m, Math.abs(x[off + i]));
        }
        // the largest |x| as a float is the largest as a double: widening is exact and keeps the order
        double max = Math.max(0.00001, m);
        if (!Double.isFinite(max)) { // NaN or infinity: the reference's own arithmetic decides
            quantizeI8RowReference(x, off, row);
            return;
        }
        float s = (float) (127.0 / max);
        int dst = row * cols;
        IntVector sum = IntVector.zero(I);
        for (int i = 0; i < bound; i += F.length()) {
            // ggml's nearest_int: adding 1.5*2^23 rounds to an integer (ties to even) in the low mantissa bits
            IntVector v = FloatVector.fromArray(F, x, off + i).mul(s).add(ROUNDING).reinterpretAsInts()
                    .and(0x7fffff).sub(0x400000).max(-128).min(127);
            sum = sum.add(v);
            ((ByteVector) v.convertShape(VectorOperators.I2B, B, 0)).intoArray(q, dst + i);
        }
        scales[row] = s;
        sums[row] = sum.reduceLanes(VectorOperators.ADD) + quantizeI8(x, off, dst, s, bound);
        i2sFormReady = false;
    }

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);
    /**
     * As many byte lanes as {@link #F} has floats. Below 8 floats (128-bit vectors) there is no byte vector that
     * small: the species is then never used and {@link #quantizeI8Row} runs scalar.
     */
    private static final VectorSpecies<Byte> B =
            VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, F.length() * 8)));
    private static final float ROUNDING = 12582912f;

    /** {@link #quantizeI8Row} one value at a time. */
    void quantizeI8RowReference(float[] x, int off, int row) {
        double max = 0.00001;
        for (int i = 0; i < cols; i++) {
            max = Math.max(max, Math.abs((double) x[off + i]));
        }
        float s = (float) (127.0 / max);
        scales[row] = s;
        sums[row] = quantizeI8(x, off, row * cols, s, 0);
        i2sFormReady = false;
    }

    /** Codes {@code from..cols} of a row, one at a time: {@code q = clamp(nearest_int(x*s))}; returns their sum. */
    private int quantizeI8(float[] x, int off, int dst, float s, int from) {
        int sum = 0;
        for (int i = from; i < cols; i++) {
            int v = Math.clamp(Numerics.nearestInt(x[off + i] * s), -128, 127);
            sum += v;
            q[dst + i] = (byte) v;
        }
        return sum;
    }

    /**
     * llama.cpp's x86 {@code quantize_row_q8_0} (the SIMD path every x86 build runs, which differs from the portable
     * reference): {@code d = amax/127} stored as fp16, the multiplier is {@code 127/amax} (not 1/d), and the
     * product is rounded to nearest even.
     */
    private void quantizeQ8_0Block(float[] x, int off, int block) {
        float amax = 0;
        for (int i = 0; i < Q8_0_BLOCK; i++) {
            amax = Math.max(amax, Math.abs(x[off + i]));
        }
        float id = amax != 0 ? 127f / amax : 0f;
        int dst = block * Q8_0_BLOCK;
        for (int i = 0; i < Q8_0_BLOCK; i++) {
            q[dst + i] = (byte) Math.clamp(Numerics.nearestInt(x[off + i] * id), -128, 127);
        }
        scales[block] = Numerics.roundToF16(amax / 127f);
    }

    /**
     * llama.cpp's {@code quantize_row_q8_K_ref} (also what its x86 builds run): the first element of largest |x|
     * maps to -127 ({@code iscale = -127/max}), {@code q = min(127, nearest_int(iscale*x))}, {@code d = 1/iscale},
     * and every 16 codes keep their sum. An all-zero block gets d = 0 and zero codes.
     */
    private void quantizeQ8_KBlock(float[] x, int off, int block) {
        float amax = 0;
        float max = 0;
        for (int i = 0; i < Q8_K_BLOCK; i++) {
            float ax = Math.abs(x[off + i]);
            if (ax > amax) {
                amax = ax;
                max = x[off + i];
            }
        }
        int dst = block * Q8_K_BLOCK;
        int sumBase = block * Q8_K_SUMS;
        if (amax == 0) {
            java.util.Arrays.fill(q, dst, dst + Q8_K_BLOCK, (byte) 0);
            java.util.Arrays.fill(q16, dst, dst + Q8_K_BLOCK, (short) 0);
            java.util.Arrays.fill(sums, sumBase, sumBase + Q8_K_SUMS, 0);
            scales[block] = 0;
            return;
        }
        float iscale = -127f / max;
        for (int j = 0; j < Q8_K_SUMS; j++) {
            int sum = 0;
            for (int i = 16 * j; i < 16 * j + 16; i++) {
                int v = Math.min(127, Numerics.nearestInt(iscale * x[off + i]));
                q[dst + i] = (byte) v;
                q16[dst + i] = (short) v;
                sum += v;
            }
            sums[sumBase + j] = sum;
        }
        scales[block] = 1 / iscale;
    }

    /** Row {@code row}'s I8_ROW scale (127/max). */
    public float rowScale(int row) {
        requireFormat(ActivationFormat.I8_ROW);
        return scales[row];
    }

    /** Row {@code row}'s I8_ROW code sum. */
    public int rowSum(int row) {
        requireFormat(ActivationFormat.I8_ROW);
        return sums[row];
    }

    /** The int8 code of value {@code col} of row {@code row} (I8_ROW, Q8_0, Q8_K). */
    public int code(int row, int col) {
        if (q == null) {
            throw new IllegalStateException(format + " activations have no int8 codes");
        }
        return q[row * cols + col];
    }

    /** The scale of the block holding value {@code col} of row {@code row} (Q8_0, Q8_K). */
    public float blockScale(int row, int col) {
        int block = switch (format) {
            case Q8_0 -> Q8_0_BLOCK;
            case Q8_K -> Q8_K_BLOCK;
            default -> throw new IllegalStateException(format + " activations have no block scales");
        };
        return scales[(row * cols + col) / block];
    }

    /** Q8_K: the sum of the 16 codes starting at value {@code 16*(col/16)} of row {@code row}. */
    public int blockSum16(int row, int col) {
        requireFormat(ActivationFormat.Q8_K);
        return sums[(row * cols + col) / 16];
    }

    /** The rounded float of value {@code col} of row {@code row} (F32, F16, BF16). */
    public float value(int row, int col) {
        if (values == null) {
            throw new IllegalStateException(format + " activations hold codes, not floats");
        }
        return values[row * cols + col];
    }

    private void requireFormat(ActivationFormat f) {
        if (format != f) {
            throw new IllegalStateException("this accessor is for " + f + " activations, these are " + format);
        }
    }
}
