package io.bitnet4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bitnet4j.generate.BitNetModel;
import io.bitnet4j.model.ForwardPass;
import io.bitnet4j.model.KvCache;
import io.bitnet4j.model.WorkerPool;
import io.bitnet4j.synth.ModelLayout;
import io.bitnet4j.synth.SynthModel;
import io.bitnet4j.synth.SynthOptions;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * llama-perplexity's method on a tiny synth model, checked against an independent computation: every chunk decoded
 * token by token with {@link ForwardPass#forward} from an empty cache, a log-softmax in double written here, and
 * exp(mean NLL) over the second half of each chunk.
 */
class PerplexityTest {
    static final String TEXT = "It was the best of times, it was the worst of times, it was the age of wisdom, it was "
            + "the age of foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the season "
            + "of Light, it was the season of Darkness, it was the spring of hope, it was the winter of despair.";
    static final int CONTEXT = 32;

    @TempDir
    static Path dir;
    static BitNetModel model;

    @BeforeAll
    static void load() {
        Path file = dir.resolve("tiny.gguf");
        SynthModel.write(SynthOptions.builder().layout(ModelLayout.TINY).seed(1).build(), file);
        model = BitNetModel.load(file, 2);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** The perplexity computed token by token, independently of {@link ChunkedEvaluation} and {@link Perplexity}. */
    static double pplByHand(BitNetModel m, int[] tokens, int context, int chunks) {
        int vocab = m.config().vocabSize();
        double nll = 0;
        int count = 0;
        try (WorkerPool pool = new WorkerPool(1)) {
            ForwardPass pass = m.model().newForwardPass(pool, 1, context);
            for (int chunk = 0; chunk < chunks; chunk++) {
                int[] t = java.util.Arrays.copyOfRange(tokens, chunk * context, (chunk + 1) * context);
                if (m.tokenizer().addBosByDefault()) {
                    t[0] = m.tokenizer().bosId();
                }
                KvCache cache = new KvCache(m.config(), context);
                for (int j = 0; j < context - 1; j++) {
                    float[] logits = pass.forward(cache, t, j, 1);
                    if (j >= context / 2) {
                        double max = Double.NEGATIVE_INFINITY;
                        for (int i = 0; i < vocab; i++) {
                            max = Math.max(max, logits[i]);
                        }
                        double sum = 0;
                        for (int i = 0; i < vocab; i++) {
                            sum += Math.exp(logits[i] - max);
                        }
                        nll -= logits[t[j + 1]] - max - Math.log(sum);
                        count++;
                    }
                }
            }
        }
        return Math.exp(nll / count);
    }

    private static Perplexity measure(int batch, int chunksAsked) {
        try (ChunkedEvaluation eval = new ChunkedEvaluation(model, CONTEXT, batch, 2)) {
            int[] tokens = eval.tokenize(TEXT);
            int chunks = eval.chunkCount(tokens.length, chunksAsked);
            return Perplexity.measure(eval, eval.prepare(tokens, chunks), chunks, null, (c, n, p) -> {});
        }
    }

    @Test
    void tokenByTokenEvaluationGivesTheIndependentPerplexity() {
        int[] tokens = model.tokenizer().encode(TEXT, model.tokenizer().addBosByDefault(), false);
        int chunks = tokens.length / CONTEXT;
        assertTrue(chunks >= 3, "text gives " + tokens.length + " tokens");
        double expected = pplByHand(model, tokens, CONTEXT, chunks);
        Perplexity p = measure(1, 0);
        assertEquals(chunks * (CONTEXT / 2 - 1), p.count());
        // same logits (batch 1 runs forward's arithmetic); only the log-sum-exp code differs
        assertEquals(expected, p.value(), expected * 1e-12);
    }

    @Test
    void batchedEvaluationAgreesWithinAttentionRounding() {
        int[] tokens = model.tokenizer().encode(TEXT, model.tokenizer().addBosByDefault(), false);
        double expected = pplByHand(model, tokens, CONTEXT, tokens.length / CONTEXT);
        // a batch takes the engines' batch attention arithmetic, which rounds differently from single tokens
        assertEquals(expected, measure(CONTEXT, 0).value(), expected * 1e-3);
        assertEquals(expected, measure(8, 0).value(), expected * 1e-3);
    }

    @Test
    void chunksLimitsTheEvaluation() {
        int[] tokens = model.tokenizer().encode(TEXT, model.tokenizer().addBosByDefault(), false);
        assertEquals(pplByHand(model, tokens, CONTEXT, 1), measure(1, 1).value(), 1e-9);
        assertEquals(CONTEXT / 2 - 1, measure(1, 1).count());
    }

    @Test
    void errorFollowsLlamaPerplexitysFormula() {
        Perplexity p = new Perplexity();
        double[] nlls = {1.0, 2.0, 4.0};
        for (double v : nlls) {
            p.add(v);
        }
        double mean = 7.0 / 3;
        double variance = (1 + 4 + 16) / 3.0 - mean * mean;
        Perplexity.Estimate e = p.estimate();
        assertEquals(Math.exp(mean), e.value(), 1e-12);
        assertEquals(Math.exp(mean) * Math.sqrt(variance / 2), e.error(), 1e-12);
    }

    @Test
    void badSettingsAndShortTextsAreClearErrors() {
        var odd = assertThrows(IllegalArgumentException.class, () -> new ChunkedEvaluation(model, 33, 8, 1));
        assertTrue(odd.getMessage().contains("even"), odd.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new ChunkedEvaluation(model, 4, 8, 1));
        try (ChunkedEvaluation eval = new ChunkedEvaluation(model, 512, 8, 1)) {
            var shortText = assertThrows(IllegalArgumentException.class,
                    () -> eval.chunkCount(eval.tokenize(TEXT).length, 0));
            assertTrue(shortText.getMessage().contains("fewer than one chunk of 512"), shortText.getMessage());
        }
    }
}
