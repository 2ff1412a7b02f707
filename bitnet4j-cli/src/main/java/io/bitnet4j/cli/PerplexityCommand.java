package io.bitnet4j.cli;

import io.bitnet4j.eval.ChunkedEvaluation;
import io.bitnet4j.eval.KlBaseFile;
import io.bitnet4j.eval.KlDivergence;
import io.bitnet4j.eval.Perplexity;
import io.bitnet4j.generate.BitNetModel;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code bitnet4j perplexity -m model.gguf -f text.txt}: llama-perplexity's measurement, and its KL-divergence mode. */
@Command(name = "perplexity", mixinStandardHelpOptions = true,
        description = {"Measure a model's perplexity on a text the way llama-perplexity does: chunks of -c tokens, "
                + "each from an empty cache, the second half of each scored.",
            "With --kl-divergence-base FILE the run's log-probabilities are saved; adding --kl-divergence compares "
                + "this model against such a saved base run instead (the text comes from the base file)."})
final class PerplexityCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "FILE", description = "GGUF model file.")
    Path model;

    @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "UTF-8 text to score.")
    Path file;

    @Option(names = {"-c", "--ctx-size"}, paramLabel = "N", description = "Tokens per chunk (even). Default: 512.")
    int context = 512;

    @Option(names = "--chunks", paramLabel = "N", description = "Score at most N chunks. Default: all of the text.")
    int chunks;

    @Option(names = {"-b", "--batch-size"}, paramLabel = "N",
            description = "Tokens per forward pass. Default: " + BitNetModel.DEFAULT_BATCH + ".")
    int batch = BitNetModel.DEFAULT_BATCH;

    @Option(names = {"-t", "--threads"}, paramLabel = "N",
            description = "Compute threads. Default: the number of available processors.")
    int threads = Runtime.getRuntime().availableProcessors();

    @Option(names = "--kl-divergence-base", paramLabel = "FILE",
            description = "Save this run's log-probabilities to FILE (or, with --kl-divergence, read them from it).")
    Path klBase;

    @Option(names = "--kl-divergence", description = "Compare against the base run in --kl-divergence-base.")
    boolean klDivergence;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (klDivergence && klBase == null) {
            throw new ParameterException(spec.commandLine(), "--kl-divergence needs --kl-divergence-base FILE");
        }
        if (!klDivergence && file == null) {
            throw new ParameterException(spec.commandLine(), "no text: give -f FILE");
        }
        if (threads < 1) {
            throw new IllegalArgumentException("-t must be at least 1, got " + threads);
        }
        PrintWriter out = spec.commandLine().getOut();
        // the evaluation computes on its own threads; the model's pool stays idle
        try (BitNetModel m = BitNetModel.load(model, 1);
                ChunkedEvaluation eval = new ChunkedEvaluation(m, context, batch, threads)) {
            if (klDivergence) {
                compare(eval, out);
            } else {
                measure(eval, out);
            }
        }
        out.flush();
        return 0;
    }

    private int[] textTokens(ChunkedEvaluation eval) throws java.io.IOException {
        return eval.tokenize(Files.readString(file, StandardCharsets.UTF_8));
    }

    private void measure(ChunkedEvaluation eval, PrintWriter out) throws java.io.IOException {
        int[] tokens = textTokens(eval);
        int n = eval.chunkCount(tokens.length, chunks);
        int[] evaluated = eval.prepare(tokens, n);
        out.printf(Locale.ROOT, "perplexity: %d tokens, %d chunks of %d, scoring %d tokens per chunk%n",
                tokens.length, n, context, eval.scoredPerChunk());
        out.flush();
        Perplexity ppl;
        if (klBase != null) {
            try (KlBaseFile.Writer w = new KlBaseFile.Writer(klBase, eval.vocab(), context, n, evaluated)) {
                ppl = Perplexity.measure(eval, evaluated, n, w, runningEstimate(out));
            }
        } else {
            ppl = Perplexity.measure(eval, evaluated, n, null, runningEstimate(out));
        }
        Perplexity.Estimate e = ppl.estimate();
        out.println();
        if (Double.isNaN(e.error())) {
            out.printf(Locale.ROOT, "Final estimate: PPL = %.4f (no error estimate: the scored tokens do not vary)%n",
                    e.value());
        } else {
            out.printf(Locale.ROOT, "Final estimate: PPL = %.4f +/- %.5f%n", e.value(), e.error());
        }
        if (klBase != null) {
            out.println("saved the base log-probabilities to " + klBase);
        }
    }

    private static Perplexity.ChunkListener runningEstimate(PrintWriter out) {
        return (chunk, total, soFar) -> {
            out.printf(Locale.ROOT, "[%d]%.4f,", chunk, soFar.value());
            out.flush();
        };
    }

    private void compare(ChunkedEvaluation eval, PrintWriter out) throws java.io.IOException {
        try (KlBaseFile.Reader base = new KlBaseFile.Reader(klBase, eval.vocab())) {
            if (file != null) {
                int[] tokens = textTokens(eval);
                int n = tokens.length / context;
                if (n < base.chunks() || !Arrays.equals(eval.prepare(tokens, base.chunks()), base.tokens())) {
                    throw new IllegalArgumentException("the KL base file " + klBase + " was made from another text "
                            + "(or tokenizer) than " + file);
                }
            }
            out.printf(Locale.ROOT, "kl-divergence: %d chunks of %d from %s%n", base.chunks(), base.context(), klBase);
            out.printf("%5s %10s%n", "chunk", "PPL(Q)");
            KlDivergence kl = KlDivergence.measure(eval, base, chunks, (chunk, total, soFar) -> {
                out.printf(Locale.ROOT, "%5d %10.4f%n", chunk, soFar.value());
                out.flush();
            });
            printStatistics(kl, out);
        }
    }

    private static void printStatistics(KlDivergence kl, PrintWriter out) {
        Perplexity.Estimate q = kl.perplexity();
        Perplexity.Estimate b = kl.basePerplexity();
        KlDivergence.Mean logRatio = kl.logPerplexityRatio();
        KlDivergence.Mean ratio = kl.perplexityRatio();
        KlDivergence.Mean kld = kl.meanKld();
        KlDivergence.Mean top = kl.sameTopPercent();
        out.println();
        out.println("====== Perplexity statistics ======");
        out.printf(Locale.ROOT, "Mean PPL(Q)                   : %10.6f ± %10.6f%n", q.value(), q.error());
        out.printf(Locale.ROOT, "Mean PPL(base)                : %10.6f ± %10.6f%n", b.value(), b.error());
        out.printf(Locale.ROOT, "Mean ln(PPL(Q)/PPL(base))     : %10.6f ± %10.6f%n", logRatio.value(), logRatio.error());
        out.printf(Locale.ROOT, "Mean PPL(Q)/PPL(base)         : %10.6f ± %10.6f%n", ratio.value(), ratio.error());
        out.println();
        out.println("====== KL divergence statistics ======");
        out.printf(Locale.ROOT, "Mean    KLD: %10.6f ± %10.6f%n", kld.value(), kld.error());
        out.printf(Locale.ROOT, "Maximum KLD: %10.6f%n", kl.kldQuantile(1.0));
        out.printf(Locale.ROOT, "99.9%%   KLD: %10.6f%n", kl.kldQuantile(0.999));
        out.printf(Locale.ROOT, "99.0%%   KLD: %10.6f%n", kl.kldQuantile(0.99));
        out.printf(Locale.ROOT, "Median  KLD: %10.6f%n", kl.kldQuantile(0.5));
        out.printf(Locale.ROOT, "Minimum KLD: %10.6f%n", kl.kldQuantile(0.0));
        out.println();
        out.println("====== Token probability statistics ======");
        out.printf(Locale.ROOT, "Same top p: %6.3f ± %5.3f %%%n", top.value(), top.error());
        out.printf(Locale.ROOT, "(%d scored positions)%n", kl.positions());
    }
}
