package io.bitnet4j.synth;

import io.bitnet4j.gguf.GgufValue;
import io.bitnet4j.gguf.GgufValueType;
import io.bitnet4j.json.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code tokenizer.*} metadata of a GGUF file, in the key order the reference converters write it: either a
 * synthetic vocabulary of a given size, or the real one built from a Hugging Face {@code tokenizer.json}.
 *
 * @param metadata the {@code tokenizer.*} entries, in order
 * @param size     number of tokens (= rows of {@code token_embd})
 */
public record SynthVocab(Map<String, GgufValue> metadata, int size) {
    /** 256 byte tokens and the 10 Llama-3 special tokens up to {@code <|eot_id|>}. */
    public static final int MIN_BPE_VOCAB = 256 + 10;
    /** {@code <unk> <s> </s>}, 256 byte pieces, {@code <pad> </line>}. */
    public static final int MIN_SENTENCEPIECE_VOCAB = 3 + 256 + 2;

    /** Far above any real vocabulary (the largest are ~260k); bounds memory for a corrupt file. */
    static final int MAX_TOKENS = 1 << 22;

    // GGUF token types (llama.cpp's llama_token_type)
    static final int NORMAL = 1;
    static final int UNKNOWN = 2;
    static final int CONTROL = 3;
    static final int USER_DEFINED = 4;
    static final int BYTE = 6;

    /** Llama-3's pre-tokenizer split pattern; llama.cpp calls a tokenizer with it {@code llama-bpe}. */
    static final String LLAMA3_SPLIT_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}|"
            + " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    /**
     * A Llama-3-like byte-level BPE vocabulary: the 256 byte tokens (GPT-2's byte-to-unicode characters, in code
     * point order as in Llama-3), deterministic letter merges ("Ġ t", "Ġt h", ...) up to the special tokens, and the
     * Llama-3 special tokens at the end ({@code <|begin_of_text|>} = bos, {@code <|end_of_text|>} = eos,
     * {@code <|eot_id|>} = eot). Vocabularies of 1024 tokens or more reserve Llama-3's 256 special ids, smaller
     * ones only the first 10.
     */
    public static SynthVocab syntheticBpe(int vocab) {
        if (vocab < MIN_BPE_VOCAB) {
            throw new IllegalArgumentException("--vocab " + vocab + " is too small for a synthetic BPE vocabulary "
                    + "(at least " + MIN_BPE_VOCAB + ": 256 byte tokens and 10 special tokens)");
        }
        int specials = vocab >= 1024 ? 256 : 10;
        int regular = vocab - specials;
        List<String> tokens = new ArrayList<>(vocab);
        for (int cp : byteLevelCodePointsSorted()) {
            tokens.add(Character.toString(cp));
        }
        List<String> merges = new ArrayList<>();
        for (String[] pair : letterPairs("\u0120", regular - 256)) {
            tokens.add(pair[0] + pair[1]);
            merges.add(pair[0] + " " + pair[1]);
        }
        int[] types = new int[vocab];
        java.util.Arrays.fill(types, NORMAL);
        for (int i = 0; i < specials; i++) {
            tokens.add(llama3SpecialToken(i));
            types[regular + i] = CONTROL;
        }
        Map<String, GgufValue> m = new LinkedHashMap<>();
        m.put("tokenizer.ggml.model", GgufValue.string("gpt2"));
        m.put("tokenizer.ggml.pre", GgufValue.string("llama-bpe"));
        m.put("tokenizer.ggml.tokens", GgufValue.strings(tokens.toArray(String[]::new)));
        m.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, types));
        m.put("tokenizer.ggml.merges", GgufValue.strings(merges.toArray(String[]::new)));
        m.put("tokenizer.ggml.bos_token_id", GgufValue.uint32(regular));
        m.put("tokenizer.ggml.eos_token_id", GgufValue.uint32(regular + 1));
        m.put("tokenizer.ggml.eot_token_id", GgufValue.uint32(regular + 9));
        m.put("tokenizer.ggml.add_bos_token", GgufValue.bool(true));
        return new SynthVocab(m, vocab);
    }

    /** Llama-3's special token {@code i} (0 = {@code <|begin_of_text|>}, 9 = {@code <|eot_id|>}). */
    static String llama3SpecialToken(int i) {
        return switch (i) {
            case 0 -> "<|begin_of_text|>";
            case 1 -> "<|end_of_text|>";
            case 6 -> "<|start_header_id|>";
            case 7 -> "<|end_header_id|>";
            case 9 -> "<|eot_id|>";
            default -> "<|reserved_special_token_" + (i < 6 ? i - 2 : i == 8 ? 4 : i - 5) + "|>";
        };
    }

    /**
     * A LLaMA-2-like SentencePiece vocabulary as llama.cpp's converter writes it for the 1bitLLM models:
     * {@code <unk>} (unknown), {@code <s>}, {@code </s>} (control), {@code <0x00>..<0xFF>} (byte), word pieces
     * ("▁", "a", ..., "▁t", ...) with descending scores, and the two added tokens {@code <pad>} and
     * {@code </line>} (user-defined, score -1000) at the end.
     */
    public static SynthVocab syntheticSentencePiece(int vocab) {
        if (vocab < MIN_SENTENCEPIECE_VOCAB) {
            throw new IllegalArgumentException("--vocab " + vocab + " is too small for a synthetic SentencePiece "
                    + "vocabulary (at least " + MIN_SENTENCEPIECE_VOCAB + ")");
        }
        String[] tokens = new String[vocab];
        float[] scores = new float[vocab];
        int[] types = new int[vocab];
        tokens[0] = "<unk>";
        types[0] = UNKNOWN;
        tokens[1] = "<s>";
        types[1] = CONTROL;
        tokens[2] = "</s>";
        types[2] = CONTROL;
        for (int b = 0; b < 256; b++) {
            tokens[3 + b] = String.format("<0x%02X>", b);
            types[3 + b] = BYTE;
        }
        int id = 259;
        int pieces = vocab - 259 - 2;
        List<String> singles = new ArrayList<>();
        singles.add("\u2581");
        for (char c = 'a'; c <= 'z'; c++) {
            singles.add(String.valueOf(c));
        }
        for (String s : singles.subList(0, Math.min(pieces, singles.size()))) {
            tokens[id] = s;
            types[id] = NORMAL;
            scores[id] = 259 - id;
            id++;
        }
        for (String[] pair : letterPairs("\u2581", Math.max(0, pieces - singles.size()))) {
            tokens[id] = pair[0] + pair[1];
            types[id] = NORMAL;
            scores[id] = 259 - id;
            id++;
        }
        int pad = id;
        for (String added : new String[] {"<pad>", "</line>"}) {
            tokens[id] = added;
            types[id] = USER_DEFINED;
            scores[id] = -1000f;
            id++;
        }
        Map<String, GgufValue> m = new LinkedHashMap<>();
        m.put("tokenizer.ggml.model", GgufValue.string("llama"));
        m.put("tokenizer.ggml.pre", GgufValue.string("default"));
        m.put("tokenizer.ggml.tokens", GgufValue.strings(tokens));
        m.put("tokenizer.ggml.scores", GgufValue.array(GgufValueType.FLOAT32, scores));
        m.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, types));
        m.put("tokenizer.ggml.bos_token_id", GgufValue.uint32(1));
        m.put("tokenizer.ggml.eos_token_id", GgufValue.uint32(2));
        m.put("tokenizer.ggml.unknown_token_id", GgufValue.uint32(0));
        m.put("tokenizer.ggml.padding_token_id", GgufValue.uint32(pad));
        m.put("tokenizer.ggml.add_bos_token", GgufValue.bool(true));
        m.put("tokenizer.ggml.add_eos_token", GgufValue.bool(false));
        return new SynthVocab(m, vocab);
    }

    /**
     * {@code count} distinct (prefix, letter) pairs, shortest first: the prefixes are {@code space} and a..z, then
     * every two-character result, and so on. As merges they only ever join tokens that already exist.
     */
    static List<String[]> letterPairs(String space, int count) {
        List<String[]> out = new ArrayList<>(count);
        List<String> level = new ArrayList<>();
        level.add(space);
        for (char c = 'a'; c <= 'z'; c++) {
            level.add(String.valueOf(c));
        }
        while (out.size() < count) {
            List<String> next = new ArrayList<>(level.size() * 26);
            for (String prefix : level) {
                for (char c = 'a'; c <= 'z' && out.size() < count; c++) {
                    out.add(new String[] {prefix, String.valueOf(c)});
                    next.add(prefix + c);
                }
            }
            level = next;
        }
        return out;
    }

    /** GPT-2's byte-to-unicode characters: printable Latin-1 bytes map to themselves, the rest to U+0100 upwards. */
    static int[] byteToUnicode() {
        int[] map = new int[256];
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = printable ? b : next++;
        }
        return map;
    }

    private static int[] byteLevelCodePointsSorted() {
        int[] cps = byteToUnicode();
        java.util.Arrays.sort(cps);
        return cps;
    }

    /**
     * The vocabulary of a Hugging Face byte-level BPE {@code tokenizer.json}, as llama.cpp's converter writes it:
     * model tokens and added tokens at their ids (added special tokens CONTROL, other added tokens USER_DEFINED,
     * unused ids {@code [PAD<id>]}), merges as "a b" strings, {@code tokenizer.ggml.pre} from the pre-tokenizer,
     * and from a {@code tokenizer_config.json} beside it: bos/eos/unk/pad ids, add_bos/add_eos and the chat template.
     *
     * @param vocabSize number of tokens to write (at least the tokenizer's), or 0 for exactly the tokenizer's
     */
    public static SynthVocab fromHuggingFace(Path tokenizerJson, int vocabSize) {
        return fromHuggingFace(tokenizerJson, vocabSize, null);
    }

    /**
     * As {@link #fromHuggingFace(Path, int)}, with {@code tokenizer.ggml.pre} given by the caller when
     * {@code preTokenizer} is not null (for pre-tokenizers bitnet4j does not recognise from their configuration).
     */
    public static SynthVocab fromHuggingFace(Path tokenizerJson, int vocabSize, String preTokenizer) {
        Map<String, Object> root = asMap(Json.parse(tokenizerJson), "the top level of " + tokenizerJson);
        Map<String, Object> model = asMap(root.get("model"), tokenizerJson + ": \"model\"");
        if (!"BPE".equals(model.get("type")) || Boolean.TRUE.equals(model.get("byte_fallback"))) {
            throw new IllegalArgumentException(tokenizerJson + ": only byte-level BPE tokenizers are supported "
                    + "(model.type \"BPE\" without byte_fallback); this one is " + model.get("type")
                    + (Boolean.TRUE.equals(model.get("byte_fallback")) ? " with byte_fallback" : ""));
        }
        Map<String, Object> vocab = asMap(model.get("vocab"), tokenizerJson + ": \"model.vocab\"");
        Map<Integer, String> byId = new HashMap<>();
        Map<Integer, Boolean> addedSpecial = new HashMap<>();
        vocab.forEach((token, id) -> putToken(byId, tokenId(id, token, tokenizerJson), token, tokenizerJson));
        if (root.get("added_tokens") instanceof List<?> added) {
            for (Object o : added) {
                Map<String, Object> a = asMap(o, tokenizerJson + ": an entry of \"added_tokens\"");
                String content = asString(a.get("content"), tokenizerJson + ": added token content");
                int id = tokenId(a.get("id"), content, tokenizerJson);
                byId.put(id, content); // an added token replaces a model token with the same id
                addedSpecial.put(id, Boolean.TRUE.equals(a.get("special")));
            }
        }
        int needed = byId.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
        if (needed > MAX_TOKENS) {
            throw new IllegalArgumentException(tokenizerJson + " has a token id of " + (needed - 1)
                    + "; bitnet4j accepts vocabularies of up to " + MAX_TOKENS + " tokens");
        }
        if (vocabSize > 0 && vocabSize < needed) {
            throw new IllegalArgumentException(tokenizerJson + " has token ids up to " + (needed - 1)
                    + ", more than the model's vocabulary of " + vocabSize + " tokens");
        }
        int n = vocabSize > 0 ? vocabSize : needed;
        String[] tokens = new String[n];
        int[] types = new int[n];
        Map<String, Integer> idOf = new HashMap<>(2 * n);
        for (int i = 0; i < n; i++) {
            String t = byId.get(i);
            Boolean special = addedSpecial.get(i);
            tokens[i] = t != null ? t : "[PAD" + i + "]";
            types[i] = t == null ? USER_DEFINED : special == null ? NORMAL : special ? CONTROL : USER_DEFINED;
            idOf.putIfAbsent(tokens[i], i);
        }

        Map<String, GgufValue> m = new LinkedHashMap<>();
        m.put("tokenizer.ggml.model", GgufValue.string("gpt2"));
        m.put("tokenizer.ggml.pre", GgufValue.string(preTokenizer != null ? preTokenizer
                : preTokenizerName(root.get("pre_tokenizer"), tokenizerJson)));
        m.put("tokenizer.ggml.tokens", GgufValue.strings(tokens));
        m.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, types));
        m.put("tokenizer.ggml.merges", GgufValue.strings(merges(model.get("merges"), tokenizerJson)));

        putSpecialTokens(m, tokenizerJson.resolveSibling("tokenizer_config.json"), idOf, tokenizerJson);
        return new SynthVocab(m, n);
    }

    /**
     * The entries llama.cpp's converter takes from a {@code tokenizer_config.json} (when the file exists): the
     * bos/eos/unk/pad token ids (their text looked up in {@code idOf}), add_bos/add_eos and the chat template.
     *
     * @param vocabFile the file {@code idOf} was built from, named in errors
     */
    public static void putSpecialTokens(Map<String, GgufValue> m, Path configFile, Map<String, Integer> idOf,
            Path vocabFile) {
        if (!Files.isRegularFile(configFile)) {
            return;
        }
        Map<String, Object> config = asMap(Json.parse(configFile), "the top level of " + configFile);
        boolean hasBos = false;
        for (String kind : new String[] {"bos", "eos", "unk", "pad"}) {
            Object tok = config.get(kind + "_token");
            String content = tok instanceof Map<?, ?> mm ? (String) mm.get("content") : tok instanceof String s ? s : null;
            if (content == null) {
                continue;
            }
            Integer id = idOf.get(content);
            if (id == null) {
                throw new IllegalArgumentException(configFile + ": " + kind + "_token '" + content
                        + "' is not in the vocabulary of " + vocabFile.getFileName());
            }
            String key = kind.equals("unk") ? "unknown" : kind.equals("pad") ? "padding" : kind;
            m.put("tokenizer.ggml." + key + "_token_id", GgufValue.uint32(id));
            hasBos |= kind.equals("bos");
        }
        // llama.cpp adds BOS for these vocabularies unless the config says otherwise
        boolean addBos = config.get("add_bos_token") instanceof Boolean b ? b : hasBos;
        m.put("tokenizer.ggml.add_bos_token", GgufValue.bool(addBos));
        if (config.get("add_eos_token") instanceof Boolean b) {
            m.put("tokenizer.ggml.add_eos_token", GgufValue.bool(b));
        }
        String template = chatTemplate(config.get("chat_template"));
        if (template != null) {
            m.put("tokenizer.chat_template", GgufValue.string(template));
        }
    }

    /**
     * llama.cpp's converter names the pre-tokenizer by hashing the tokens of a test string; without running the
     * tokenizer we recognise the two byte-level splitters bitnet4j's tokenizer implements by their configuration.
     */
    static String preTokenizerName(Object preTokenizer, Path file) {
        if (preTokenizer instanceof Map<?, ?> p) {
            List<?> steps = "Sequence".equals(p.get("type")) && p.get("pretokenizers") instanceof List<?> l ? l : List.of(p);
            for (Object step : steps) {
                if (step instanceof Map<?, ?> s && "Split".equals(s.get("type"))
                        && s.get("pattern") instanceof Map<?, ?> pattern
                        && LLAMA3_SPLIT_REGEX.equals(pattern.get("Regex"))) {
                    return "llama-bpe";
                }
            }
            if (steps.size() == 1 && steps.get(0) instanceof Map<?, ?> s && "ByteLevel".equals(s.get("type"))
                    && !Boolean.FALSE.equals(s.get("use_regex"))) {
                return "gpt-2";
            }
        }
        throw new IllegalArgumentException(file + ": unrecognised pre-tokenizer (bitnet4j knows Llama-3's "
                + "\"llama-bpe\" split and GPT-2's byte-level one)");
    }

    private static String[] merges(Object merges, Path file) {
        if (!(merges instanceof List<?> list)) {
            throw new IllegalArgumentException(file + ": \"model.merges\" is missing or not a list");
        }
        String[] out = new String[list.size()];
        for (int i = 0; i < out.length; i++) {
            Object e = list.get(i);
            if (e instanceof String s) {
                out[i] = s;
            } else if (e instanceof List<?> pair && pair.size() == 2 && pair.get(0) instanceof String a
                    && pair.get(1) instanceof String b) {
                out[i] = a + " " + b; // newer tokenizers store merges as [left, right]
            } else {
                throw new IllegalArgumentException(file + ": merge " + i + " is neither \"a b\" nor [\"a\", \"b\"]");
            }
        }
        return out;
    }

    /** A template string, or the one named "default" from a list of {name, template}. */
    private static String chatTemplate(Object t) {
        if (t instanceof String s) {
            return s;
        }
        if (t instanceof List<?> list) {
            for (Object o : list) {
                if (o instanceof Map<?, ?> named && "default".equals(named.get("name"))
                        && named.get("template") instanceof String s) {
                    return s;
                }
            }
        }
        return null;
    }

    private static void putToken(Map<Integer, String> byId, int id, String token, Path file) {
        String previous = byId.put(id, token);
        if (previous != null) {
            throw new IllegalArgumentException(file + ": tokens '" + previous + "' and '" + token + "' share id " + id);
        }
    }

    private static int tokenId(Object id, String token, Path file) {
        if (id instanceof Long l && l >= 0 && l < Integer.MAX_VALUE) {
            return (int) (long) l;
        }
        throw new IllegalArgumentException(file + ": token '" + token + "' has id " + id
                + ", expected a non-negative integer");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asMap(Object o, String what) {
        if (o instanceof Map<?, ?> m) {
            return (Map<String, Object>) m;
        }
        throw new IllegalArgumentException(what + " is not a JSON object");
    }

    private static String asString(Object o, String what) {
        if (o instanceof String s) {
            return s;
        }
        throw new IllegalArgumentException(what + " is not a string");
    }
}
