package io.bitnet4j.generate;

/**
 * Where a generation's time went, in llama.cpp's terms: the prompt evaluation (batched) and the evaluation of each
 * generated token (one forward pass per token; the last sampled token is not evaluated).
 */
public record Timings(long promptNanos, int promptTokens, long evalNanos, int evalTokens) {
    public double promptMillis() {
        return promptNanos / 1e6;
    }

    public double evalMillis() {
        return evalNanos / 1e6;
    }

    /** Prompt tokens per second, NaN when none were evaluated. */
    public double promptTokensPerSecond() {
        return promptTokens == 0 ? Double.NaN : promptTokens / (promptNanos / 1e9);
    }

    /** Generated-token evaluations per second, NaN when none. */
    public double evalTokensPerSecond() {
        return evalTokens == 0 ? Double.NaN : evalTokens / (evalNanos / 1e9);
    }
}
