package io.bitnet4j.langchain4j;

import dev.langchain4j.model.chat.request.ChatRequestParameters;
import io.bitnet4j.generate.BitNetModel;
import io.bitnet4j.sampling.SamplerParams;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;

/**
 * Settings of a {@link BitNetChatModel} or {@link BitNetStreamingChatModel}: which model (a GGUF file to load, or an
 * already loaded {@link BitNetModel} to share), threads, context size, sampling (llama.cpp's defaults unless set) and
 * max tokens. Request parameters set per call (temperature, top-p, top-k, max output tokens, stop sequences...)
 * override these.
 */
public final class BitNetChatModelBuilder<T> {
    private final Function<BitNetChatEngine, T> factory;
    private Path modelPath;
    private BitNetModel model;
    private int threads = Runtime.getRuntime().availableProcessors();
    private int contextSize;
    private SamplerParams sampler = SamplerParams.defaults();
    private Integer maxTokens;
    private List<String> stop = List.of();
    private String modelName;

    BitNetChatModelBuilder(Function<BitNetChatEngine, T> factory) {
        this.factory = factory;
    }

    /** A GGUF file, loaded by {@link #build()} and closed with the chat model. */
    public BitNetChatModelBuilder<T> modelPath(Path path) {
        this.modelPath = path;
        return this;
    }

    /** A model loaded by the caller, who keeps it open as long as the chat model is used and closes it. */
    public BitNetChatModelBuilder<T> model(BitNetModel loaded) {
        this.model = loaded;
        return this;
    }

    /** Compute threads when loading from {@link #modelPath}; default: available processors. */
    public BitNetChatModelBuilder<T> threads(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + n);
        }
        this.threads = n;
        return this;
    }

    /** KV-cache size in tokens; default: the model's, capped at {@link BitNetModel#DEFAULT_CONTEXT_CAP}. */
    public BitNetChatModelBuilder<T> contextSize(int tokens) {
        if (tokens < 1) {
            throw new IllegalArgumentException("context size must be at least 1, got " + tokens);
        }
        this.contextSize = tokens;
        return this;
    }

    /** All sampling settings at once (e.g. {@link SamplerParams#greedy()}). */
    public BitNetChatModelBuilder<T> sampling(SamplerParams params) {
        this.sampler = params;
        return this;
    }

    public BitNetChatModelBuilder<T> temperature(double t) {
        SamplerParams s = sampler;
        this.sampler = new SamplerParams((float) t, s.topK(), s.topP(), s.minP(), s.repeatPenalty(), s.repeatLastN(),
                s.frequencyPenalty(), s.presencePenalty(), s.seed());
        return this;
    }

    public BitNetChatModelBuilder<T> topP(double p) {
        SamplerParams s = sampler;
        this.sampler = new SamplerParams(s.temperature(), s.topK(), (float) p, s.minP(), s.repeatPenalty(),
                s.repeatLastN(), s.frequencyPenalty(), s.presencePenalty(), s.seed());
        return this;
    }

    public BitNetChatModelBuilder<T> seed(long seed) {
        this.sampler = sampler.withSeed(seed);
        return this;
    }

    /** Tokens per reply at most; default: until the model ends its turn or the context is full. */
    public BitNetChatModelBuilder<T> maxTokens(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("max tokens must be at least 1, got " + n);
        }
        this.maxTokens = n;
        return this;
    }

    public BitNetChatModelBuilder<T> stop(List<String> sequences) {
        this.stop = List.copyOf(sequences);
        return this;
    }

    /** The name reported in responses; default: the model file's name. */
    public BitNetChatModelBuilder<T> modelName(String name) {
        this.modelName = name;
        return this;
    }

    public T build() {
        if ((modelPath == null) == (model == null)) {
            throw new IllegalArgumentException("give exactly one of modelPath(...) and model(...)");
        }
        boolean owns = model == null;
        BitNetModel m = owns ? BitNetModel.load(modelPath, threads) : model;
        try {
            String name = modelName != null ? modelName
                    : modelPath != null ? modelPath.getFileName().toString() : m.config().archName();
            ChatRequestParameters defaults = ChatRequestParameters.builder()
                    .modelName(name)
                    .temperature((double) sampler.temperature())
                    .topP((double) sampler.topP())
                    .topK(sampler.topK())
                    .frequencyPenalty((double) sampler.frequencyPenalty())
                    .presencePenalty((double) sampler.presencePenalty())
                    .maxOutputTokens(maxTokens)
                    .stopSequences(stop)
                    .build();
            return factory.apply(new BitNetChatEngine(m, owns, contextSize, sampler, defaults));
        } catch (RuntimeException e) {
            if (owns) {
                m.close();
            }
            throw e;
        }
    }
}
