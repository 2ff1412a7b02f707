package io.bitnet4j.tokenizer;

import io.bitnet4j.gguf.GgufArray;
import io.bitnet4j.gguf.GgufException;
import io.bitnet4j.gguf.GgufMetadata;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * A model's vocabulary as its GGUF metadata describes it ({@code tokenizer.ggml.*}): token texts, types and scores,
 * BPE merges, special token ids and flags, with llama.cpp's defaults for what a file leaves out.
 */
final class Vocabulary {
    enum Kind { BYTE_LEVEL_BPE, SENTENCE_PIECE }

    /** {@code tokenizer.ggml.token_type} values (llama.cpp's llama_token_type). */
    static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;

    /** Pre-tokenizer names that llama.cpp maps to the Llama 3 split, with whole-word lookup before merging. */
    private static final Set<String> LLAMA3_FAMILY =
            Set.of("llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "falcon_e", "pixtral");

    /** Texts llama.cpp takes for the end-of-turn token when the file does not name one. */
    private static final Set<String> EOT_TEXTS = Set.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
            "<|endoftext|>", "<EOT>", "<｜end▁of▁sentence｜>");

    /** Texts whose tokens end generation besides EOS/EOT/EOM. */
    private static final Set<String> END_OF_GENERATION_TEXTS = Set.of("<|eot_id|>", "<|im_end|>", "<|end|>",
            "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<|end_of_text|>", "<EOT>");

    private final Kind kind;
    private final String preTokenizer;
    private final String[] texts;
    private final int[] types;
    private final float[] scores;
    private final Map<String, Integer> ids;
    private final String[] merges;
    private final int bos;
    private final int eos;
    private final int unknown;
    private final boolean addBos;
    private final boolean addEos;
    private final boolean addSpacePrefix;
    private final BitSet endOfGeneration;

    private Vocabulary(GgufMetadata m) {
        String model = m.findString("tokenizer.ggml.model").orElseThrow(() -> new GgufException(
                "the file has no tokenizer: metadata key 'tokenizer.ggml.model' is missing"));
        kind = switch (model) {
            case "gpt2" -> Kind.BYTE_LEVEL_BPE;
            case "llama" -> Kind.SENTENCE_PIECE;
            default -> throw new GgufException("tokenizer model '" + model
                    + "' is not supported (supported: 'gpt2' byte-level BPE, 'llama' SentencePiece)");
        };
        preTokenizer = m.findString("tokenizer.ggml.pre").orElse("default");
        if (!m.has("tokenizer.ggml.tokens")) {
            throw new GgufException("the file has no vocabulary: metadata key 'tokenizer.ggml.tokens' is missing");
        }
        texts = m.getArray("tokenizer.ggml.tokens").strings().clone();
        int n = texts.length;
        if (n == 0) {
            throw new GgufException("metadata key 'tokenizer.ggml.tokens' is empty");
        }
        ids = HashMap.newHashMap(n);
        for (int i = 0; i < n; i++) {
            if (texts[i].isEmpty()) {
                texts[i] = "[EMPTY_" + i + "]"; // llama.cpp's stand-in, so that every token has a distinct text
            }
            Integer previous = ids.putIfAbsent(texts[i], i);
            if (previous != null) {
                throw new GgufException("vocabulary is inconsistent: tokens " + previous + " and " + i
                        + " are both '" + texts[i] + "'");
            }
        }
        types = m.findArray("tokenizer.ggml.token_type").map(a -> ints(a, "tokenizer.ggml.token_type", n))
                .orElseGet(() -> filled(n, NORMAL));
        scores = m.findArray("tokenizer.ggml.scores").map(a -> floats(a, n)).orElseGet(() -> new float[n]);
        if (kind == Kind.BYTE_LEVEL_BPE) {
            if (!m.has("tokenizer.ggml.merges")) {
                throw new GgufException("byte-level BPE vocabulary without merges: "
                        + "metadata key 'tokenizer.ggml.merges' is missing");
            }
            merges = m.getArray("tokenizer.ggml.merges").strings();
        } else {
            merges = new String[0];
        }

        boolean spm = kind == Kind.SENTENCE_PIECE;
        bos = specialId(m, "tokenizer.ggml.bos_token_id", spm ? 1 : -1);
        eos = specialId(m, "tokenizer.ggml.eos_token_id", spm ? 2 : -1);
        unknown = specialId(m, "tokenizer.ggml.unknown_token_id", spm ? 0 : -1);
        addBos = m.getBool("tokenizer.ggml.add_bos_token", spm || isLlama3Family());
        addEos = m.getBool("tokenizer.ggml.add_eos_token", false);
        addSpacePrefix = m.getBool("tokenizer.ggml.add_space_prefix", spm);

        int eot = specialId(m, "tokenizer.ggml.eot_token_id", -1);
        int eom = specialId(m, "tokenizer.ggml.eom_token_id", -1);
        endOfGeneration = new BitSet(n);
        for (int i = 0; i < n; i++) {
            if (eot < 0 && EOT_TEXTS.contains(texts[i])) {
                eot = i;
            }
            if (END_OF_GENERATION_TEXTS.contains(texts[i])) {
                endOfGeneration.set(i);
                types[i] = CONTROL; // llama.cpp overrides the type of control-looking tokens
            }
        }
        for (int id : new int[] {eos, eot, eom}) {
            if (id >= 0) {
                endOfGeneration.set(id);
            }
        }
    }

    static Vocabulary read(GgufMetadata metadata) {
        return new Vocabulary(metadata);
    }

    private int specialId(GgufMetadata m, String key, int defaultId) {
        if (!m.has(key)) {
            return defaultId < texts.length ? defaultId : -1;
        }
        long id = m.getLong(key);
        if (id == -1 || id == 0xFFFF_FFFFL) {
            return -1; // "none", as some converters write it
        }
        if (id < 0 || id >= texts.length) {
            throw new GgufException("vocabulary is inconsistent: metadata key '" + key + "' = " + id
                    + " is not a token id (vocabulary has " + texts.length + " tokens)");
        }
        return (int) id;
    }

    private static int[] ints(GgufArray a, String key, int n) {
        int[] out;
        if (a.elements() instanceof int[] v) {
            out = v.clone();
        } else if (a.elements() instanceof long[] v) {
            out = new int[v.length];
            for (int i = 0; i < v.length; i++) {
                out[i] = (int) v[i];
            }
        } else {
            throw new GgufException("metadata key '" + key + "' is an array of " + a.elementType()
                    + ", expected integers");
        }
        checkLength(out.length, n, key);
        return out;
    }

    private static float[] floats(GgufArray a, int n) {
        float[] out = a.floats();
        checkLength(out.length, n, "tokenizer.ggml.scores");
        return out;
    }

    private static void checkLength(int length, int n, String key) {
        if (length != n) {
            throw new GgufException("vocabulary is inconsistent: metadata key '" + key + "' has " + length
                    + " entries for " + n + " tokens");
        }
    }

    private static int[] filled(int n, int value) {
        int[] a = new int[n];
        Arrays.fill(a, value);
        return a;
    }

    Kind kind() {
        return kind;
    }

    String preTokenizer() {
        return preTokenizer;
    }

    boolean isLlama3Family() {
        return isLlama3FamilyName(preTokenizer);
    }

    static boolean isLlama3FamilyName(String preTokenizer) {
        return LLAMA3_FAMILY.contains(preTokenizer);
    }

    int size() {
        return texts.length;
    }

    String text(int id) {
        return texts[check(id)];
    }

    int type(int id) {
        return types[check(id)];
    }

    float score(int id) {
        return scores[id];
    }

    /** Id of the token with exactly this text, or -1. */
    int id(String text) {
        Integer id = ids.get(text);
        return id == null ? -1 : id;
    }

    String[] merges() {
        return merges;
    }

    int bos() {
        return bos;
    }

    int eos() {
        return eos;
    }

    int unknown() {
        return unknown;
    }

    boolean addBos() {
        return addBos;
    }

    boolean addEos() {
        return addEos;
    }

    boolean addSpacePrefix() {
        return addSpacePrefix;
    }

    boolean isEndOfGeneration(int id) {
        return id >= 0 && endOfGeneration.get(id);
    }

    int check(int id) {
        if (id < 0 || id >= texts.length) {
            throw new IllegalArgumentException("token id " + id + " is out of range [0, " + texts.length + ")");
        }
        return id;
    }
}
