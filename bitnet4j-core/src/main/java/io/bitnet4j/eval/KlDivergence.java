package io.bitnet4j.eval;

import java.util.Arrays;

/**
 * How far a model's next-token distributions are from a base run's (llama-perplexity {@code --kl-divergence}): per
 * scored position, {@code KL(base || this) = sum_i p_base(i) * (log p_base(i) - log p_this(i))}, whether both rank
 * the same token first, and both models' perplexities on the text. Errors are standard errors of the mean.
 */
public final class KlDivergence {
    private final float[] klds;
    private int count;
    private double kldSum;
    private double kldSumOfSquares;
    private int sameTop;
    private final Perplexity ppl = new Perplexity();
    private final Perplexity basePpl = new Perplexity();
    /** Sums of ln(p_base(next)) - ln(p_this(next)) per position: the log of the PPL ratio. */
    private double logRatioSum;
    private double logRatioSumOfSquares;

    private KlDivergence(int positions) {
        klds = new float[positions];
    }

    /** A mean and its standard error. */
    public record Mean(double value, double error) {}

    /** Compares {@code eval}'s model against {@code base} over all of the base file's chunks (at most maxChunks). */
    public static KlDivergence measure(ChunkedEvaluation eval, KlBaseFile.Reader base, int maxChunks,
            Perplexity.ChunkListener listener) {
        if (base.context() != eval.context()) {
            throw new IllegalArgumentException("the KL base file was made with a context of " + base.context()
                    + " tokens, not " + eval.context() + ": pass -c " + base.context());
        }
        int chunks = maxChunks > 0 ? Math.min(maxChunks, base.chunks()) : base.chunks();
        int vocab = eval.vocab();
        KlDivergence kl = new KlDivergence(chunks * eval.scoredPerChunk());
        double[] mine = new double[vocab];
        double[] theirs = new double[vocab];
        for (int chunk = 0; chunk < chunks; chunk++) {
            eval.evaluate(base.tokens(), chunk);
            int[] tokens = eval.chunkTokens();
            for (int j = eval.first(); j < eval.context() - 1; j++) {
                LogProbs.of(eval.logits(), j * vocab, vocab, mine);
                int baseTop = base.next(theirs);
                kl.add(mine, theirs, vocab, tokens[j + 1], LogProbs.argmax(eval.logits(), j * vocab, vocab) == baseTop);
            }
            listener.chunkDone(chunk + 1, chunks, kl.ppl);
        }
        return kl;
    }

    /** The statistics of given rows of log-probabilities (row i predicting token next[i]); top tokens by argmax. */
    static KlDivergence of(double[][] mine, double[][] base, int[] next) {
        KlDivergence kl = new KlDivergence(mine.length);
        for (int i = 0; i < mine.length; i++) {
            int vocab = mine[i].length;
            kl.add(mine[i], base[i], vocab, next[i], LogProbs.argmax(mine[i], vocab) == LogProbs.argmax(base[i], vocab));
        }
        return kl;
    }

    private void add(double[] mine, double[] theirs, int vocab, int next, boolean sameTopToken) {
        double kld = 0;
        for (int i = 0; i < vocab; i++) {
            kld += Math.exp(theirs[i]) * (theirs[i] - mine[i]);
        }
        klds[count++] = (float) kld;
        kldSum += kld;
        kldSumOfSquares += kld * kld;
        if (sameTopToken) {
            sameTop++;
        }
        ppl.add(-mine[next]);
        basePpl.add(-theirs[next]);
        double logRatio = theirs[next] - mine[next];
        logRatioSum += logRatio;
        logRatioSumOfSquares += logRatio * logRatio;
    }

    private Mean mean(double sum, double sumOfSquares) {
        double mean = sum / count;
        double variance = sumOfSquares / count - mean * mean;
        return new Mean(mean, count > 1 && variance > 0 ? Math.sqrt(variance / (count - 1)) : 0);
    }

    public int positions() {
        return count;
    }

    public Perplexity.Estimate perplexity() {
        return ppl.estimate();
    }

    public Perplexity.Estimate basePerplexity() {
        return basePpl.estimate();
    }

    /** Mean of ln(PPL(this)/PPL(base)) per position. */
    public Mean logPerplexityRatio() {
        return mean(logRatioSum, logRatioSumOfSquares);
    }

    /** PPL(this)/PPL(base), with the error carried through the exponential. */
    public Mean perplexityRatio() {
        Mean log = logPerplexityRatio();
        double ratio = Math.exp(log.value());
        return new Mean(ratio, ratio * log.error());
    }

    public Mean meanKld() {
        return mean(kldSum, kldSumOfSquares);
    }

    /** The q-quantile (0..1) of the per-position KL divergences, nearest rank. */
    public double kldQuantile(double q) {
        float[] sorted = Arrays.copyOf(klds, count);
        Arrays.sort(sorted);
        return sorted[(int) Math.round(q * (count - 1))];
    }

    /** Share of positions where both models rank the same token first, in percent. */
    public Mean sameTopPercent() {
        double p = (double) sameTop / count;
        double error = count > 1 ? Math.sqrt(p * (1 - p) / (count - 1)) : 0;
        return new Mean(100 * p, 100 * error);
    }
}
