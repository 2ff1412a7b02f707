package io.bitnet4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bitnet4j.eval.ChunkedEvaluation;
import io.bitnet4j.eval.Perplexity;
import io.bitnet4j.generate.BitNetModel;
import io.bitnet4j.synth.ModelLayout;
import io.bitnet4j.synth.SynthModel;
import io.bitnet4j.synth.SynthOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bitnet4j perplexity} on tiny synth models; the numbers themselves are pinned in core's PerplexityTest. */
class PerplexityCommandTest {
    static final String TEXT = "It was the best of times, it was the worst of times, it was the age of wisdom, it was "
            + "the age of foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the season "
            + "of Light, it was the season of Darkness, it was the spring of hope, it was the winter of despair.";

    @TempDir
    static Path dir;
    static Path model;
    static Path other;
    static Path text;

    @BeforeAll
    static void setUp() throws Exception {
        model = dir.resolve("seed1.gguf");
        other = dir.resolve("seed2.gguf");
        SynthModel.write(SynthOptions.builder().layout(ModelLayout.TINY).seed(1).build(), model);
        SynthModel.write(SynthOptions.builder().layout(ModelLayout.TINY).seed(2).build(), other);
        text = dir.resolve("text.txt");
        Files.writeString(text, TEXT);
    }

    private static double finalEstimate(String out) {
        Matcher m = Pattern.compile("Final estimate: PPL = ([0-9.]+) \\+/- ([0-9.]+)").matcher(out);
        assertTrue(m.find(), out);
        return Double.parseDouble(m.group(1));
    }

    @Test
    void printsTheRunningAndFinalEstimates() {
        CliRun r = CliRun.of("perplexity", "-m", model.toString(), "-f", text.toString(), "-c", "32", "-b", "8",
                "-t", "2");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("[1]") && r.out().contains("[3]"), r.out());
        double expected;
        try (BitNetModel m = BitNetModel.load(model, 1); ChunkedEvaluation eval = new ChunkedEvaluation(m, 32, 8, 2)) {
            int[] tokens = eval.tokenize(TEXT);
            int chunks = eval.chunkCount(tokens.length, 0);
            expected = Perplexity.measure(eval, eval.prepare(tokens, chunks), chunks, null, (c, n, p) -> {}).value();
        }
        assertEquals(String.format(Locale.ROOT, "%.4f", expected),
                String.format(Locale.ROOT, "%.4f", finalEstimate(r.out())));
        CliRun one = CliRun.of("perplexity", "-m", model.toString(), "-f", text.toString(), "-c", "32", "--chunks", "1");
        assertTrue(one.out().contains("[1]") && !one.out().contains("[2]"), one.out());
    }

    @Test
    void klDivergenceAgainstASavedBase() {
        Path base = dir.resolve("base.kld");
        CliRun save = CliRun.of("perplexity", "-m", model.toString(), "-f", text.toString(), "-c", "32",
                "--kl-divergence-base", base.toString());
        assertEquals(0, save.exitCode(), save.err());
        assertTrue(Files.exists(base));

        CliRun self = CliRun.of("perplexity", "-m", model.toString(), "-c", "32", "--kl-divergence-base",
                base.toString(), "--kl-divergence");
        assertEquals(0, self.exitCode(), self.err());
        assertTrue(self.out().contains("Mean    KLD:   0.000000"), self.out());
        assertTrue(self.out().contains("Same top p: 100.000"), self.out());

        CliRun different = CliRun.of("perplexity", "-m", other.toString(), "-f", text.toString(), "-c", "32",
                "--kl-divergence-base", base.toString(), "--kl-divergence");
        assertEquals(0, different.exitCode(), different.err());
        assertTrue(!different.out().contains("Mean    KLD:   0.000000"), different.out());
    }

    @Test
    void clearErrors() throws Exception {
        CliRun odd = CliRun.of("perplexity", "-m", model.toString(), "-f", text.toString(), "-c", "33");
        assertEquals(1, odd.exitCode());
        assertTrue(odd.err().contains("must be even"), odd.err());
        CliRun shortText = CliRun.of("perplexity", "-m", model.toString(), "-f", text.toString());
        assertEquals(1, shortText.exitCode());
        assertTrue(shortText.err().contains("fewer than one chunk of 512"), shortText.err());

        Path base = dir.resolve("base-for-errors.kld");
        assertEquals(0, CliRun.of("perplexity", "-m", model.toString(), "-f", text.toString(), "-c", "32",
                "--kl-divergence-base", base.toString()).exitCode());
        Path otherText = dir.resolve("other.txt");
        Files.writeString(otherText, TEXT.toUpperCase(Locale.ROOT));
        CliRun wrongText = CliRun.of("perplexity", "-m", model.toString(), "-f", otherText.toString(), "-c", "32",
                "--kl-divergence-base", base.toString(), "--kl-divergence");
        assertEquals(1, wrongText.exitCode());
        assertTrue(wrongText.err().contains("made from another text"), wrongText.err());
        CliRun noBase = CliRun.of("perplexity", "-m", model.toString(), "--kl-divergence");
        assertEquals(2, noBase.exitCode());
        assertTrue(noBase.err().contains("--kl-divergence needs --kl-divergence-base"), noBase.err());
    }
}
