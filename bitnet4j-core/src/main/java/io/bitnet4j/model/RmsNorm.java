package io.bitnet4j.model;

/**
 * RMS normalisation in ggml's order of operations: sum of float squares accumulated in double, mean stored as float,
 * {@code scale = 1/sqrt(mean + eps)} in float, {@code y = x * scale}, then {@code * weight} — the int8 re-quantization
 * after every norm turns any other order into different codes.
 */
final class RmsNorm {
    private RmsNorm() {}

    static void apply(float[] x, int xOff, float[] weight, float eps, float[] out, int outOff, int n) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float v = x[xOff + i];
            sum += v * v;
        }
        float mean = (float) (sum / n);
        float scale = 1.0f / (float) Math.sqrt(mean + eps);
        for (int i = 0; i < n; i++) {
            out[outOff + i] = (x[xOff + i] * scale) * weight[i];
        }
    }
}
