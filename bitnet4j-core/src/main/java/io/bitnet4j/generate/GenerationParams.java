package io.bitnet4j.generate;

import io.bitnet4j.sampling.SamplerParams;
import java.util.List;

/**
 * What one generation asks for.
 *
 * @param maxTokens  tokens to generate at most; -1 = until an end-of-generation token, a stop string or a full context
 * @param sampler    how each token is chosen
 * @param stop       strings that end the generation when they appear in the text (not included in the output)
 * @param ignoreEos  keep going past end-of-generation tokens (they are then sampled like any other token)
 */
public record GenerationParams(int maxTokens, SamplerParams sampler, List<String> stop, boolean ignoreEos) {
    public GenerationParams {
        if (maxTokens < -1) {
            throw new IllegalArgumentException("maxTokens must be -1 (unlimited) or >= 0, got " + maxTokens);
        }
        if (sampler == null) {
            throw new IllegalArgumentException("sampler parameters are required");
        }
        stop = stop == null ? List.of() : List.copyOf(stop);
        for (String s : stop) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("a stop string must not be empty");
            }
        }
    }

    /** Greedy decoding of up to {@code maxTokens} tokens, no stop strings. */
    public static GenerationParams greedy(int maxTokens) {
        return new GenerationParams(maxTokens, SamplerParams.greedy(), List.of(), false);
    }

    public GenerationParams withMaxTokens(int n) {
        return new GenerationParams(n, sampler, stop, ignoreEos);
    }
}
