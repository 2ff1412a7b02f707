package io.bitnet4j.model;

import io.bitnet4j.gguf.GgufException;
import io.bitnet4j.gguf.GgufMetadata;

/** Hyper-parameters of a model, read from GGUF metadata ({@code <arch>.*} keys) and checked for consistency. */
public record ModelConfig(
        Architecture architecture,
        String archName,
        int dim,
        int layers,
        int heads,
        int kvHeads,
        int headDim,
        int ropeDims,
        int ffDim,
        int vocabSize,
        int contextLength,
        float ropeFreqBase,
        float rmsEps) {

    public int kvDim() {
        return kvHeads * headDim;
    }

    public int qDim() {
        return heads * headDim;
    }

    public static ModelConfig fromGguf(GgufMetadata m, int vocabFromTensor) {
        String archName = m.getString("general.architecture");
        Architecture arch = Architecture.fromGguf(archName);
        String p = archName + ".";
        int dim = m.getInt(p + "embedding_length");
        int layers = m.getInt(p + "block_count");
        int heads = m.getInt(p + "attention.head_count");
        int kvHeads = m.getInt(p + "attention.head_count_kv", heads);
        int headDim = m.getInt(p + "attention.key_length", heads > 0 ? dim / heads : 0);
        int ropeDims = m.getInt(p + "rope.dimension_count", headDim);
        int ff = m.getInt(p + "feed_forward_length");
        int vocab = m.getInt(p + "vocab_size", vocabFromTensor);
        int ctx = m.getInt(p + "context_length", 2048);
        float base = m.getFloat(p + "rope.freq_base", 10000f);
        float eps = m.getFloat(p + "attention.layer_norm_rms_epsilon", 1e-5f);
        check(dim > 0 && layers > 0 && heads > 0 && kvHeads > 0 && ff > 0 && ctx > 0 && headDim > 0,
                "non-positive hyper-parameter in " + p + "*");
        check(heads % kvHeads == 0, "head_count " + heads + " is not a multiple of head_count_kv " + kvHeads);
        check(headDim % 2 == 0 && ropeDims % 2 == 0 && ropeDims <= headDim,
                "rope.dimension_count " + ropeDims + " does not fit head dim " + headDim);
        check(m.getInt(p + "attention.value_length", headDim) == headDim,
                "attention.value_length differs from key_length (not supported)");
        check(vocab == vocabFromTensor, p + "vocab_size " + vocab + " differs from token_embd rows " + vocabFromTensor);
        return new ModelConfig(arch, archName, dim, layers, heads, kvHeads, headDim, ropeDims, ff, vocab, ctx, base, eps);
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new GgufException(message);
        }
    }
}
