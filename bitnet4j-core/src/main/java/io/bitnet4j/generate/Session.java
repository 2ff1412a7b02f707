package io.bitnet4j.generate;

import io.bitnet4j.model.ForwardPass;
import io.bitnet4j.model.KvCache;
import java.util.Arrays;
import java.util.concurrent.CancellationException;

/**
 * One conversation with a model: its own KV cache and the token ids it holds. A new prompt that starts with tokens
 * already in the cache (the earlier turns of a chat) only evaluates what is new. Sessions of one model are
 * independent; their forward passes take turns on the model's threads. Not thread-safe, except {@link #cancel()}.
 */
public final class Session {
    private final BitNetModel model;
    private final KvCache cache;
    private final ForwardPass forward;
    private final int[] tokens;
    private int lastPrefillEvaluated;
    /** Where {@link #appendAll} puts this session's logits. */
    private float[] batchLogits;
    private volatile boolean cancelled;

    Session(BitNetModel model, int contextSize, int batchSize) {
        this.model = model;
        this.cache = new KvCache(model.config(), contextSize);
        this.forward = model.newForwardPass(batchSize, contextSize);
        this.tokens = new int[contextSize];
    }

    public BitNetModel model() {
        return model;
    }

    public int contextSize() {
        return cache.capacity();
    }

    /** Number of positions in use. */
    public int length() {
        return cache.length();
    }

    /** The token ids the cache holds, in order. */
    public int[] tokens() {
        return Arrays.copyOf(tokens, cache.length());
    }

    /** Forgets everything: the next prompt is evaluated from scratch. */
    public void reset() {
        cache.truncate(0);
    }

    /**
     * Makes the cache hold exactly {@code ids}: keeps the longest prefix it already holds, evaluates the rest in
     * batches, and returns the logits of the last id (a buffer reused by the next call).
     */
    public float[] prefill(int[] ids) {
        if (ids.length == 0) {
            throw new IllegalArgumentException("the prompt is empty: at least one token is needed");
        }
        if (ids.length > contextSize()) {
            throw new IllegalArgumentException("the prompt has " + ids.length + " tokens, more than the context size "
                    + contextSize() + " (raise the context size, e.g. -c " + ids.length * 2 + ")");
        }
        int common = 0;
        int held = cache.length();
        while (common < held && common < ids.length && tokens[common] == ids[common]) {
            common++;
        }
        if (common == ids.length) {
            common--; // the last token is evaluated again for its logits
        }
        cache.truncate(common);
        lastPrefillEvaluated = 0;
        float[] logits = null;
        for (int off = common; off < ids.length; off += forward.maxBatch()) {
            if (cancelled) {
                throw new CancellationException("cancelled during prompt evaluation");
            }
            int n = Math.min(forward.maxBatch(), ids.length - off);
            logits = evaluate(ids, off, n);
            lastPrefillEvaluated += n;
        }
        return logits;
    }

    /**
     * Evaluates the next batch (at most the session's batch size) of the tokens of {@code ids} that the cache does not
     * hold yet, all but the last id, which {@link #start} evaluates for its logits; keeps the longest prefix the cache
     * already holds. Lets a server evaluate a long prompt in pieces between the decode steps of other sequences.
     * Returns the number of tokens evaluated: 0 once everything but the last id is cached.
     */
    public int prefillNextBatch(int[] ids) {
        if (ids.length == 0 || ids.length > contextSize()) {
            prefill(ids); // throws, saying what is wrong with the prompt
        }
        int common = 0;
        int held = cache.length();
        while (common < held && common < ids.length - 1 && tokens[common] == ids[common]) {
            common++;
        }
        cache.truncate(common);
        int n = Math.min(forward.maxBatch(), ids.length - 1 - common);
        if (n > 0) {
            evaluate(ids, common, n);
        }
        return n;
    }

    /** Evaluates one more token and returns the logits after it. */
    public float[] append(int id) {
        if (cache.length() >= contextSize()) {
            throw new IllegalStateException("the context is full (" + contextSize() + " tokens)");
        }
        return evaluate(new int[] {id}, 0, 1);
    }

    /**
     * Evaluates one more token in each of several sessions of the same model and returns each one's logits (each
     * session's own buffer). Each session's result is the same as its own {@link #append}.
     */
    static float[][] appendAll(Session[] sessions, int[] ids) {
        if (sessions.length == 1) {
            return new float[][] {sessions[0].append(ids[0])};
        }
        KvCache[] caches = new KvCache[sessions.length];
        float[][] out = new float[sessions.length][];
        for (int i = 0; i < sessions.length; i++) {
            Session s = sessions[i];
            if (s.model != sessions[0].model) {
                throw new IllegalArgumentException("sessions of different models cannot be evaluated together");
            }
            if (s.cache.length() >= s.contextSize()) {
                throw new IllegalStateException("the context is full (" + s.contextSize() + " tokens)");
            }
            caches[i] = s.cache;
            if (s.batchLogits == null) {
                s.batchLogits = new float[s.model.config().vocabSize()];
            }
            out[i] = s.batchLogits;
        }
        sessions[0].model.decodeEach(caches, ids, out);
        for (int i = 0; i < sessions.length; i++) {
            sessions[i].tokens[sessions[i].cache.length() - 1] = ids[i];
        }
        return out;
    }

    private float[] evaluate(int[] ids, int off, int n) {
        int start = cache.length();
        float[] logits = model.compute(() -> forward.forward(cache, ids, off, n));
        System.arraycopy(ids, off, tokens, start, n);
        return logits;
    }

    /** Tokens evaluated by the last {@link #prefill} (the rest came from the cache). */
    int lastPrefillEvaluated() {
        return lastPrefillEvaluated;
    }

    /** Starts a generation after {@code promptIds}; pull tokens from the returned iterator. */
    public Generation start(int[] promptIds, GenerationParams params) {
        return new Generation(this, promptIds, params);
    }

    /** Generates to the end, handing each token to {@code listener} as it comes. */
    public GenerationResult generate(int[] promptIds, GenerationParams params, TokenListener listener) {
        Generation g = start(promptIds, params);
        while (g.hasNext()) {
            GeneratedToken t = g.next();
            if (listener != null) {
                listener.onToken(t.id(), t.text());
            }
        }
        return g.result();
    }

    /** Tokenizes {@code prompt} as the model's tokenizer prescribes (BOS per metadata, special tokens parsed), then generates. */
    public GenerationResult generate(String prompt, GenerationParams params, TokenListener listener) {
        return generate(model.encode(prompt), params, listener);
    }

    /** Asks the running generation (from any thread) to stop after the current step. */
    public void cancel() {
        cancelled = true;
    }

    boolean isCancelled() {
        return cancelled;
    }

    void clearCancel() {
        cancelled = false;
    }
}
