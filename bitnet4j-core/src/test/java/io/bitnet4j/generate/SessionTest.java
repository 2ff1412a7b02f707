package io.bitnet4j.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bitnet4j.model.ForwardPass;
import io.bitnet4j.model.KvCache;
import io.bitnet4j.model.WorkerPool;
import io.bitnet4j.sampling.SamplerParams;
import io.bitnet4j.synth.ModelLayout;
import io.bitnet4j.synth.SynthModel;
import io.bitnet4j.synth.SynthOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sessions and generations on a tiny synth model (2B-4T architecture, synthetic byte-level vocabulary). */
class SessionTest {
    @TempDir
    static Path dir;
    static BitNetModel model;

    @BeforeAll
    static void load() {
        Path file = dir.resolve("tiny.gguf");
        SynthModel.write(SynthOptions.builder().layout(ModelLayout.TINY).seed(7).build(), file);
        model = BitNetModel.load(file, 2);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** Greedy decoding done by hand on the forward pass: the independent check of the generation loop. */
    private static int[] greedyByHand(int[] prompt, int n) {
        return greedyByHand(prompt, new int[] {prompt.length}, n);
    }

    /**
     * The same, with the prompt evaluated in the given chunks: a batch and single tokens round attention
     * probabilities differently (as the reference engines do), so how the cache was filled matters.
     */
    private static int[] greedyByHand(int[] prompt, int[] chunks, int n) {
        try (WorkerPool pool = new WorkerPool(1)) {
            ForwardPass fp = model.model().newForwardPass(pool, 64, prompt.length + n);
            KvCache cache = new KvCache(model.config(), prompt.length + n);
            float[] logits = null;
            int off = 0;
            for (int c : chunks) {
                logits = fp.forward(cache, prompt, off, c);
                off += c;
            }
            int[] out = new int[n];
            for (int i = 0; i < n; i++) {
                int best = 0;
                for (int j = 1; j < logits.length; j++) {
                    if (logits[j] > logits[best]) {
                        best = j;
                    }
                }
                out[i] = best;
                if (i + 1 < n) {
                    logits = fp.forward(cache, out, i, 1);
                }
            }
            return out;
        }
    }

    private static GenerationParams greedy(int n) {
        return new GenerationParams(n, SamplerParams.greedy(), List.of(), true);
    }

    @Test
    void greedyGenerationIsTheArgmaxChain() {
        int[] prompt = model.encode("The capital of France is");
        GenerationResult r = model.newSession(64).generate(prompt, greedy(12), null);
        assertArrayEquals(greedyByHand(prompt, 12), r.generatedIds());
        assertEquals(StopReason.MAX_TOKENS, r.stopReason());
        assertEquals(model.tokenizer().decode(r.generatedIds()), r.text());
        assertEquals(prompt.length, r.timings().promptTokens());
        assertEquals(11, r.timings().evalTokens(), "the last sampled token is not evaluated");
    }

    @Test
    void iteratorAndCallbackGiveTheSameTokensAndText() {
        int[] prompt = model.encode("Once upon a time");
        List<Integer> ids = new ArrayList<>();
        StringBuilder streamed = new StringBuilder();
        GenerationResult viaCallback = model.newSession(64).generate(prompt, greedy(10), (id, text) -> {
            ids.add(id);
            streamed.append(text);
        });
        Generation g = model.newSession(64).start(prompt, greedy(10));
        StringBuilder pulled = new StringBuilder();
        int count = 0;
        while (g.hasNext()) {
            GeneratedToken t = g.next();
            assertEquals(ids.get(count++), t.id());
            pulled.append(t.text());
        }
        assertEquals(10, count);
        assertEquals(viaCallback.text(), streamed.toString());
        assertEquals(viaCallback.text(), pulled.toString());
    }

    @Test
    void followUpPromptOnlyEvaluatesWhatIsNew() {
        Session s = model.newSession(128);
        int[] first = model.encode("User: hi");
        GenerationResult r1 = s.generate(first, greedy(6), null);
        int[] second = concat(first, r1.generatedIds(), model.tokenizer().encode(" and then", false, false));
        GenerationResult r2 = s.generate(second, greedy(6), null);
        // the last generated token was never evaluated, so it is evaluated now with the new text
        assertEquals(second.length - first.length - r1.generatedIds().length + 1, r2.timings().promptTokens());
        // the cache holds the first prompt (one batch) and 5 generated tokens (one at a time); the rest is one batch
        int[] chunks = {first.length, 1, 1, 1, 1, 1, r2.timings().promptTokens()};
        assertArrayEquals(greedyByHand(second, chunks, 6), r2.generatedIds());
    }

    @Test
    void samePromptTwiceReevaluatesOnlyTheLastToken() {
        Session s = model.newSession(64);
        int[] prompt = model.encode("Hello");
        s.prefill(prompt);
        GenerationResult r = s.generate(prompt, greedy(3), null);
        assertEquals(1, r.timings().promptTokens());
        assertArrayEquals(greedyByHand(prompt, 3), r.generatedIds());
    }

    @Test
    void stopStringEndsTheGenerationAndIsNotInTheText() {
        int[] prompt = model.encode("abc");
        GenerationResult full = model.newSession(64).generate(prompt, greedy(16), null);
        String text = full.text();
        // a stop string taken from the middle of what the model generates
        String stop = text.substring(text.length() / 2, text.length() / 2 + 2);
        GenerationParams p = new GenerationParams(16, SamplerParams.greedy(), List.of(stop), true);
        StringBuilder streamed = new StringBuilder();
        GenerationResult r = model.newSession(64).generate(prompt, p, (id, t) -> streamed.append(t));
        assertEquals(StopReason.STOP_STRING, r.stopReason());
        assertEquals(text.substring(0, text.indexOf(stop)), r.text());
        assertEquals(r.text(), streamed.toString());
    }

    @Test
    void fullContextStopsTheGeneration() {
        int[] prompt = model.encode("x y z");
        int ctx = prompt.length + 4;
        GenerationResult r = model.newSession(ctx).generate(prompt, greedy(-1), null);
        assertEquals(StopReason.CONTEXT_FULL, r.stopReason());
        assertEquals(5, r.generatedIds().length, "4 free positions + the last token, which is never evaluated");
    }

    @Test
    void promptLongerThanTheContextIsAClearError() {
        int[] prompt = model.encode("a b c d e f g h i j k l m n o p");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> model.newSession(4).generate(prompt, greedy(1), null));
        assertTrue(e.getMessage().contains("more than the context size 4"), e.getMessage());
    }

    @Test
    void cancelFromAnotherThreadStopsTheGeneration() throws Exception {
        Session s = model.newSession(4096);
        CountDownLatch started = new CountDownLatch(1);
        AtomicReference<GenerationResult> result = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                result.set(s.generate(model.encode("go"), greedy(-1), (id, text) -> started.countDown()));
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        assertTrue(started.await(30, TimeUnit.SECONDS));
        s.cancel();
        t.join(30_000);
        assertFalse(t.isAlive());
        if (failure.get() != null) {
            throw new AssertionError("the generation failed", failure.get());
        }
        assertEquals(StopReason.CANCELLED, result.get().stopReason());
        assertTrue(result.get().generatedIds().length < 4000);
    }

    @Test
    void aCancelBetweenHasNextAndNextStillDeliversThePromisedToken() {
        Session s = model.newSession(256);
        Generation g = s.start(model.encode("go"), greedy(-1));
        assertTrue(g.hasNext());
        s.cancel(); // as if from another thread, right after hasNext() said yes
        assertNotNull(g.next());
        assertFalse(g.hasNext());
        assertEquals(StopReason.CANCELLED, g.result().stopReason());
        assertThrows(java.util.NoSuchElementException.class, g::next);
    }

    @Test
    void steppingSeveralGenerationsTogetherChangesNothing() {
        String[] prompts = {"one", "two three", "four five six"};
        int[] lengths = {5, 9, 7};
        List<Generation> batch = new ArrayList<>();
        for (int i = 0; i < prompts.length; i++) {
            batch.add(model.newSession(64).start(model.encode(prompts[i]), greedy(lengths[i])));
        }
        int steps = 0;
        while (batch.stream().anyMatch(Generation::hasNext)) {
            Generation.stepAll(batch);
            steps++;
        }
        assertEquals(9, steps);
        for (int i = 0; i < prompts.length; i++) {
            GenerationResult alone = model.newSession(64).generate(model.encode(prompts[i]), greedy(lengths[i]), null);
            assertArrayEquals(alone.generatedIds(), batch.get(i).result().generatedIds());
            assertEquals(alone.text(), batch.get(i).result().text());
        }
    }

    @Test
    void seededSamplingIsReproducible() {
        int[] prompt = model.encode("seed");
        GenerationParams p = new GenerationParams(12, SamplerParams.defaults().withSeed(42), List.of(), true);
        GenerationResult a = model.newSession(64).generate(prompt, p, null);
        GenerationResult b = model.newSession(64).generate(prompt, p, null);
        assertArrayEquals(a.generatedIds(), b.generatedIds());
    }

    private static int[] concat(int[]... parts) {
        int n = 0;
        for (int[] p : parts) {
            n += p.length;
        }
        int[] out = new int[n];
        int o = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, o, p.length);
            o += p.length;
        }
        return out;
    }
}
