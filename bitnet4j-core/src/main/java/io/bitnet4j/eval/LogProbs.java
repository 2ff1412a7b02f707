package io.bitnet4j.eval;

/** Log-softmax of one row of logits, in double (as llama-perplexity sums its exponentials in double). */
final class LogProbs {
    private LogProbs() {}

    /** {@code log(sum_i exp(logits[off + i]))} over {@code vocab} values, shifted by the maximum for range. */
    static double logSumExp(float[] logits, int off, int vocab) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            max = Math.max(max, logits[off + i]);
        }
        double sum = 0;
        for (int i = 0; i < vocab; i++) {
            sum += Math.exp((double) logits[off + i] - max);
        }
        return max + Math.log(sum);
    }

    /** Writes the log-probabilities of the row into {@code dst[0, vocab)}. */
    static void of(float[] logits, int off, int vocab, double[] dst) {
        double logZ = logSumExp(logits, off, vocab);
        for (int i = 0; i < vocab; i++) {
            dst[i] = logits[off + i] - logZ;
        }
    }

    /** The index of the largest value (the lowest index among equals), as greedy decoding picks. */
    static int argmax(float[] values, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (values[off + i] > values[off + best]) {
                best = i;
            }
        }
        return best;
    }

    static int argmax(double[] values, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }
}
