package io.bitnet4j.synth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bitnet4j.gguf.GgufFile;
import io.bitnet4j.gguf.GgufValue;
import io.bitnet4j.json.Json;
import io.bitnet4j.testing.SharedTestData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SynthVocabTest {

    @Test
    void syntheticBpeHasLlama3sLayout() {
        SynthVocab v = SynthVocab.syntheticBpe(128256);
        Map<String, GgufValue> m = v.metadata();
        String[] tokens = strings(m, "tokenizer.ggml.tokens");
        int[] types = ((io.bitnet4j.gguf.GgufArray) m.get("tokenizer.ggml.token_type").value()).ints();
        String[] merges = strings(m, "tokenizer.ggml.merges");
        assertEquals(128256, tokens.length);
        assertEquals(128000 - 256, merges.length);
        assertEquals(128000L, m.get("tokenizer.ggml.bos_token_id").value());
        assertEquals("<|begin_of_text|>", tokens[128000]);
        assertEquals("<|end_of_text|>", tokens[128001]);
        assertEquals("<|eot_id|>", tokens[128009]);
        assertEquals(128009L, m.get("tokenizer.ggml.eot_token_id").value());
        assertEquals("!", tokens[0]);
        Map<String, Integer> ids = new HashMap<>();
        for (int i = 0; i < tokens.length; i++) {
            assertEquals(null, ids.put(tokens[i], i), "duplicate token " + tokens[i]);
            assertEquals(i >= 128000 ? 3 : 1, types[i], tokens[i]);
        }
        // every merge joins two existing tokens into a later one
        for (String merge : merges) {
            String[] parts = merge.split(" ");
            assertEquals(2, parts.length, merge);
            Integer left = ids.get(parts[0]);
            Integer right = ids.get(parts[1]);
            Integer joined = ids.get(parts[0] + parts[1]);
            assertNotNull(joined, merge);
            assertTrue(left != null && right != null && left < joined && right < joined, merge);
        }
    }

    @Test
    void syntheticBpeByteTokensAndSpecialsAreLlama3s() {
        Path tokenizer = SharedTestData.require("llama3-tokenizer/tokenizer.json");
        Map<?, ?> root = (Map<?, ?>) Json.parse(tokenizer);
        Map<?, ?> vocab = (Map<?, ?>) ((Map<?, ?>) root.get("model")).get("vocab");
        String[] real = new String[256];
        vocab.forEach((t, id) -> {
            if (((Long) id) < 256) {
                real[(int) (long) (Long) id] = (String) t;
            }
        });
        String[] ours = strings(SynthVocab.syntheticBpe(128256).metadata(), "tokenizer.ggml.tokens");
        assertArrayEquals(real, Arrays.copyOf(ours, 256), "the 256 byte tokens in Llama-3's order");
        List<?> added = (List<?>) root.get("added_tokens");
        for (Object o : added) {
            Map<?, ?> a = (Map<?, ?>) o;
            assertEquals(a.get("content"), ours[(int) (long) (Long) a.get("id")]);
        }
    }

    @Test
    void smallBpeVocabularyKeepsTheFirstTenSpecials() {
        String[] tokens = strings(SynthVocab.syntheticBpe(300).metadata(), "tokenizer.ggml.tokens");
        assertEquals("<|begin_of_text|>", tokens[290]);
        assertEquals("<|eot_id|>", tokens[299]);
        assertEquals("<|start_header_id|>", tokens[296]);
    }

    @Test
    void syntheticSentencePieceMatchesLlamaCppsLayout() {
        SynthVocab v = SynthVocab.syntheticSentencePiece(32002);
        Map<String, GgufValue> m = v.metadata();
        String[] tokens = strings(m, "tokenizer.ggml.tokens");
        assertEquals("<pad>", tokens[32000]);
        assertEquals("</line>", tokens[32001]);
        assertEquals(32000L, m.get("tokenizer.ggml.padding_token_id").value());
        assertEquals(32002, Arrays.stream(tokens).distinct().count());
        float[] scores = ((io.bitnet4j.gguf.GgufArray) m.get("tokenizer.ggml.scores").value()).floats();
        for (int i = 260; i < 32000; i++) {
            assertTrue(scores[i] < scores[i - 1], "scores fall with the piece id");
        }
        assertEquals(-1000f, scores[32001]);
    }

    /** Specials, bytes and their types are those llama.cpp wrote for the real LLaMA-2 vocabulary. */
    @Test
    void sentencePieceSpecialsAndBytesAgreeWithLlamaCpp() {
        Path oracle = SharedTestData.require("oracle/llamacpp-tq-tiny/tiny-tq2_0.gguf");
        Map<String, GgufValue> ours = SynthVocab.syntheticSentencePiece(32002).metadata();
        try (GgufFile f = GgufFile.open(oracle)) {
            String[] theirTokens = f.metadata().getArray("tokenizer.ggml.tokens").strings();
            int[] theirTypes = f.metadata().getArray("tokenizer.ggml.token_type").ints();
            String[] ourTokens = strings(ours, "tokenizer.ggml.tokens");
            int[] ourTypes = ((io.bitnet4j.gguf.GgufArray) ours.get("tokenizer.ggml.token_type").value()).ints();
            assertArrayEquals(Arrays.copyOf(theirTokens, 259), Arrays.copyOf(ourTokens, 259));
            assertArrayEquals(Arrays.copyOf(theirTypes, 259), Arrays.copyOf(ourTypes, 259));
            assertEquals(theirTokens.length, ourTokens.length);
            for (String key : List.of("tokenizer.ggml.model", "tokenizer.ggml.pre", "tokenizer.ggml.bos_token_id",
                    "tokenizer.ggml.eos_token_id", "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.padding_token_id",
                    "tokenizer.ggml.add_bos_token", "tokenizer.ggml.add_eos_token")) {
                assertEquals(f.metadata().get(key).orElseThrow(), ours.get(key), key);
            }
        }
    }

    @Test
    void huggingFaceTokenizerWithPairMergesAndGpt2PreTokenizer(@TempDir Path dir) throws Exception {
        Path tok = dir.resolve("tokenizer.json");
        Files.writeString(tok, """
                {"added_tokens": [{"id": 5, "content": "<s>", "special": true},
                                  {"id": 6, "content": "<extra>", "special": false}],
                 "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false},
                 "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "Ġ": 3},
                           "merges": [["a", "b"]]}}""");
        Files.writeString(dir.resolve("tokenizer_config.json"), """
                {"bos_token": {"content": "<s>"}, "add_bos_token": false, "eos_token": "<s>",
                 "chat_template": [{"name": "default", "template": "T"}, {"name": "tool_use", "template": "U"}]}""");
        Map<String, GgufValue> m = SynthVocab.fromHuggingFace(tok, 8).metadata();
        assertArrayEquals(new String[] {"a", "b", "ab", "Ġ", "[PAD4]", "<s>", "<extra>", "[PAD7]"},
                strings(m, "tokenizer.ggml.tokens"));
        assertArrayEquals(new int[] {1, 1, 1, 1, 4, 3, 4, 4},
                ((io.bitnet4j.gguf.GgufArray) m.get("tokenizer.ggml.token_type").value()).ints());
        assertArrayEquals(new String[] {"a b"}, strings(m, "tokenizer.ggml.merges"));
        assertEquals("gpt-2", m.get("tokenizer.ggml.pre").value());
        assertEquals(5L, m.get("tokenizer.ggml.bos_token_id").value());
        assertEquals(false, m.get("tokenizer.ggml.add_bos_token").value());
        assertEquals("T", m.get("tokenizer.chat_template").value());
        assertFalse(m.containsKey("tokenizer.ggml.add_eos_token"));
    }

    @Test
    void unsupportedTokenizersAreRefusedClearly(@TempDir Path dir) throws Exception {
        Path sp = dir.resolve("tokenizer.json");
        Files.writeString(sp, "{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SynthVocab.fromHuggingFace(sp, 0));
        assertTrue(e.getMessage().endsWith("only byte-level BPE tokenizers are supported (model.type \"BPE\" without "
                + "byte_fallback); this one is Unigram"), e.getMessage());
        Files.writeString(sp, "{\"pre_tokenizer\": {\"type\": \"Whitespace\"}, \"model\": {\"type\": \"BPE\", "
                + "\"vocab\": {\"a\": 0}, \"merges\": []}}");
        e = assertThrows(IllegalArgumentException.class, () -> SynthVocab.fromHuggingFace(sp, 0));
        assertTrue(e.getMessage().contains("unrecognised pre-tokenizer"), e.getMessage());
        Files.writeString(sp, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 0}, \"merges\": []}}");
        e = assertThrows(IllegalArgumentException.class, () -> SynthVocab.fromHuggingFace(sp, 0));
        assertTrue(e.getMessage().contains("tokens 'a' and 'b' share id 0"), e.getMessage());
        Files.writeString(sp, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 2147483000}, \"merges\": []}}");
        e = assertThrows(IllegalArgumentException.class, () -> SynthVocab.fromHuggingFace(sp, 0));
        assertTrue(e.getMessage().contains("accepts vocabularies of up to"), e.getMessage());
    }

    private static String[] strings(Map<String, GgufValue> m, String key) {
        return ((io.bitnet4j.gguf.GgufArray) m.get(key).value()).strings();
    }
}
