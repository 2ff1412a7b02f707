package io.bitnet4j.convert;

import io.bitnet4j.gguf.GgufValue;
import io.bitnet4j.gguf.GgufValueType;
import io.bitnet4j.json.Json;
import io.bitnet4j.synth.SynthVocab;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The vocabulary of a Hugging Face model folder, chosen as bitnet.cpp's converter does: a SentencePiece
 * {@code tokenizer.model} when present (the 1bitLLM models), else the byte-level BPE {@code tokenizer.json}
 * (Llama-3, Falcon3, BitNet-b1.58-2B-4T) through {@link SynthVocab#fromHuggingFace}.
 */
public final class HfVocabulary {
    private HfVocabulary() {}

    /** Far above any real SentencePiece model (~0.5-5 MB); bounds memory for a corrupt file. */
    static final long MAX_MODEL_BYTES = 64L << 20;

    // GGUF token types (llama.cpp's llama_token_type)
    static final int NORMAL = 1;
    static final int UNKNOWN = 2;
    static final int CONTROL = 3;
    static final int USER_DEFINED = 4;
    static final int UNUSED = 5;
    static final int BYTE = 6;

    /**
     * @param vocabSize    the model's {@code vocab_size} (rows of the embedding)
     * @param preTokenizer {@code tokenizer.ggml.pre} for a tokenizer.json whose pre-tokenizer bitnet4j does not
     *                     recognise, or null to recognise it
     */
    public static SynthVocab read(Path dir, int vocabSize, String preTokenizer) {
        Path spModel = dir.resolve("tokenizer.model");
        Path json = dir.resolve("tokenizer.json");
        SynthVocab vocab;
        if (Files.isRegularFile(spModel)) {
            vocab = sentencePiece(spModel, vocabSize);
        } else if (Files.isRegularFile(json)) {
            try {
                vocab = SynthVocab.fromHuggingFace(json, vocabSize, preTokenizer);
            } catch (IllegalArgumentException e) {
                if (preTokenizer == null && e.getMessage().contains("unrecognised pre-tokenizer")) {
                    throw new IllegalArgumentException(e.getMessage() + "; if llama.cpp knows it, give its name with "
                            + "--tokenizer-pre (e.g. falcon3)", e);
                }
                throw e;
            }
        } else {
            throw new IllegalArgumentException(dir + " has neither tokenizer.model nor tokenizer.json");
        }
        return withConfigTokenIds(vocab, dir.resolve("config.json"));
    }

    private static final String[] SPECIAL_KINDS = {"bos", "eos", "unk", "pad"};

    private static String idKey(String kind) {
        String key = kind.equals("unk") ? "unknown" : kind.equals("pad") ? "padding" : kind;
        return "tokenizer.ggml." + key + "_token_id";
    }

    /**
     * The special token ids tokenizer_config.json did not give, from config.json's {@code <kind>_token_id} (as
     * gguf-py's SpecialVocab falls back), kept in the bos, eos, unk, pad order before the add_* flags.
     */
    static SynthVocab withConfigTokenIds(SynthVocab vocab, Path configJson) {
        Map<String, GgufValue> m = vocab.metadata();
        Map<String, GgufValue> ids = new LinkedHashMap<>();
        Object config = Files.isRegularFile(configJson) ? Json.parse(configJson) : Map.of();
        for (String kind : SPECIAL_KINDS) {
            GgufValue id = m.get(idKey(kind));
            if (id == null && config instanceof Map<?, ?> c && c.get(kind + "_token_id") instanceof Long l
                    && l >= 0 && l < vocab.size()) {
                id = GgufValue.uint32(l);
            }
            if (id != null) {
                ids.put(idKey(kind), id);
            }
        }
        Map<String, GgufValue> out = new LinkedHashMap<>();
        java.util.Set<String> idKeys = java.util.Arrays.stream(SPECIAL_KINDS).map(HfVocabulary::idKey)
                .collect(java.util.stream.Collectors.toSet());
        m.forEach((k, v) -> {
            if (!idKeys.contains(k)) {
                if (k.startsWith("tokenizer.ggml.add_") || k.equals("tokenizer.chat_template")) {
                    out.putAll(ids);
                }
                out.put(k, v);
            }
        });
        out.putAll(ids); // no-op when they were placed before the flags
        return new SynthVocab(out, vocab.size());
    }

    /**
     * llama.cpp's SentencePiece vocabulary: the model's pieces with their scores and types (user-defined pieces
     * count as normal), then the tokens of {@code added_tokens.json} not already present (score -1000,
     * user-defined), then {@code [PAD1]..[PADn]} (score -1000, unused) up to {@code vocabSize}; special token ids
     * and flags from {@code tokenizer_config.json}.
     */
    static SynthVocab sentencePiece(Path file, int vocabSize) {
        List<String> tokens = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        readPieces(file, tokens, scores, types);
        Path added = file.resolveSibling("added_tokens.json");
        if (Files.isRegularFile(added)) {
            if (!(Json.parse(added) instanceof Map<?, ?> map)) {
                throw new IllegalArgumentException(added + " is not a JSON object");
            }
            for (Object key : map.keySet()) {
                if (!tokens.contains((String) key)) {
                    tokens.add((String) key);
                    scores.add(-1000f);
                    types.add(USER_DEFINED);
                }
            }
        }
        if (tokens.size() > vocabSize) {
            throw new IllegalArgumentException(file + " and added_tokens.json hold " + tokens.size()
                    + " tokens, more than the model's vocab_size of " + vocabSize);
        }
        for (int i = 1; tokens.size() < vocabSize; i++) {
            tokens.add("[PAD" + i + "]");
            scores.add(-1000f);
            types.add(UNUSED);
        }
        float[] scoreArray = new float[vocabSize];
        int[] typeArray = new int[vocabSize];
        Map<String, Integer> idOf = new HashMap<>(2 * vocabSize);
        for (int i = 0; i < vocabSize; i++) {
            scoreArray[i] = scores.get(i);
            typeArray[i] = types.get(i);
            idOf.putIfAbsent(tokens.get(i), i);
        }
        Map<String, GgufValue> m = new LinkedHashMap<>();
        m.put("tokenizer.ggml.model", GgufValue.string("llama"));
        m.put("tokenizer.ggml.pre", GgufValue.string("default"));
        m.put("tokenizer.ggml.tokens", GgufValue.strings(tokens.toArray(String[]::new)));
        m.put("tokenizer.ggml.scores", GgufValue.array(GgufValueType.FLOAT32, scoreArray));
        m.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, typeArray));
        SynthVocab.putSpecialTokens(m, file.resolveSibling("tokenizer_config.json"), idOf, file);
        return new SynthVocab(m, vocabSize);
    }

    /**
     * Reads the {@code pieces} (field 1) of a SentencePiece {@code ModelProto}: each a message of {@code piece}
     * (1, string), {@code score} (2, float) and {@code type} (3, enum, default NORMAL). Other fields are skipped.
     */
    private static void readPieces(Path file, List<String> tokens, List<Float> scores, List<Integer> types) {
        byte[] bytes;
        try {
            if (Files.size(file) > MAX_MODEL_BYTES) {
                throw new IllegalArgumentException(file + " is larger than " + MAX_MODEL_BYTES + " bytes");
            }
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        Protobuf model = new Protobuf(file, ByteBuffer.wrap(bytes));
        while (model.hasMore()) {
            int tag = model.tag();
            if (tag >>> 3 != 1 || (tag & 7) != 2) {
                model.skip(tag);
                continue;
            }
            Protobuf piece = model.message();
            String text = null;
            float score = 0;
            int type = 1;
            while (piece.hasMore()) {
                int t = piece.tag();
                switch (t) {
                    case (1 << 3) | 2 -> text = piece.string();
                    case (2 << 3) | 5 -> score = piece.fixed32();
                    case (3 << 3) -> type = (int) piece.varint();
                    default -> piece.skip(t);
                }
            }
            if (text == null) {
                throw new IllegalArgumentException(file + ": piece " + tokens.size() + " has no text");
            }
            tokens.add(text);
            scores.add(score);
            // sentencepiece's types: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte
            types.add(switch (type) {
                case 2 -> UNKNOWN;
                case 3 -> CONTROL;
                case 5 -> UNUSED;
                case 6 -> BYTE;
                default -> NORMAL;
            });
        }
        if (tokens.isEmpty()) {
            throw new IllegalArgumentException(file + " holds no SentencePiece pieces (not a tokenizer.model?)");
        }
    }

    /** A bounds-checked reader of protobuf wire format. */
    private static final class Protobuf {
        private final Path file;
        private final ByteBuffer buf;

        Protobuf(Path file, ByteBuffer buf) {
            this.file = file;
            this.buf = buf.order(ByteOrder.LITTLE_ENDIAN);
        }

        boolean hasMore() {
            return buf.hasRemaining();
        }

        int tag() {
            long t = varint();
            if (t <= 0 || t > Integer.MAX_VALUE) {
                throw corrupt("bad field tag " + t);
            }
            return (int) t;
        }

        long varint() {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                if (!buf.hasRemaining()) {
                    throw corrupt("truncated varint");
                }
                byte b = buf.get();
                v |= (long) (b & 0x7f) << shift;
                if (b >= 0) {
                    return v;
                }
            }
            throw corrupt("varint longer than 10 bytes");
        }

        float fixed32() {
            need(4);
            return buf.getFloat();
        }

        ByteBuffer bytes() {
            long n = varint();
            if (n < 0 || n > buf.remaining()) {
                throw corrupt("length " + n + " runs past the end");
            }
            ByteBuffer slice = buf.slice(buf.position(), (int) n);
            buf.position(buf.position() + (int) n);
            return slice;
        }

        String string() {
            return StandardCharsets.UTF_8.decode(bytes()).toString();
        }

        Protobuf message() {
            return new Protobuf(file, bytes());
        }

        void skip(int tag) {
            switch (tag & 7) {
                case 0 -> varint();
                case 1 -> {
                    need(8);
                    buf.position(buf.position() + 8);
                }
                case 2 -> bytes();
                case 5 -> {
                    need(4);
                    buf.position(buf.position() + 4);
                }
                default -> throw corrupt("unsupported wire type " + (tag & 7));
            }
        }

        private void need(int n) {
            if (buf.remaining() < n) {
                throw corrupt("truncated field");
            }
        }

        private IllegalArgumentException corrupt(String what) {
            return new IllegalArgumentException(file + ": not a valid SentencePiece model (" + what + ")");
        }
    }
}
