package io.bitnet4j.eval;

import io.bitnet4j.generate.BitNetModel;
import io.bitnet4j.model.ForwardPass;
import io.bitnet4j.model.KvCache;
import io.bitnet4j.model.WorkerPool;
import java.util.Arrays;

/**
 * llama-perplexity's way of scoring a text: the tokens are cut into chunks of {@code context} tokens; each chunk is
 * evaluated from an empty KV cache (its first token replaced by BOS when the model adds BOS), and only the second
 * half is scored: the logits at positions {@code first = context/2 .. context-2} predict tokens
 * {@code first+1 .. context-1}. The first half only gives those predictions a context to stand on.
 */
public final class ChunkedEvaluation implements AutoCloseable {
    /** The smallest context: two scored predictions per chunk. */
    public static final int MIN_CONTEXT = 6;

    private final BitNetModel model;
    private final int context;
    private final int batch;
    private final int vocab;
    private final WorkerPool pool;
    private final ForwardPass pass;
    private final KvCache cache;
    private final int[] chunkTokens;
    private final float[] logits;

    /** Evaluates with the fast kernels, {@code batch} tokens per forward pass, on its own {@code threads} threads. */
    public ChunkedEvaluation(BitNetModel model, int context, int batch, int threads) {
        if (context < MIN_CONTEXT || context % 2 != 0) {
            throw new IllegalArgumentException("context (-c) must be even and at least " + MIN_CONTEXT + ", got "
                    + context);
        }
        if (batch < 1) {
            throw new IllegalArgumentException("batch size (-b) must be at least 1, got " + batch);
        }
        this.model = model;
        this.context = context;
        this.batch = Math.min(batch, context);
        this.vocab = model.config().vocabSize();
        this.pool = new WorkerPool(threads);
        this.pass = model.model().newForwardPass(pool, this.batch, context);
        this.cache = new KvCache(model.config(), context);
        this.chunkTokens = new int[context];
        this.logits = new float[Math.multiplyExact(context, vocab)];
    }

    /** The text's tokens as llama-perplexity takes them: BOS when the model adds one, special texts left as text. */
    public int[] tokenize(String text) {
        return model.tokenizer().encode(text, model.tokenizer().addBosByDefault(), false);
    }

    /**
     * How many chunks to evaluate: all whole chunks of the text, at most {@code maxChunks} when that is positive.
     * A clear error when the text does not fill one chunk.
     */
    public int chunkCount(int tokenCount, int maxChunks) {
        int whole = tokenCount / context;
        if (whole == 0) {
            throw new IllegalArgumentException("the text has " + tokenCount + " tokens, fewer than one chunk of "
                    + context + " (-c): give a longer text or a smaller context");
        }
        return maxChunks > 0 ? Math.min(whole, maxChunks) : whole;
    }

    public int context() {
        return context;
    }

    public int vocab() {
        return vocab;
    }

    /** The first scored position of a chunk. */
    public int first() {
        return context / 2;
    }

    /** Predictions scored per chunk. */
    public int scoredPerChunk() {
        return context - 1 - first();
    }

    /**
     * The first {@code chunks} chunks of {@code tokens} as they are evaluated: each chunk's first token replaced by
     * BOS when the model adds BOS (as llama-perplexity does), so every chunk starts like a fresh prompt.
     */
    public int[] prepare(int[] tokens, int chunks) {
        int[] evaluated = Arrays.copyOf(tokens, chunks * context);
        if (model.tokenizer().addBosByDefault()) {
            for (int chunk = 0; chunk < chunks; chunk++) {
                evaluated[chunk * context] = model.tokenizer().bosId();
            }
        }
        return evaluated;
    }

    /**
     * Evaluates chunk {@code index} of {@code evaluated} (from {@link #prepare}). Afterwards {@link #chunkTokens()}
     * holds its tokens and {@link #logits()} row j (at {@code j * vocab}) the logits after token j. Both buffers are
     * reused.
     */
    public void evaluate(int[] evaluated, int index) {
        System.arraycopy(evaluated, index * context, chunkTokens, 0, context);
        cache.truncate(0);
        for (int start = 0; start < context; start += batch) {
            int n = Math.min(batch, context - start);
            pass.forwardAll(cache, chunkTokens, start, n, logits, start * vocab);
        }
    }

    public int[] chunkTokens() {
        return chunkTokens;
    }

    public float[] logits() {
        return logits;
    }

    @Override
    public void close() {
        pool.close();
    }
}
