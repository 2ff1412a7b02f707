package io.bitnet4j.model;

import io.bitnet4j.tensor.Activations;
import io.bitnet4j.tensor.ReferenceDot;
import io.bitnet4j.tensor.WeightMatrix;
import java.util.Arrays;

/**
 * The forward pass written as plainly as possible, to pin {@link ForwardPass} to: one token at a time, one layer
 * after the other, scalar loops, fresh arrays, no threads, every matmul through the weight type's scalar reference
 * dot. The arithmetic is meant to be the same as ForwardPass's (ggml's, see {@link GgmlFloat} and
 * {@link ReferenceEngine}), so the two must agree bit for bit; only the orchestration differs (batching, threads,
 * buffer reuse, row slicing).
 */
final class ReferenceForwardPass {
    private final ModelConfig c;
    private final ModelWeights w;
    private final ReferenceEngine engine;
    private final float[][] keys;
    private final float[][] values;
    private int length;

    ReferenceForwardPass(Model model, int capacity) {
        c = model.config();
        w = model.weights();
        engine = ReferenceEngine.of(w);
        keys = new float[c.layers()][capacity * c.kvDim()];
        values = new float[c.layers()][capacity * c.kvDim()];
    }

    /**
     * Evaluates {@code tokens} at the next positions and returns the logits of the last one. More than one token
     * counts as one batch, which matters for attention (see {@link ReferenceEngine}).
     */
    float[] forward(int... tokens) {
        boolean batch = tokens.length > 1;
        float[] x = null;
        for (int token : tokens) {
            x = new float[c.dim()];
            w.tokenEmbedding().dequantizeRow(token, x, 0);
            for (int l = 0; l < c.layers(); l++) {
                x = layer(l, x, length, batch);
            }
            length++;
        }
        return matmul(w.output(), rmsNorm(x, w.outputNorm()));
    }

    private float[] layer(int l, float[] x, int pos, boolean batch) {
        ModelWeights.Layer L = w.layers()[l];
        float[] h = rmsNorm(x, L.attnNorm());
        float[] q = scaled(matmul(L.wq(), h), L.wqScale());
        float[] k = scaled(matmul(L.wk(), h), L.wkScale());
        float[] v = scaled(matmul(L.wv(), h), L.wvScale());
        rope(q, pos);
        rope(k, pos);
        for (int i = 0; i < c.kvDim(); i++) {
            keys[l][pos * c.kvDim() + i] = f16(k[i]);
            values[l][pos * c.kvDim() + i] = f16(v[i]);
        }
        float[] a = new float[c.qDim()];
        int group = c.heads() / c.kvHeads();
        for (int head = 0; head < c.heads(); head++) {
            attention(q, head * c.headDim(), keys[l], values[l], (head / group) * c.headDim(), pos + 1, batch, a);
        }
        if (L.attnSubNorm() != null) {
            a = rmsNorm(a, L.attnSubNorm());
        }
        float[] o = scaled(matmul(L.wo(), a), L.woScale());
        float[] x2 = new float[c.dim()];
        for (int i = 0; i < c.dim(); i++) {
            x2[i] = x[i] + o[i];
        }

        h = rmsNorm(x2, L.ffnNorm());
        float[] g = scaled(matmul(L.gate(), h), L.gateScale());
        float[] u = scaled(matmul(L.up(), h), L.upScale());
        float[] f = new float[c.ffDim()];
        if (c.architecture().ffnActivation == Architecture.FfnActivation.RELU_SQUARED) {
            for (int i = 0; i < f.length; i++) {
                float r = Math.max(g[i], 0f);
                f[i] = (r * r) * u[i];
            }
        } else {
            GgmlFloat.silu(g, 0, g.length);
            for (int i = 0; i < f.length; i++) {
                f[i] = g[i] * u[i];
            }
        }
        if (L.ffnSubNorm() != null) {
            f = rmsNorm(f, L.ffnSubNorm());
        }
        float[] d = scaled(matmul(L.down(), f), L.downScale());
        float[] out = new float[c.dim()];
        for (int i = 0; i < c.dim(); i++) {
            out[i] = x2[i] + d[i];
        }
        return out;
    }

    /** One head of causal attention for the token at position n-1, as described in {@link Attention}. */
    private void attention(float[] q, int qOff, float[] k, float[] v, int kvOff, int n, boolean batch, float[] out) {
        int hd = c.headDim();
        int kvDim = c.kvDim();
        float[] lanes = new float[GgmlFloat.F16_STEP];
        float[] qh = new float[hd];
        for (int d = 0; d < hd; d++) {
            qh[d] = f16(q[qOff + d]);
        }
        int nPad = (n + 31) / 32 * 32;
        float[] p = new float[nPad];
        Arrays.fill(p, Float.NEGATIVE_INFINITY);
        float scale = 1.0f / (float) Math.sqrt(hd);
        float max = Float.NEGATIVE_INFINITY;
        for (int s = 0; s < n; s++) {
            float dot = batch && engine.batchScoresTinyBlas && hd % 16 == 0
                    ? dotTinyBlas(k, s * kvDim + kvOff, 1, qh, 0, hd, lanes)
                    : dotF16(k, s * kvDim + kvOff, 1, qh, 0, hd, hd, lanes);
            p[s] = dot * scale;
            max = Math.max(max, p[s]);
        }
        float inv = (float) (1.0 / GgmlFloat.expAndSumReference(p, nPad, max));
        for (int s = 0; s < n; s++) {
            p[s] = !batch || engine.batchProbsF16 ? f16(p[s] * inv) : p[s] * inv;
        }
        for (int d = 0; d < hd; d++) {
            out[qOff + d] = batch
                    ? dotTinyBlas(v, kvOff + d, kvDim, p, 0, n, lanes)
                    : dotF16(v, kvOff + d, kvDim, p, 0, n, nPad, lanes);
        }
    }

    /** ggml's RoPE, theta stepped in float, FMA as the reference engines' compilers fuse it. */
    private void rope(float[] vec, int pos) {
        int half = c.ropeDims() / 2;
        float thetaScale = (float) StrictMath.pow(c.ropeFreqBase(), -2.0f / c.ropeDims());
        for (int h = 0; h < vec.length / c.headDim(); h++) {
            float theta = pos;
            for (int i = 0; i < half; i++) {
                float cos = GlibcSinCos.cosf(theta);
                float sin = GlibcSinCos.sinf(theta);
                boolean neox = c.architecture().ropeStyle == Architecture.RopeStyle.NEOX;
                int a = h * c.headDim() + (neox ? i : 2 * i);
                int b = h * c.headDim() + (neox ? i + half : 2 * i + 1);
                float x0 = vec[a];
                float x1 = vec[b];
                vec[a] = Math.fma(x0, cos, -(x1 * sin));
                vec[b] = Math.fma(x0, sin, x1 * cos);
                theta *= thetaScale;
            }
        }
    }

    private float[] rmsNorm(float[] x, float[] weight) {
        double sum = 0;
        for (float v : x) {
            sum += v * v;
        }
        float mean = (float) (sum / x.length);
        float scale = 1.0f / (float) Math.sqrt(mean + c.rmsEps());
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = (x[i] * scale) * weight[i];
        }
        return y;
    }

    private static float[] matmul(WeightMatrix m, float[] x) {
        Activations a = new Activations(m.activationFormat(), m.inFeatures(), 1);
        a.quantize(x, 0, 0);
        a.setRows(1);
        float[] y = new float[m.outFeatures()];
        for (int r = 0; r < y.length; r++) {
            y[r] = ReferenceDot.dot(m, r, a, 0);
        }
        return y;
    }

    private static float[] scaled(float[] y, float s) {
        if (s != 1f) {
            for (int i = 0; i < y.length; i++) {
                y[i] *= s;
            }
        }
        return y;
    }

    /**
     * {@code ggml_vec_dot_f16} over a vector of {@code paddedN} values of which only the first {@code n} may be
     * non-zero: {@code x[xOff + i*xStride] · y[yOff + i]}. Values below {@code paddedN - paddedN%64} go through 4×16
     * FMA lanes (value i to accumulator (i%64)/16, lane i%16), the accumulators are added as (a0+a2)+(a1+a3)
     * lane-wise and reduced with {@link GgmlFloat#reduce16}; the rest is added in double, one float product at a time.
     * Skipping the zero values changes nothing. Inputs must already be F16 values. {@code lanes}: 64 floats.
     */
    static float dotF16(float[] x, int xOff, int xStride, float[] y, int yOff, int n, int paddedN, float[] lanes) {
        int np = paddedN - paddedN % GgmlFloat.F16_STEP;
        int inLanes = Math.min(n, np);
        java.util.Arrays.fill(lanes, 0, GgmlFloat.F16_STEP, 0f);
        for (int i = 0; i < inLanes; i++) {
            int s = i % GgmlFloat.F16_STEP;
            lanes[s] = Math.fma(x[xOff + i * xStride], y[yOff + i], lanes[s]);
        }
        for (int l = 0; l < GgmlFloat.LANES; l++) {
            int w = GgmlFloat.LANES;
            lanes[l] = (lanes[l] + lanes[2 * w + l]) + (lanes[w + l] + lanes[3 * w + l]);
        }
        double sum = GgmlFloat.reduce16(lanes, 0);
        for (int i = np; i < n; i++) {
            sum += x[xOff + i * xStride] * y[yOff + i];
        }
        return (float) sum;
    }

    /**
     * llamafile's {@code tinyBLAS} dot (AVX-512): value i goes to FMA lane i%16, the lanes are reduced with
     * {@link GgmlFloat#reduce16}. As in {@link #dotF16}, values past {@code n} are zero padding and skipped; tinyBLAS
     * declines a padded length that is not a multiple of 16. {@code lanes}: 16 floats.
     */
    static float dotTinyBlas(float[] x, int xOff, int xStride, float[] y, int yOff, int n, float[] lanes) {
        java.util.Arrays.fill(lanes, 0, GgmlFloat.LANES, 0f);
        for (int i = 0; i < n; i++) {
            int l = i % GgmlFloat.LANES;
            lanes[l] = Math.fma(x[xOff + i * xStride], y[yOff + i], lanes[l]);
        }
        return GgmlFloat.reduce16(lanes, 0);
    }

    private static float f16(float v) {
        return Float.float16ToFloat(Float.floatToFloat16(v));
    }
}
