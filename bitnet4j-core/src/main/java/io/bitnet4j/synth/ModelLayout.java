package io.bitnet4j.synth;

import io.bitnet4j.model.Architecture;
import java.util.List;

/**
 * The shape of a real model family: architecture name, hyper-parameters and the kind of vocabulary it ships with.
 * The named layouts copy the published configurations (FORMATS.md, "Architectures"); {@link #with} derives a
 * smaller variant for tests, e.g. the 2B-4T layout with one layer.
 *
 * @param name         the layout's name on the command line ({@code 2b4t}, {@code bitnet-3b}, ...)
 * @param architecture GGUF {@code general.architecture}
 * @param modelName    GGUF {@code general.name} (suffixed "-synthetic" in the written file)
 * @param tiedOutput   true when the token embedding doubles as the output head (no {@code output.weight})
 * @param vocabKind    the tokenizer family a synthetic vocabulary imitates
 */
public record ModelLayout(
        String name,
        String architecture,
        String modelName,
        int hidden,
        int layers,
        int heads,
        int kvHeads,
        int ff,
        int vocab,
        int contextLength,
        float ropeFreqBase,
        float rmsEps,
        boolean tiedOutput,
        VocabKind vocabKind) {

    /** Which synthetic vocabulary a layout gets without {@code --tokenizer}. */
    public enum VocabKind {
        /** Byte-level BPE as in Llama-3 ({@code tokenizer.ggml.model = gpt2}). */
        BPE,
        /** SentencePiece as in LLaMA-2 ({@code tokenizer.ggml.model = llama}). */
        SENTENCEPIECE
    }

    /** microsoft/BitNet-b1.58-2B-4T. */
    public static final ModelLayout BITNET_2B4T = new ModelLayout("2b4t", "bitnet-b1.58", "BitNet-b1.58-2B-4T",
            2560, 30, 20, 5, 6912, 128256, 4096, 500000f, 1e-5f, true, VocabKind.BPE);
    /** 1bitLLM/bitnet_b1_58-large. */
    public static final ModelLayout BITNET_LARGE = new ModelLayout("bitnet-large", "bitnet", "bitnet_b1_58-large",
            1536, 24, 16, 16, 4096, 32002, 2048, 10000f, 1e-5f, true, VocabKind.SENTENCEPIECE);
    /** 1bitLLM/bitnet_b1_58-3B. */
    public static final ModelLayout BITNET_3B = new ModelLayout("bitnet-3b", "bitnet", "bitnet_b1_58-3B",
            3200, 26, 32, 32, 8640, 32002, 2048, 10000f, 1e-5f, true, VocabKind.SENTENCEPIECE);
    /** HF1BitLLM/Llama3-8B-1.58-100B-tokens. */
    public static final ModelLayout LLAMA3_8B = new ModelLayout("llama3-8b-1.58", "llama", "Llama3-8B-1.58-100B-tokens",
            4096, 32, 32, 8, 14336, 128256, 8192, 500000f, 1e-5f, false, VocabKind.BPE);
    /** tiiuae/Falcon3-1B-Instruct-1.58bit (the shapes of Falcon3-1B-Base). */
    public static final ModelLayout FALCON3_1B = new ModelLayout("falcon3-1b", "llama", "Falcon3-1B-Instruct-1.58bit",
            2048, 18, 8, 4, 8192, 131072, 4096, 1000042f, 1e-6f, false, VocabKind.BPE);
    /** A few-MB model with the 2B-4T architecture, the starting point for custom shapes. */
    public static final ModelLayout TINY = new ModelLayout("tiny", "bitnet-b1.58", "bitnet-b1.58-tiny",
            256, 2, 4, 2, 512, 512, 4096, 500000f, 1e-5f, true, VocabKind.BPE);

    public static final List<ModelLayout> NAMED = List.of(BITNET_2B4T, BITNET_LARGE, BITNET_3B, LLAMA3_8B, FALCON3_1B, TINY);

    /** The named layout, case-insensitively; an IllegalArgumentException listing the names otherwise. */
    public static ModelLayout byName(String name) {
        for (ModelLayout l : NAMED) {
            if (l.name.equalsIgnoreCase(name.strip())) {
                return l;
            }
        }
        throw new IllegalArgumentException("unknown layout '" + name + "' (known: " + names() + ")");
    }

    public static String names() {
        return String.join(", ", NAMED.stream().map(ModelLayout::name).toList());
    }

    public int headDim() {
        return hidden / heads;
    }

    public int kvDim() {
        return kvHeads * headDim();
    }

    /** Whether layers carry {@code attn_sub_norm} / {@code ffn_sub_norm} (the BitNet architectures). */
    public boolean subNorms() {
        return Architecture.fromGguf(architecture).subNorms;
    }

    /**
     * This layout with some hyper-parameters replaced; null keeps the current value. The result is checked with
     * {@link #validate()}.
     */
    public ModelLayout with(Integer layers, Integer hidden, Integer heads, Integer kvHeads, Integer ff, Integer vocab) {
        int h = or(heads, this.heads);
        // A new head count without a KV head count keeps the layout's grouping where it still divides.
        int kv = kvHeads != null ? kvHeads : h % this.kvHeads == 0 ? this.kvHeads : h;
        ModelLayout l = new ModelLayout(name, architecture, modelName, or(hidden, this.hidden), or(layers, this.layers),
                h, kv, or(ff, this.ff), or(vocab, this.vocab), contextLength, ropeFreqBase, rmsEps, tiedOutput,
                vocabKind);
        l.validate();
        return l;
    }

    private static int or(Integer v, int current) {
        return v != null ? v : current;
    }

    /** Checks the hyper-parameters describe a model bitnet4j can build; IllegalArgumentException otherwise. */
    public void validate() {
        require(layers > 0, "--layers must be positive, got " + layers);
        require(hidden > 0, "--hidden must be positive, got " + hidden);
        require(heads > 0, "--heads must be positive, got " + heads);
        require(kvHeads > 0, "--kv-heads must be positive, got " + kvHeads);
        require(ff > 0, "--ff must be positive, got " + ff);
        require(vocab > 0, "--vocab must be positive, got " + vocab);
        require(hidden % heads == 0, "--hidden " + hidden + " is not a multiple of --heads " + heads);
        require(headDim() % 2 == 0, "head dimension " + headDim() + " (hidden/heads) must be even for RoPE");
        require(heads % kvHeads == 0, "--heads " + heads + " is not a multiple of --kv-heads " + kvHeads);
        require(hidden % 32 == 0 && ff % 32 == 0,
                "--hidden and --ff must be multiples of 32 (the smallest quantization block), got " + hidden + " and " + ff);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
