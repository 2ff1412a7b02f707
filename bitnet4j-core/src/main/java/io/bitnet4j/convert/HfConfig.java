package io.bitnet4j.convert;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The hyper-parameters bitnet4j reads from a Hugging Face {@code config.json}.
 *
 * @param hfArchitecture    {@code architectures[0]}, e.g. {@code BitNetForCausalLM}
 * @param family            which GGUF architecture it converts to
 * @param packedWeightScale for packed (uint8) checkpoints: how {@code weight_scale} applies, from
 *                          {@code quantization_config.linear_class}
 */
public record HfConfig(
        String hfArchitecture,
        Family family,
        int hidden,
        int layers,
        int heads,
        int kvHeads,
        int ff,
        int vocab,
        int contextLength,
        float ropeTheta,
        float rmsEps,
        WeightScale packedWeightScale) {

    /** The model families bitnet4j converts, with the GGUF architecture each becomes. */
    public enum Family {
        /** microsoft/BitNet-b1.58-2B-4T ({@code BitNetForCausalLM}). */
        BITNET_B158("bitnet-b1.58"),
        /** 1bitLLM bitnet_b1_58-large / -3B ({@code BitnetForCausalLM}). */
        BITNET("bitnet"),
        /** Llama3-8B-1.58, Falcon3-*-1.58bit ({@code LlamaForCausalLM}). */
        LLAMA("llama");

        public final String ggufArchitecture;

        Family(String ggufArchitecture) {
            this.ggufArchitecture = ggufArchitecture;
        }

        /** Whether the linear weights are ternarised at conversion when stored as floats (absmean, as BitNet trains). */
        public boolean ternarisesFloatWeights() {
            return this != LLAMA;
        }
    }

    /**
     * How a packed checkpoint's {@code weight_scale} turns the ternary values into weights (transformers' BitNet
     * integration): {@code AutoBitLinear} multiplies its output by the scale, {@code BitLinear} divides by it.
     */
    public enum WeightScale {
        MULTIPLY, DIVIDE;

        public float apply(float ternary, float scale) {
            return this == MULTIPLY ? ternary * scale : ternary / scale;
        }
    }

    static HfConfig parse(Object json, Path file) {
        if (!(json instanceof Map<?, ?> c)) {
            throw new IllegalArgumentException(file + " is not a JSON object");
        }
        String arch = c.get("architectures") instanceof List<?> l && !l.isEmpty() && l.get(0) instanceof String s ? s : null;
        Family family = switch (arch == null ? "" : arch) {
            case "BitNetForCausalLM" -> Family.BITNET_B158;
            case "BitnetForCausalLM" -> Family.BITNET;
            case "LlamaForCausalLM", "LLaMAForCausalLM" -> Family.LLAMA;
            default -> throw new IllegalArgumentException(file + ": architecture " + arch + " is not supported "
                    + "(bitnet4j converts BitNetForCausalLM, BitnetForCausalLM and LlamaForCausalLM)");
        };
        int hidden = positive(c, "hidden_size", file);
        int heads = positive(c, "num_attention_heads", file);
        int kvHeads = c.containsKey("num_key_value_heads") ? positive(c, "num_key_value_heads", file) : heads;
        if (hidden % heads != 0 || heads % kvHeads != 0) {
            throw new IllegalArgumentException(file + ": hidden_size " + hidden + ", num_attention_heads " + heads
                    + " and num_key_value_heads " + kvHeads + " do not divide evenly");
        }
        if (c.get("head_dim") instanceof Long hd && hd != hidden / heads) {
            throw new IllegalArgumentException(file + ": head_dim " + hd + " differs from hidden_size / "
                    + "num_attention_heads = " + hidden / heads + " (not supported)");
        }
        if (c.get("rope_scaling") != null) {
            throw new IllegalArgumentException(file + ": rope_scaling " + c.get("rope_scaling") + " is not supported");
        }
        int ctx = c.containsKey("max_position_embeddings") ? positive(c, "max_position_embeddings", file) : 2048;
        WeightScale scale = WeightScale.DIVIDE;
        if (c.get("quantization_config") instanceof Map<?, ?> q) {
            if (!"bitnet".equals(q.get("quant_method"))) {
                throw new IllegalArgumentException(file + ": quantization_config.quant_method " + q.get("quant_method")
                        + " is not supported (only \"bitnet\")");
            }
            if ("autobitlinear".equals(q.get("linear_class"))) {
                scale = WeightScale.MULTIPLY;
            }
        }
        return new HfConfig(arch, family, hidden, positive(c, "num_hidden_layers", file), heads, kvHeads,
                positive(c, "intermediate_size", file), positive(c, "vocab_size", file), ctx,
                number(c, "rope_theta", 10000.0, file), number(c, "rms_norm_eps", 1e-6, file), scale);
    }

    private static int positive(Map<?, ?> c, String key, Path file) {
        if (c.get(key) instanceof Long v && v > 0 && v <= Integer.MAX_VALUE) {
            return (int) (long) v;
        }
        throw new IllegalArgumentException(file + ": \"" + key + "\" is " + (c.containsKey(key) ? c.get(key)
                : "missing") + ", expected a positive integer");
    }

    private static float number(Map<?, ?> c, String key, double dflt, Path file) {
        Object v = c.get(key);
        if (v == null) {
            return (float) dflt;
        }
        if (v instanceof Number n && n.doubleValue() > 0) {
            return n.floatValue();
        }
        throw new IllegalArgumentException(file + ": \"" + key + "\" is " + v + ", expected a positive number");
    }
}
