package io.bitnet4j.model;

import io.bitnet4j.tensor.ActivationFormat;
import io.bitnet4j.tensor.Activations;
import io.bitnet4j.tensor.WeightMatrix;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The transformer forward pass over a batch of up to {@code maxBatch} tokens, with buffers allocated once.
 * One layer, as in the reference engines:
 * <pre>
 *   h = rms(x)·attn_norm;  q,k,v = Wq·h, Wk·h, Wv·h;  RoPE(q, k);  a = attention(q, K, V)
 *   [a = rms(a)·attn_sub_norm];  x += Wo·a
 *   h = rms(x)·ffn_norm;  f = act(Wgate·h) * (Wup·h)    act = relu² (bitnet-b1.58) or silu
 *   [f = rms(f)·ffn_sub_norm];  x += Wdown·f
 * </pre>
 * then {@code logits = output · (rms(x)·output_norm)}. Every {@code W·h} first converts h to the weight's activation
 * format (per-token int8 for I2_S, Q8_K blocks for TQ/Q6_K, F16 for an F16 head). Not thread-safe: one per session.
 *
 * <p>Numerics: the logits are bit-identical to bitnet.cpp's (I2_S files) and llama.cpp's (everything else) on x86
 * with AVX-512, because every int8 re-quantization amplifies a one-ulp difference into a different code. What that
 * takes, and where it lives: RMSNorm's double sum ({@link RmsNorm}); RoPE's float theta and FMA ({@link Rope});
 * F16 Q/K/V, padded KV length, ggml's expf and lane orders, batch-vs-token kernels ({@link Attention},
 * {@link GgmlFloat}, {@link ReferenceEngine}); SiLU with ggml's expf ({@link GgmlFloat#silu}); the weight types'
 * dot products in ggml's x86 lane order (tensor package). Threads only split independent rows or heads, so any
 * thread count gives the same logits. A prompt evaluated in one call is one "batch" for the attention rules, as a
 * llama.cpp micro-batch is (512 tokens by default).
 */
public final class ForwardPass {
    /** Which buffer feeds a matmul; each has its own prepared-activation slots, one per format. */
    private enum Input { HIDDEN, ATTENTION, FFN }

    private final ModelConfig c;
    private final ModelWeights w;
    private final WorkerPool pool;
    private final int maxBatch;
    private final int maxContext;
    private final Rope rope;

    /**
     * Per-row buffers, for {@link #rows} rows: grown (at least doubling, at most {@code maxBatch}) when a larger
     * batch comes, so that a pass that only ever decodes, or took a short prompt, holds a few rows instead of the
     * 512 of a full prompt batch (~80 MB for a 2B model, which would stay resident).
     */
    private int rows;
    private float[] x;
    private float[] xb;
    private float[] q;
    private float[] k;
    private float[] v;
    private float[] att;
    private float[] gate;
    private float[] up;
    private float[] delta;
    private float[] cos;
    private float[] sin;
    private final float[] logits;
    /** Per batch row: the cache it belongs to and its position there (one sequence, or one row per sequence). */
    private final KvCache[] cacheOf;
    private final int[] positionOf;
    /** Logits of every row, for {@link #forwardEach} and {@link #forwardAll}; allocated on first use. */
    private float[] rowLogits;
    private final ReferenceEngine engine;
    private final Attention.Scratch[] attentionScratch;
    private final Activations[][] prepared = new Activations[Input.values().length][ActivationFormat.values().length];
    private final MatMulTask matMul;
    private final AttentionTask attention = new AttentionTask();

    public ForwardPass(ModelConfig c, ModelWeights w, WorkerPool pool, int maxBatch, int maxContext) {
        this.c = c;
        this.w = w;
        this.pool = pool;
        this.matMul = new MatMulTask(pool.threads());
        this.maxBatch = maxBatch;
        this.maxContext = maxContext;
        this.rope = new Rope(c.architecture().ropeStyle, c.headDim(), c.ropeDims(), c.ropeFreqBase());
        if (maxBatch < 1) {
            throw new IllegalArgumentException("batch of at least 1 token needed, got " + maxBatch);
        }
        logits = new float[c.vocabSize()];
        ensureRows(1);
        cacheOf = new KvCache[maxBatch];
        positionOf = new int[maxBatch];
        engine = ReferenceEngine.of(w);
        attentionScratch = new Attention.Scratch[pool.threads()];
        for (int i = 0; i < attentionScratch.length; i++) {
            attentionScratch[i] = new Attention.Scratch(maxContext, c.headDim());
        }
    }

    public int maxBatch() {
        return maxBatch;
    }

    /** The longest context its attention scratch serves. */
    public int maxContext() {
        return maxContext;
    }

    /**
     * Evaluates {@code n} tokens at positions {@code cache.length() ..}, appends their keys and values to the cache,
     * and returns the logits of the last one (a buffer reused by the next call).
     */
    public float[] forward(KvCache cache, int[] tokens, int off, int n) {
        append(cache, tokens, off, n);
        RmsNorm.apply(x, (n - 1) * c.dim(), w.outputNorm(), c.rmsEps(), xb, 0, c.dim());
        run(Input.HIDDEN, xb, 1, w.output(), logits, null, null, null, null);
        return logits;
    }

    /**
     * Like {@link #forward}, but writes the logits of every one of the {@code n} tokens: row t (predicting the token
     * after {@code tokens[off + t]}) goes to {@code out[outOff + t * vocab ..]}. What perplexity needs; the hidden
     * states are those of {@link #forward}, and the head's product is the same per row.
     */
    public void forwardAll(KvCache cache, int[] tokens, int off, int n, float[] out, int outOff) {
        int vocab = c.vocabSize();
        Objects.checkFromIndexSize(outOff, Math.multiplyExact(n, vocab), out.length);
        append(cache, tokens, off, n);
        int dim = c.dim();
        for (int t = 0; t < n; t++) {
            RmsNorm.apply(x, t * dim, w.outputNorm(), c.rmsEps(), xb, t * dim, dim);
        }
        if (rowLogits == null) {
            rowLogits = new float[rows * vocab];
        }
        run(Input.HIDDEN, xb, n, w.output(), rowLogits, null, null, null, null);
        System.arraycopy(rowLogits, 0, out, outOff, n * vocab);
    }

    /** Runs every layer over {@code n} tokens at the end of {@code cache} and appends their keys and values. */
    private void append(KvCache cache, int[] tokens, int off, int n) {
        int start = cache.length();
        checkBatch(n);
        if (cache.capacity() > maxContext) {
            throw new IllegalArgumentException("a context of " + cache.capacity() + " positions, this pass serves "
                    + maxContext);
        }
        if (start + n > cache.capacity()) {
            throw new IllegalStateException("context full: " + (start + n) + " positions needed, " + cache.capacity()
                    + " available");
        }
        for (int t = 0; t < n; t++) {
            cacheOf[t] = cache;
            positionOf[t] = start + t;
        }
        layers(tokens, off, n, n > 1);
        cache.setLength(start + n);
    }

    /**
     * Decodes one token in each of {@code n} sequences at once: row i is {@code tokens[i]} at the end of
     * {@code caches[i]}. The weights are streamed once for all rows; each row's arithmetic is exactly that of
     * decoding its token alone with {@link #forward}. Writes row i's logits into {@code out[i]}.
     */
    public void forwardEach(KvCache[] caches, int[] tokens, int n, float[][] out) {
        checkBatch(n);
        for (int t = 0; t < n; t++) {
            for (int u = 0; u < t; u++) {
                if (caches[u] == caches[t]) {
                    throw new IllegalArgumentException("rows " + u + " and " + t + " share a KV cache");
                }
            }
            if (caches[t].capacity() > maxContext) {
                throw new IllegalArgumentException("row " + t + " has a context of " + caches[t].capacity()
                        + " positions, this pass serves " + maxContext);
            }
            if (caches[t].length() >= caches[t].capacity()) {
                throw new IllegalStateException("context full: row " + t + " has no free position");
            }
            cacheOf[t] = caches[t];
            positionOf[t] = caches[t].length();
        }
        layers(tokens, 0, n, false);
        int dim = c.dim();
        for (int t = 0; t < n; t++) {
            caches[t].setLength(positionOf[t] + 1);
            RmsNorm.apply(x, t * dim, w.outputNorm(), c.rmsEps(), xb, t * dim, dim);
        }
        int vocab = c.vocabSize();
        if (rowLogits == null) {
            rowLogits = new float[rows * vocab];
        }
        run(Input.HIDDEN, xb, n, w.output(), rowLogits, null, null, null, null);
        for (int t = 0; t < n; t++) {
            System.arraycopy(rowLogits, t * vocab, out[t], 0, vocab);
        }
    }

    private void checkBatch(int n) {
        if (n < 1 || n > maxBatch) {
            throw new IllegalArgumentException("batch of " + n + " tokens (1.." + maxBatch + " allowed)");
        }
        ensureRows(n);
    }

    /** Grows the per-row buffers (and drops the prepared activations, sized like them) to hold n rows. */
    private void ensureRows(int n) {
        if (n <= rows) {
            return;
        }
        rows = Math.min(maxBatch, Math.max(n, 2 * rows));
        x = new float[rows * c.dim()];
        xb = new float[rows * c.dim()];
        q = new float[rows * c.qDim()];
        k = new float[rows * c.kvDim()];
        v = new float[rows * c.kvDim()];
        att = new float[rows * c.qDim()];
        gate = new float[rows * c.ffDim()];
        up = new float[rows * c.ffDim()];
        delta = new float[rows * c.dim()];
        cos = new float[rows * c.ropeDims() / 2];
        sin = new float[rows * c.ropeDims() / 2];
        for (Activations[] byFormat : prepared) {
            Arrays.fill(byFormat, null);
        }
        rowLogits = null;
    }

    /** Embeds rows [0, n) and runs every layer; {@code batchAttention} picks the engines' batch attention kernel. */
    private void layers(int[] tokens, int off, int n, boolean batchAttention) {
        int dim = c.dim();
        for (int t = 0; t < n; t++) {
            int token = tokens[off + t];
            if (token < 0 || token >= c.vocabSize()) {
                throw new IllegalArgumentException("token id " + token + " outside the vocabulary (0.." + (c.vocabSize() - 1) + ")");
            }
            w.tokenEmbedding().dequantizeRow(token, x, t * dim);
            rope.angles(positionOf[t], cos, sin, t * c.ropeDims() / 2);
        }
        for (int l = 0; l < c.layers(); l++) {
            layer(l, w.layers()[l], n, batchAttention);
        }
    }

    private void layer(int l, ModelWeights.Layer L, int n, boolean batchAttention) {
        int dim = c.dim();
        float eps = c.rmsEps();
        for (int t = 0; t < n; t++) {
            RmsNorm.apply(x, t * dim, L.attnNorm(), eps, xb, t * dim, dim);
        }
        run(Input.HIDDEN, xb, n, L.wq(), q, L.wk(), k, L.wv(), v);
        scale(q, n * c.qDim(), L.wqScale());
        scale(k, n * c.kvDim(), L.wkScale());
        scale(v, n * c.kvDim(), L.wvScale());

        int kvDim = c.kvDim();
        for (int t = 0; t < n; t++) {
            rope.rotate(q, t * c.qDim(), c.heads(), cos, sin, t * c.ropeDims() / 2);
            rope.rotate(k, t * kvDim, c.kvHeads(), cos, sin, t * c.ropeDims() / 2);
            float[] keys = cacheOf[t].keys[l];
            float[] values = cacheOf[t].values[l];
            int dst = positionOf[t] * kvDim;
            for (int i = 0; i < kvDim; i++) {
                keys[dst + i] = Float.float16ToFloat(Float.floatToFloat16(k[t * kvDim + i]));
                values[dst + i] = Float.float16ToFloat(Float.floatToFloat16(v[t * kvDim + i]));
            }
        }
        attention.set(l, n, batchAttention);
        pool.run(attention);

        if (L.attnSubNorm() != null) {
            for (int t = 0; t < n; t++) {
                RmsNorm.apply(att, t * c.qDim(), L.attnSubNorm(), eps, att, t * c.qDim(), c.qDim());
            }
        }
        run(Input.ATTENTION, att, n, L.wo(), delta, null, null, null, null);
        addScaled(x, delta, n * dim, L.woScale());

        for (int t = 0; t < n; t++) {
            RmsNorm.apply(x, t * dim, L.ffnNorm(), eps, xb, t * dim, dim);
        }
        run(Input.HIDDEN, xb, n, L.gate(), gate, L.up(), up, null, null);
        int ff = c.ffDim();
        scale(gate, n * ff, L.gateScale());
        scale(up, n * ff, L.upScale());
        gatedActivation(n);
        if (L.ffnSubNorm() != null) {
            for (int t = 0; t < n; t++) {
                RmsNorm.apply(gate, t * ff, L.ffnSubNorm(), eps, gate, t * ff, ff);
            }
        }
        run(Input.FFN, gate, n, L.down(), delta, null, null, null, null);
        addScaled(x, delta, n * dim, L.downScale());
    }

    /**
     * gate = act(gate) * up for n rows, in ggml's operation order: relu, square, multiply; or silu (with ggml's
     * own expf, see {@link GgmlFloat#silu}), multiply.
     */
    private void gatedActivation(int n) {
        int ff = c.ffDim();
        if (c.architecture().ffnActivation == Architecture.FfnActivation.RELU_SQUARED) {
            for (int i = 0; i < n * ff; i++) {
                float r = Math.max(gate[i], 0f);
                gate[i] = (r * r) * up[i];
            }
        } else {
            for (int t = 0; t < n; t++) {
                GgmlFloat.silu(gate, t * ff, ff);
            }
            for (int i = 0; i < n * ff; i++) {
                gate[i] *= up[i];
            }
        }
    }

    private static void scale(float[] a, int len, float s) {
        if (s != 1f) {
            for (int i = 0; i < len; i++) {
                a[i] *= s;
            }
        }
    }

    private static void addScaled(float[] x, float[] d, int len, float s) {
        for (int i = 0; i < len; i++) {
            x[i] += s == 1f ? d[i] : d[i] * s;
        }
    }

    /**
     * Converts {@code n} rows of {@code in} to each matrix's activation format (once per distinct format), then
     * computes up to three matmuls sharing that input in one parallel region.
     */
    private void run(Input input, float[] in, int n, WeightMatrix a, float[] outA, WeightMatrix b, float[] outB,
            WeightMatrix cM, float[] outC) {
        Activations actA = prepare(input, in, n, a);
        Activations actB = b == null ? null : b.activationFormat() == a.activationFormat() ? actA : prepare(input, in, n, b);
        Activations actC = cM == null ? null
                : cM.activationFormat() == a.activationFormat() ? actA
                : b != null && cM.activationFormat() == b.activationFormat() ? actB : prepare(input, in, n, cM);
        matMul.set(actA, a, outA, actB, b, outB, actC, cM, outC);
        pool.run(matMul);
    }

    /** Converts rows [0, n) of {@code in} to the activation format of {@code m}, in a buffer reused across calls. */
    private Activations prepare(Input input, float[] in, int n, WeightMatrix m) {
        ActivationFormat f = m.activationFormat();
        Activations acts = prepared[input.ordinal()][f.ordinal()];
        if (acts == null) {
            acts = new Activations(f, m.inFeatures(), rows);
            prepared[input.ordinal()][f.ordinal()] = acts;
        }
        for (int t = 0; t < n; t++) {
            acts.quantize(in, t * m.inFeatures(), t);
        }
        acts.setRows(n);
        return acts;
    }

    /**
     * Rows of up to three matrices, split among the pool's threads in units that the threads take in turn from a
     * shared counter, so a thread that started late or streams slower takes fewer. A large matrix times one token
     * (the output head: 656 MB at F16) goes in up to {@link #UNITS_PER_THREAD} units per thread; with fixed halves
     * the caller waited 4-9% of a token for the other thread, 4-5% with units. Units stay at least
     * {@link #MIN_UNIT_BYTES} of weights, a run long enough for the prefetchers whatever the layout. A smaller
     * matrix goes in one unit per thread: the ternary lookup layout stores each thread's share of blocks as one run
     * (its shares are these units when the weights were prepared on this pool), and units smaller than a share
     * jump between runs (they streamed ~20% slower).
     * Several tokens' rows go in one slice per thread: the batch kernels build per-call tables that more units would
     * rebuild.
     */
    private static final class MatMulTask implements WorkerPool.Slices {
        /** Units start on whole row blocks of the ternary lookup kernel ({@code TernaryLut.ROWS}). */
        private static final int ROW_QUANTUM = 128;
        private static final int UNITS_PER_THREAD = 8;
        private static final long MIN_UNIT_BYTES = 16L << 20;
        private final WeightMatrix[] m = new WeightMatrix[3];
        private final Activations[] act = new Activations[3];
        private final float[][] out = new float[3][];
        private final int[] unitRows = new int[3];
        /** First unit of each matrix, and the total, in the shared numbering. */
        private final int[] firstUnit = new int[4];
        private final AtomicInteger nextUnit = new AtomicInteger();
        private final int threads;

        MatMulTask(int threads) {
            this.threads = threads;
        }

        void set(Activations actA, WeightMatrix a, float[] outA, Activations actB, WeightMatrix b, float[] outB,
                Activations actC, WeightMatrix c, float[] outC) {
            m[0] = a;
            m[1] = b;
            m[2] = c;
            act[0] = actA;
            act[1] = actB;
            act[2] = actC;
            out[0] = outA;
            out[1] = outB;
            out[2] = outC;
            int units = 0;
            for (int i = 0; i < 3; i++) {
                firstUnit[i] = units;
                if (m[i] != null) {
                    int rows = m[i].outFeatures();
                    int n = threads;
                    if (act[i].rows() == 1 && threads > 1) { // one thread has nobody to balance against
                        long big = m[i].data().byteSize() / MIN_UNIT_BYTES;
                        n = (int) Math.clamp(big, threads, (long) threads * UNITS_PER_THREAD);
                    }
                    int blocks = (rows + ROW_QUANTUM - 1) / ROW_QUANTUM;
                    unitRows[i] = ROW_QUANTUM * ((blocks + n - 1) / n);
                    units += (rows + unitRows[i] - 1) / unitRows[i];
                }
            }
            firstUnit[3] = units;
            nextUnit.set(0);
        }

        @Override
        public void run(int index, int count) {
            for (int u = nextUnit.getAndIncrement(); u < firstUnit[3]; u = nextUnit.getAndIncrement()) {
                int i = u < firstUnit[1] ? 0 : u < firstUnit[2] ? 1 : 2;
                int rows = m[i].outFeatures();
                int from = (u - firstUnit[i]) * unitRows[i];
                m[i].matMul(act[i], out[i], rows, from, Math.min(rows, from + unitRows[i]));
            }
        }
    }

    /**
     * (token, head) pairs dealt to the threads in turn; each token attends over its own cache up to its own position.
     * Dealt, not cut in ranges: in a prompt the later tokens attend over more positions, and with ranges the thread
     * holding the second half had most of the work (at pp512 the caller waited a quarter of the time).
     */
    private final class AttentionTask implements WorkerPool.Slices {
        private int layer;
        private int n;
        private boolean batch;

        void set(int layer, int n, boolean batch) {
            this.layer = layer;
            this.n = n;
            this.batch = batch;
        }

        @Override
        public void run(int index, int count) {
            int heads = c.heads();
            int total = n * heads;
            int group = heads / c.kvHeads();
            float scale = 1.0f / (float) Math.sqrt(c.headDim());
            for (int i = index; i < total; i += count) {
                int t = i / heads;
                int h = i % heads;
                int qOff = t * c.qDim() + h * c.headDim();
                Attention.head(engine, q, qOff, cacheOf[t].keys[layer], cacheOf[t].values[layer], c.kvDim(),
                        (h / group) * c.headDim(), c.headDim(), positionOf[t] + 1, scale, batch,
                        attentionScratch[index], att, qOff);
            }
        }
    }
}
