package io.bitnet4j.eval;

/**
 * Running perplexity over scored tokens: {@code PPL = exp(mean NLL)}, with llama-perplexity's error estimate
 * {@code PPL * sqrt(var(NLL) / (count - 1))} (the standard error of the mean NLL, carried through the exponential).
 */
public final class Perplexity {
    /** A perplexity and its ± error (NaN when fewer than two tokens or no spread). */
    public record Estimate(double value, double error, long count) {}

    private double sum;
    private double sumOfSquares;
    private long count;

    /** Adds one scored token's negative log-likelihood (natural log). */
    public void add(double nll) {
        sum += nll;
        sumOfSquares += nll * nll;
        count++;
    }

    public long count() {
        return count;
    }

    public double meanNll() {
        return sum / count;
    }

    /** exp(mean NLL) so far. */
    public double value() {
        return Math.exp(meanNll());
    }

    public Estimate estimate() {
        double mean = meanNll();
        double ppl = Math.exp(mean);
        double variance = sumOfSquares / count - mean * mean;
        double error = count > 1 && variance > 0 ? ppl * Math.sqrt(variance / (count - 1)) : Double.NaN;
        return new Estimate(ppl, error, count);
    }

    /** What each evaluated chunk reports: its number (from 1) and the estimate so far. */
    public interface ChunkListener {
        void chunkDone(int chunk, int chunks, Perplexity soFar);
    }

    /**
     * Scores {@code chunks} chunks of {@code evaluated} (from {@link ChunkedEvaluation#prepare}); when {@code saveBase} is not
     * null, also writes every scored row's log-probabilities to it for a later {@code --kl-divergence} run.
     */
    public static Perplexity measure(ChunkedEvaluation eval, int[] evaluated, int chunks, KlBaseFile.Writer saveBase,
            ChunkListener listener) {
        Perplexity ppl = new Perplexity();
        int vocab = eval.vocab();
        double[] logProbs = new double[vocab];
        for (int chunk = 0; chunk < chunks; chunk++) {
            eval.evaluate(evaluated, chunk);
            int[] chunkTokens = eval.chunkTokens();
            for (int j = eval.first(); j < eval.context() - 1; j++) {
                int next = chunkTokens[j + 1];
                if (saveBase == null) {
                    double logZ = LogProbs.logSumExp(eval.logits(), j * vocab, vocab);
                    ppl.add(logZ - eval.logits()[j * vocab + next]);
                } else {
                    LogProbs.of(eval.logits(), j * vocab, vocab, logProbs);
                    ppl.add(-logProbs[next]);
                    saveBase.write(logProbs, LogProbs.argmax(eval.logits(), j * vocab, vocab));
                }
            }
            listener.chunkDone(chunk + 1, chunks, ppl);
        }
        return ppl;
    }
}
