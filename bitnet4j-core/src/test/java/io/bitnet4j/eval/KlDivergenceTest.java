package io.bitnet4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bitnet4j.generate.BitNetModel;
import io.bitnet4j.synth.ModelLayout;
import io.bitnet4j.synth.SynthModel;
import io.bitnet4j.synth.SynthOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Base files and KL divergence between tiny synth models. */
class KlDivergenceTest {
    static final int CONTEXT = 32;

    @TempDir
    static Path dir;
    static BitNetModel seed1;
    static BitNetModel seed2;
    static Path base;
    static Perplexity basePerplexity;

    @BeforeAll
    static void load() {
        seed1 = synth("seed1.gguf", SynthOptions.builder().layout(ModelLayout.TINY).seed(1));
        seed2 = synth("seed2.gguf", SynthOptions.builder().layout(ModelLayout.TINY).seed(2));
        base = dir.resolve("seed1.kld");
        try (ChunkedEvaluation eval = new ChunkedEvaluation(seed1, CONTEXT, 16, 2)) {
            int[] tokens = eval.tokenize(PerplexityTest.TEXT);
            int chunks = eval.chunkCount(tokens.length, 0);
            int[] evaluated = eval.prepare(tokens, chunks);
            try (KlBaseFile.Writer w = new KlBaseFile.Writer(base, eval.vocab(), CONTEXT, chunks, evaluated)) {
                basePerplexity = Perplexity.measure(eval, evaluated, chunks, w, (c, n, p) -> {});
            }
        }
    }

    private static BitNetModel synth(String name, SynthOptions.Builder options) {
        Path file = dir.resolve(name);
        SynthModel.write(options.build(), file);
        return BitNetModel.load(file, 2);
    }

    @AfterAll
    static void close() {
        seed1.close();
        seed2.close();
    }

    private static KlDivergence against(BitNetModel m) {
        try (ChunkedEvaluation eval = new ChunkedEvaluation(m, CONTEXT, 16, 2);
                KlBaseFile.Reader r = new KlBaseFile.Reader(base, eval.vocab())) {
            return KlDivergence.measure(eval, r, 0, (c, n, p) -> {});
        }
    }

    @Test
    void aModelAgainstItsOwnBaseHasNoDivergence() {
        KlDivergence kl = against(seed1);
        assertEquals(basePerplexity.count(), kl.positions());
        // the only difference is the base file's 16-bit quantization of log-probabilities (steps of 3e-4 nats)
        assertEquals(0, kl.meanKld().value(), 1e-6);
        assertEquals(100.0, kl.sameTopPercent().value());
        assertEquals(basePerplexity.value(), kl.perplexity().value(), 1e-12 * basePerplexity.value());
        assertEquals(basePerplexity.value(), kl.basePerplexity().value(), 1e-3 * basePerplexity.value());
        assertEquals(1.0, kl.perplexityRatio().value(), 1e-3);
    }

    @Test
    void anotherModelDiverges() {
        KlDivergence kl = against(seed2);
        assertTrue(kl.meanKld().value() > 1e-2, "mean KLD " + kl.meanKld());
        assertTrue(kl.meanKld().error() > 0);
        assertTrue(kl.sameTopPercent().value() < 100);
        assertTrue(kl.kldQuantile(1.0) >= kl.kldQuantile(0.5));
        assertEquals(basePerplexity.value(), kl.basePerplexity().value(), 1e-3 * basePerplexity.value());
    }

    @Test
    void klDivergenceMatchesADirectSum() {
        // two hand-made distributions through the accumulator: KL(p||q) = sum p ln(p/q)
        double[] p = {Math.log(0.5), Math.log(0.25), Math.log(0.25)};
        double[] q = {Math.log(0.25), Math.log(0.5), Math.log(0.25)};
        double expected = 0.5 * Math.log(2) + 0.25 * Math.log(0.5);
        KlDivergence kl = KlDivergence.of(new double[][] {q}, new double[][] {p}, new int[] {0});
        assertEquals(expected, kl.meanKld().value(), 1e-12);
        assertEquals(0.0, kl.sameTopPercent().value());
    }

    @Test
    void mismatchedBaseFilesAreClearErrors() throws Exception {
        BitNetModel bigger = synth("vocab600.gguf", SynthOptions.builder().layout(ModelLayout.TINY).seed(1).vocab(600));
        try (bigger) {
            var vocab = assertThrows(IllegalArgumentException.class, () -> new KlBaseFile.Reader(base, 600));
            assertTrue(vocab.getMessage().contains("vocabulary of 512 tokens, this model has 600"), vocab.getMessage());
        }
        try (ChunkedEvaluation eval = new ChunkedEvaluation(seed1, 16, 16, 1);
                KlBaseFile.Reader r = new KlBaseFile.Reader(base, 512)) {
            var ctx = assertThrows(IllegalArgumentException.class, () -> KlDivergence.measure(eval, r, 0, (c, n, p) -> {}));
            assertTrue(ctx.getMessage().contains("pass -c 32"), ctx.getMessage());
        }
        Path truncated = dir.resolve("truncated.kld");
        byte[] bytes = Files.readAllBytes(base);
        Files.write(truncated, java.util.Arrays.copyOf(bytes, bytes.length - 7));
        var cut = assertThrows(IllegalArgumentException.class, () -> new KlBaseFile.Reader(truncated, 512));
        assertTrue(cut.getMessage().contains("truncated"), cut.getMessage());
        Path other = dir.resolve("other.kld");
        Files.writeString(other, "not a base file at all, just text");
        var magic = assertThrows(IllegalArgumentException.class, () -> new KlBaseFile.Reader(other, 512));
        assertTrue(magic.getMessage().contains("not a bitnet4j KL base file"), magic.getMessage());
    }
}
