package io.bitnet4j.synth;

import io.bitnet4j.tensor.GgmlType;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;

/**
 * What {@link SynthModel#write} generates.
 *
 * @param layout              the model's shape (a named layout, possibly with overrides)
 * @param type                type of the linear (ternary) weights: I2_S, TQ1_0, TQ2_0, F16 or F32
 * @param embdType            type of {@code token_embd} (and of {@code output.weight} where untied): F16, Q6_K or Q8_0
 * @param seed                seeds every weight; the same options give a byte-identical file
 * @param tokenizer           a Hugging Face {@code tokenizer.json} for the real vocabulary, or null for a synthetic one
 * @param vocabFromTokenizer  with a tokenizer: take the vocabulary size from it rather than from the layout
 */
public record SynthOptions(ModelLayout layout, GgmlType type, GgmlType embdType, long seed, Path tokenizer,
        boolean vocabFromTokenizer) {

    public static final Set<GgmlType> LINEAR_TYPES =
            EnumSet.of(GgmlType.I2_S, GgmlType.TQ1_0, GgmlType.TQ2_0, GgmlType.F16, GgmlType.F32);
    public static final Set<GgmlType> EMBEDDING_TYPES = EnumSet.of(GgmlType.F16, GgmlType.Q6_K, GgmlType.Q8_0);

    public SynthOptions {
        if (layout == null) {
            throw new IllegalArgumentException("no layout given");
        }
        layout.validate();
        if (!LINEAR_TYPES.contains(type)) {
            throw new IllegalArgumentException("--type " + typeName(type) + " is not a linear weight type synth writes "
                    + "(use one of i2_s, tq1_0, tq2_0, f16, f32)");
        }
        if (!EMBEDDING_TYPES.contains(embdType)) {
            throw new IllegalArgumentException("--embd-type " + typeName(embdType)
                    + " is not an embedding type synth writes (use one of f16, q6_k, q8_0)");
        }
        if (vocabFromTokenizer && tokenizer == null) {
            throw new IllegalArgumentException("vocabFromTokenizer needs a tokenizer");
        }
    }

    private static String typeName(GgmlType t) {
        return t == null ? "(none)" : t.name().toLowerCase();
    }

    /** The demo model: the 2B-4T layout, I2_S weights, F16 embedding, with the real tokenizer when one is given. */
    public static SynthOptions demo(Path tokenizerOrNull) {
        return builder().layout(ModelLayout.BITNET_2B4T).tokenizer(tokenizerOrNull).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Collects a layout, types, seed, tokenizer and shape overrides; {@link #build} checks them all. */
    public static final class Builder {
        private ModelLayout layout = ModelLayout.TINY;
        private GgmlType type = GgmlType.I2_S;
        private GgmlType embdType = GgmlType.F16;
        private long seed = 42;
        private Path tokenizer;
        private Integer layers;
        private Integer hidden;
        private Integer heads;
        private Integer kvHeads;
        private Integer ff;
        private Integer vocab;

        private Builder() {}

        public Builder layout(ModelLayout layout) {
            this.layout = layout;
            return this;
        }

        /** A named layout ({@link ModelLayout#names()}). */
        public Builder layout(String name) {
            return layout(ModelLayout.byName(name));
        }

        public Builder type(GgmlType type) {
            this.type = type;
            return this;
        }

        /** By name, e.g. "i2_s"; IllegalArgumentException for an unknown name. */
        public Builder type(String name) {
            return type(parseType(name, "--type"));
        }

        public Builder embdType(GgmlType embdType) {
            this.embdType = embdType;
            return this;
        }

        public Builder embdType(String name) {
            return embdType(parseType(name, "--embd-type"));
        }

        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        public Builder tokenizer(Path tokenizerJson) {
            this.tokenizer = tokenizerJson;
            return this;
        }

        public Builder layers(Integer v) {
            this.layers = v;
            return this;
        }

        public Builder hidden(Integer v) {
            this.hidden = v;
            return this;
        }

        public Builder heads(Integer v) {
            this.heads = v;
            return this;
        }

        public Builder kvHeads(Integer v) {
            this.kvHeads = v;
            return this;
        }

        public Builder ff(Integer v) {
            this.ff = v;
            return this;
        }

        public Builder vocab(Integer v) {
            this.vocab = v;
            return this;
        }

        public SynthOptions build() {
            ModelLayout l = layout.with(layers, hidden, heads, kvHeads, ff, vocab);
            return new SynthOptions(l, type, embdType, seed, tokenizer, tokenizer != null && vocab == null);
        }

        private static GgmlType parseType(String name, String option) {
            GgmlType t = GgmlType.byName(name.strip());
            if (t == null) {
                throw new IllegalArgumentException(option + " '" + name + "' is not a ggml type name");
            }
            return t;
        }
    }
}
