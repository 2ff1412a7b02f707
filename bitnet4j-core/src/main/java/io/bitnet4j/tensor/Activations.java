package io.bitnet4j.tensor;

/**
 * Reusable buffer holding up to {@code maxRows} activation rows (one per token), each {@code cols} long, converted
 * to one {@link ActivationFormat} exactly as the reference engine does before its dot products. Allocated once per
 * session and shape; {@link #quantize} allocates nothing.
 */
public final class Activations {
    private final ActivationFormat format;
    private final int cols;
    private final int maxRows;
    private int rows;

    public Activations(ActivationFormat format, int cols, int maxRows) {
        this.format = format;
        this.cols = cols;
        this.maxRows = maxRows;
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
    }

    /** Converts {@code x[xOffset .. xOffset+cols)} into row {@code row} of this buffer. */
    public void quantize(float[] x, int xOffset, int row) {
        throw new IllegalStateException("filled in by the tensor-types work");
    }
}
