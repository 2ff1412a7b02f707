package io.bitnet4j.model;

import io.bitnet4j.gguf.GgufException;

/** The model families bitnet4j runs, by their GGUF {@code general.architecture} names. */
public enum Architecture {
    /** microsoft/BitNet-b1.58-2B-4T: sub-norms, squared-ReLU gated FFN, NEOX RoPE, tied output. */
    BITNET_B158(RopeStyle.NEOX, FfnActivation.RELU_SQUARED, true, "bitnet-b1.58", "bitnet-25"),
    /** 1bitLLM bitnet_b1_58-large / -3B: sub-norms, SwiGLU, NEOX RoPE, optional per-tensor {@code .scale}. */
    BITNET(RopeStyle.NEOX, FfnActivation.SILU, true, "bitnet"),
    /** Llama layout with ternary weights (Llama3-8B-1.58, Falcon3 1.58-bit): no sub-norms, SwiGLU, NORM RoPE. */
    LLAMA(RopeStyle.NORM, FfnActivation.SILU, false, "llama");

    /** Which dimensions RoPE rotates together. */
    public enum RopeStyle {
        /** pairs (i, i + headDim/2) — GPT-NeoX style. */
        NEOX,
        /** pairs (2i, 2i+1) — llama.cpp's "normal" style (Q/K permuted at conversion). */
        NORM
    }

    public enum FfnActivation {
        RELU_SQUARED,
        SILU
    }

    public final RopeStyle ropeStyle;
    public final FfnActivation ffnActivation;
    /** Whether layers have attn_sub_norm / ffn_sub_norm before Wo / Wdown. */
    public final boolean subNorms;
    private final String[] ggufNames;

    Architecture(RopeStyle ropeStyle, FfnActivation ffnActivation, boolean subNorms, String... ggufNames) {
        this.ropeStyle = ropeStyle;
        this.ffnActivation = ffnActivation;
        this.subNorms = subNorms;
        this.ggufNames = ggufNames;
    }

    public static Architecture fromGguf(String name) {
        for (Architecture a : values()) {
            for (String n : a.ggufNames) {
                if (n.equals(name)) {
                    return a;
                }
            }
        }
        throw new GgufException("unsupported model architecture '" + name
                + "' (bitnet4j runs bitnet-b1.58, bitnet and llama)");
    }
}
