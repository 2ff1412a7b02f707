package io.bitnet4j.generate;

import io.bitnet4j.sampling.Sampler;
import io.bitnet4j.tokenizer.StreamingDecoder;
import io.bitnet4j.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.Iterator;
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
        if (!hasNext()) {
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
        if (stopReason != null) {
            if (!stops.matched()) {
                out += stops.accept(decoder.flush());
                out += stops.flush();
            }
            return new GeneratedToken(id, release(out));
        }
        long t0 = System.nanoTime();
        logits = session.append(id);
        evalNanos += System.nanoTime() - t0;
        evalTokens++;
        return new GeneratedToken(id, release(out));
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
