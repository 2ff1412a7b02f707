package io.bitnet4j.sampling;

/**
 * Settings of the {@link Sampler} chain, with llama.cpp's meanings and "off" values.
 *
 * @param temperature logits are divided by it last; {@code <= 0} means greedy (argmax after penalties)
 * @param topK keep the k most likely tokens; 0 = off
 * @param topP keep the most likely tokens whose probabilities sum to at least p; 1 = off
 * @param minP keep tokens at least p times as likely as the most likely one; 0 = off
 * @param repeatPenalty divide positive / multiply negative logits of recent tokens by it; 1 = off
 * @param repeatLastN how many of the last accepted tokens the penalties look at; 0 = penalties off
 * @param frequencyPenalty subtracted once per occurrence of a token in the window; 0 = off
 * @param presencePenalty subtracted once from every token present in the window; 0 = off
 * @param seed the random generator's seed; {@link #RANDOM_SEED} = a fresh one per {@link Sampler}
 */
public record SamplerParams(float temperature, int topK, float topP, float minP, float repeatPenalty, int repeatLastN,
                            float frequencyPenalty, float presencePenalty, long seed) {

    /** As llama.cpp's {@code LLAMA_DEFAULT_SEED}: draw a seed at random ({@link Sampler#seed()} tells which). */
    public static final long RANDOM_SEED = -1;

    public SamplerParams {
        requireFinite("temperature", temperature);
        if (topK < 0) {
            throw new IllegalArgumentException("top-k must be >= 0 (0 = off), got " + topK);
        }
        if (!(topP >= 0 && topP <= 1)) {
            throw new IllegalArgumentException("top-p must be in [0, 1] (1 = off), got " + topP);
        }
        if (!(minP >= 0 && minP <= 1)) {
            throw new IllegalArgumentException("min-p must be in [0, 1] (0 = off), got " + minP);
        }
        if (!(repeatPenalty > 0) || Float.isInfinite(repeatPenalty)) {
            throw new IllegalArgumentException("repeat penalty must be > 0 (1 = off), got " + repeatPenalty);
        }
        if (repeatLastN < 0) {
            throw new IllegalArgumentException("repeat-last-n must be >= 0 (0 = penalties off), got " + repeatLastN);
        }
        requireFinite("frequency penalty", frequencyPenalty);
        requireFinite("presence penalty", presencePenalty);
    }

    /**
     * llama.cpp's defaults (common/common.h): temperature 0.8, top-k 40, top-p 0.95, min-p 0.05, repeat penalty 1.0
     * over the last 64 tokens, no frequency or presence penalty, random seed.
     */
    public static SamplerParams defaults() {
        return new SamplerParams(0.8f, 40, 0.95f, 0.05f, 1.0f, 64, 0.0f, 0.0f, RANDOM_SEED);
    }

    /** Always the most likely token (ties to the lower id); no penalties, no randomness. */
    public static SamplerParams greedy() {
        return new SamplerParams(0.0f, 0, 1.0f, 0.0f, 1.0f, 64, 0.0f, 0.0f, 0);
    }

    public SamplerParams withSeed(long newSeed) {
        return new SamplerParams(temperature, topK, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty,
                presencePenalty, newSeed);
    }

    /** Whether the penalty stage changes anything (llama.cpp skips it otherwise). */
    boolean penalizes() {
        return repeatLastN > 0 && (repeatPenalty != 1.0f || frequencyPenalty != 0.0f || presencePenalty != 0.0f);
    }

    private static void requireFinite(String what, float v) {
        if (!Float.isFinite(v)) {
            throw new IllegalArgumentException(what + " must be a finite number, got " + v);
        }
    }
}
