package io.bitnet4j.eval;

import io.bitnet4j.generate.BitNetModel;
import io.bitnet4j.model.ForwardPass;
import io.bitnet4j.model.KvCache;
import io.bitnet4j.model.WorkerPool;
import java.util.Arrays;

/**
 * The lossless check: decodes a prompt greedily twice, once with the fast kernels and once with every weight product
 * taken by the types' scalar reference dot products ({@code ModelWeights.withReferenceKernels()}), and compares the
 * two token sequences. Everything but the products is shared code, so any difference is a kernel's.
 */
public final class GreedyVerification implements AutoCloseable {
    private final BitNetModel model;
    private final int context;
    private final int batch;
    private final WorkerPool pool;
    private final ForwardPass fast;
    private final ForwardPass reference;

    /** One prompt's two continuations. */
    public record Result(String prompt, int promptTokens, int[] fast, int[] reference) {
        /** The first generated position where the two differ, or -1 when they are identical. */
        public int firstDivergence() {
            return Arrays.mismatch(fast, reference);
        }

        public boolean identical() {
            return firstDivergence() < 0;
        }

        /** Positions holding the same token in both, over the longer continuation (1 when both are empty). */
        public double matchRate() {
            int longer = Math.max(fast.length, reference.length);
            if (longer == 0) {
                return 1;
            }
            int same = 0;
            for (int i = 0; i < Math.min(fast.length, reference.length); i++) {
                if (fast[i] == reference[i]) {
                    same++;
                }
            }
            return (double) same / longer;
        }
    }

    /** Prompt plus continuation must fit {@code context} tokens; prompts are evaluated {@code batch} at a time. */
    public GreedyVerification(BitNetModel model, int context, int batch, int threads) {
        if (context < 2) {
            throw new IllegalArgumentException("context must be at least 2, got " + context);
        }
        if (batch < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batch);
        }
        this.model = model;
        this.context = context;
        this.batch = Math.min(batch, context);
        this.pool = new WorkerPool(threads);
        this.fast = model.model().newForwardPass(pool, this.batch, context);
        this.reference = new ForwardPass(model.config(), model.model().weights().withReferenceKernels(), pool,
                this.batch, context);
    }

    /** Decodes up to {@code maxTokens} tokens after {@code prompt} on both paths (each stops at end of generation). */
    public Result compare(String prompt, int maxTokens) {
        int[] promptTokens = model.encode(prompt);
        if (promptTokens.length == 0) {
            throw new IllegalArgumentException("prompt \"" + prompt + "\" has no tokens");
        }
        if (promptTokens.length + maxTokens > context) {
            throw new IllegalArgumentException("prompt of " + promptTokens.length + " tokens plus " + maxTokens
                    + " to generate exceeds the context of " + context + " (-c)");
        }
        return new Result(prompt, promptTokens.length, greedy(fast, promptTokens, maxTokens),
                greedy(reference, promptTokens, maxTokens));
    }

    private int[] greedy(ForwardPass pass, int[] prompt, int maxTokens) {
        KvCache cache = new KvCache(model.config(), context);
        float[] logits = null;
        for (int start = 0; start < prompt.length; start += batch) {
            logits = pass.forward(cache, prompt, start, Math.min(batch, prompt.length - start));
        }
        int vocab = model.config().vocabSize();
        int[] out = new int[maxTokens];
        int[] next = new int[1];
        int n = 0;
        while (n < maxTokens) {
            next[0] = LogProbs.argmax(logits, 0, vocab);
            out[n++] = next[0];
            if (model.tokenizer().isEndOfGeneration(next[0]) || n == maxTokens) {
                break;
            }
            logits = pass.forward(cache, next, 0, 1);
        }
        return Arrays.copyOf(out, n);
    }

    @Override
    public void close() {
        pool.close();
    }
}
