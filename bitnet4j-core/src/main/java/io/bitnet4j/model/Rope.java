package io.bitnet4j.model;

/**
 * Rotary position embedding with ggml's float arithmetic: per position, {@code theta_0 = pos} and
 * {@code theta_{i+1} = theta_i * powf(base, -2/dims)} in float, then cos/sin of the float theta. (Computing theta in
 * double moves logits by ~0.1 on the oracle model.) cos/sin are glibc's cosf/sinf ({@link GlibcSinCos}), which
 * differ from correctly rounded values in ~1% of RoPE's angles; powf matches {@link StrictMath#pow} rounded to
 * float for the frequency bases in use.
 *
 * <p>The rotation is {@code x0*cos - x1*sin} and {@code x0*sin + x1*cos} as the reference engines' compilers emit it
 * with FMA contraction (clang and GCC both fuse the first product: {@code fma(x0, cos, -(x1*sin))},
 * {@code fma(x0, sin, x1*cos)}). Without the fusion one oracle prompt diverges after 21 tokens.
 */
final class Rope {
    private final Architecture.RopeStyle style;
    private final int headDim;
    private final int ropeDims;
    private final float thetaScale;

    Rope(Architecture.RopeStyle style, int headDim, int ropeDims, float freqBase) {
        this.style = style;
        this.headDim = headDim;
        this.ropeDims = ropeDims;
        this.thetaScale = (float) StrictMath.pow(freqBase, -2.0f / ropeDims);
    }

    /** Fills ropeDims/2 cos and sin entries from {@code at} for one position. */
    void angles(int pos, float[] cos, float[] sin, int at) {
        float theta = pos;
        for (int i = 0; i < ropeDims / 2; i++) {
            cos[at + i] = GlibcSinCos.cosf(theta);
            sin[at + i] = GlibcSinCos.sinf(theta);
            theta *= thetaScale;
        }
    }

    /**
     * Rotates {@code heads} consecutive heads of {@code headDim} values starting at {@code off}, with the angles
     * {@link #angles} wrote from {@code at}.
     */
    void rotate(float[] v, int off, int heads, float[] cos, float[] sin, int at) {
        int half = ropeDims / 2;
        for (int h = 0; h < heads; h++) {
            int base = off + h * headDim;
            for (int i = 0; i < half; i++) {
                int a = style == Architecture.RopeStyle.NEOX ? base + i : base + 2 * i;
                int b = style == Architecture.RopeStyle.NEOX ? base + i + half : base + 2 * i + 1;
                float x0 = v[a];
                float x1 = v[b];
                float co = cos[at + i];
                float si = sin[at + i];
                v[a] = Math.fma(x0, co, -(x1 * si));
                v[b] = Math.fma(x0, si, x1 * co);
            }
        }
    }
}
