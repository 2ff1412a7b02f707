package io.bitnet4j.cli;

import io.bitnet4j.generate.GenerationParams;
import io.bitnet4j.sampling.SamplerParams;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** Generation flags shared by {@code run} and {@code chat}, named and defaulted as llama.cpp's. */
final class SamplingOptions {
    private static final SamplerParams DEFAULTS = SamplerParams.defaults();

    @Option(names = {"-n", "--n-predict"}, paramLabel = "N",
            description = "Tokens to generate (-1 = until end of generation or a full context). Default: ${DEFAULT-VALUE}.")
    int maxTokens = -1;

    @Option(names = "--temp", paramLabel = "T", description = "Temperature; 0 = greedy. Default: 0.8.")
    Float temperature;

    @Option(names = "--top-k", paramLabel = "K", description = "Top-k sampling (0 = off). Default: 40.")
    Integer topK;

    @Option(names = "--top-p", paramLabel = "P", description = "Top-p (nucleus) sampling (1.0 = off). Default: 0.95.")
    Float topP;

    @Option(names = "--min-p", paramLabel = "P", description = "Min-p sampling (0.0 = off). Default: 0.05.")
    Float minP;

    @Option(names = "--repeat-penalty", paramLabel = "X", description = "Penalise repeated tokens (1.0 = off). Default: 1.0.")
    Float repeatPenalty;

    @Option(names = "--repeat-last-n", paramLabel = "N", description = "Tokens the penalties look back over. Default: 64.")
    Integer repeatLastN;

    @Option(names = "--frequency-penalty", paramLabel = "X", description = "Frequency penalty (0.0 = off).")
    Float frequencyPenalty;

    @Option(names = "--presence-penalty", paramLabel = "X", description = "Presence penalty (0.0 = off).")
    Float presencePenalty;

    @Option(names = "--seed", paramLabel = "SEED", description = "Random seed (-1 = random). Default: -1.")
    long seed = -1;

    @Option(names = "--stop", paramLabel = "TEXT", description = "Stop when this text appears (repeatable).")
    List<String> stop = new ArrayList<>();

    @Option(names = "--ignore-eos", description = "Keep generating past end-of-generation tokens.")
    boolean ignoreEos;

    SamplerParams samplerParams() {
        SamplerParams d = DEFAULTS;
        long s = seed < 0 ? SamplerParams.RANDOM_SEED : seed;
        return new SamplerParams(
                temperature != null ? temperature : d.temperature(),
                topK != null ? topK : d.topK(),
                topP != null ? topP : d.topP(),
                minP != null ? minP : d.minP(),
                repeatPenalty != null ? repeatPenalty : d.repeatPenalty(),
                repeatLastN != null ? repeatLastN : d.repeatLastN(),
                frequencyPenalty != null ? frequencyPenalty : d.frequencyPenalty(),
                presencePenalty != null ? presencePenalty : d.presencePenalty(),
                s);
    }

    GenerationParams generationParams() {
        return new GenerationParams(maxTokens, samplerParams(), stop, ignoreEos);
    }
}
