package io.bitnet4j.generate;

import io.bitnet4j.sampling.Sampler;
import io.bitnet4j.tokenizer.StreamingDecoder;
import io.bitnet4j.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CancellationException;

/**
 * A generation in progress, pulled one token at a time. Creating it evaluates the prompt; each {@link #next()}
 * samples a token, releases its text and evaluates it for the following step. {@link Session#generate} drives the
 * same loop with a callback.
 */
public final class Generation implements Iterator<GeneratedToken> {
    private final Session session;
    private final Tokenizer tokenizer;
    private final GenerationParams params;
    private final int[] promptIds;
    private final Sampler sampler;
    private final StreamingDecoder decoder;
    private final StopStrings stops;
    private final StringBuilder text = new StringBuilder();
    private final long promptNanos;
    private final int promptEvaluated;
    private int[] generated = new int[16];
    private int count;
    private long evalNanos;
    private int evalTokens;
    private float[] logits;
    private StopReason stopReason;

    Generation(Session session, int[] promptIds, GenerationParams params) {
        this.session = session;
        this.tokenizer = session.model().tokenizer();
        this.params = params;
        this.promptIds = promptIds.clone();
        this.sampler = new Sampler(params.sampler(), session.model().config().vocabSize());
        this.decoder = tokenizer.newStreamingDecoder();
        this.stops = new StopStrings(params.stop());
        for (int id : promptIds) {
            sampler.accept(id);
        }
        session.clearCancel();
        long t0 = System.nanoTime();
        try {
            this.logits = session.prefill(promptIds);
        } catch (CancellationException e) {
            stopReason = StopReason.CANCELLED;
        }
        this.promptNanos = System.nanoTime() - t0;
        this.promptEvaluated = session.lastPrefillEvaluated();
        if (stopReason == null && params.maxTokens() == 0) {
            stopReason = StopReason.MAX_TOKENS;
        }
    }

    @Override
    public boolean hasNext() {
        if (stopReason == null && session.isCancelled()) {
            stopReason = StopReason.CANCELLED;
            release(stops.accept(decoder.flush()) + stops.flush()); // kept in the result; the stream has ended
        }
        return stopReason == null;
    }

    @Override
    public GeneratedToken next() {
        GeneratedToken t = choose();
        if (stopReason == null) {
            long t0 = System.nanoTime();
            evaluated(session.append(t.id()));
            evalNanos += System.nanoTime() - t0;
        }
        return t;
    }

    /**
     * Advances every unfinished generation in {@code batch} by one token, evaluating their new tokens in one forward
     * pass, so the weights are streamed once for all of them (continuous batching). Returns each generation's token,
     * or null for those that had already ended.
     */
    public static GeneratedToken[] stepAll(List<Generation> batch) {
        GeneratedToken[] out = new GeneratedToken[batch.size()];
        List<Generation> toEvaluate = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            Generation g = batch.get(i);
            if (g.hasNext()) {
                out[i] = g.choose();
                if (g.stopReason == null) {
                    toEvaluate.add(g);
                }
            }
        }
        if (!toEvaluate.isEmpty()) {
            Session[] sessions = new Session[toEvaluate.size()];
            int[] ids = new int[toEvaluate.size()];
            for (int i = 0; i < ids.length; i++) {
                sessions[i] = toEvaluate.get(i).session;
                ids[i] = toEvaluate.get(i).generated[toEvaluate.get(i).count - 1];
            }
            long t0 = System.nanoTime();
            float[][] logits = Session.appendAll(sessions, ids);
            long share = (System.nanoTime() - t0) / ids.length;
            for (int i = 0; i < ids.length; i++) {
                toEvaluate.get(i).evaluated(logits[i]);
                toEvaluate.get(i).evalNanos += share;
            }
        }
        return out;
    }

    /** Samples the next token from the current logits and settles its text and whether the generation ends. */
    private GeneratedToken choose() {
        // not hasNext(): a cancel that lands after hasNext() said yes takes effect at the next hasNext(), so the
        // token promised is still delivered (it was the generating thread, or the server's batch, that failed)
        if (stopReason != null) {
            throw new NoSuchElementException("the generation has ended: " + stopReason);
        }
        int id = sampler.sample(logits);
        sampler.accept(id);
        add(id);
        if (!params.ignoreEos() && tokenizer.isEndOfGeneration(id)) {
            stopReason = StopReason.END_OF_GENERATION;
            return new GeneratedToken(id, release(stops.accept(decoder.flush()) + stops.flush()));
        }
        String out = stops.accept(decoder.feed(id));
        if (stops.matched()) {
            stopReason = StopReason.STOP_STRING;
        } else if (count == params.maxTokens()) {
            stopReason = StopReason.MAX_TOKENS;
        } else if (session.length() >= session.contextSize()) {
            stopReason = StopReason.CONTEXT_FULL;
        }
        if (stopReason != null && !stops.matched()) {
            out += stops.accept(decoder.flush());
            out += stops.flush();
        }
        return new GeneratedToken(id, release(out));
    }

    /** The logits after the last chosen token was evaluated. */
    private void evaluated(float[] newLogits) {
        logits = newLogits;
        evalTokens++;
    }

    private String release(String s) {
        text.append(s);
        return s;
    }

    private void add(int id) {
        if (count == generated.length) {
            generated = Arrays.copyOf(generated, count * 2);
        }
        generated[count++] = id;
    }

    /** Why the generation ended, or null while it runs. */
    public StopReason stopReason() {
        return stopReason;
    }

    /** The result so far (complete once {@link #hasNext()} is false). */
    public GenerationResult result() {
        return new GenerationResult(promptIds.clone(), Arrays.copyOf(generated, count), text.toString(), stopReason,
                new Timings(promptNanos, promptEvaluated, evalNanos, evalTokens));
    }
}
