package io.bitnet4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bitnet4j.gguf.GgufException;
import io.bitnet4j.gguf.GgufMetadata;
import io.bitnet4j.gguf.GgufValue;
import io.bitnet4j.gguf.GgufValueType;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** Special tokens, end of generation, byte fallback, streaming and bad metadata, on real and hand-made vocabularies. */
class TokenizerBehaviourTest {

    // ---- hand-made byte-level vocabulary: the 256 byte characters, then extra tokens ----

    /** Metadata of a byte-level BPE vocabulary: 256 byte tokens, then {@code extra} (with their types), merges. */
    static Map<String, GgufValue> byteLevelVocab(List<String> extra, List<Integer> extraTypes, String... merges) {
        List<String> tokens = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            tokens.add(String.valueOf(ByteLevel.charOf(b)));
            types.add(Vocabulary.NORMAL);
        }
        tokens.addAll(extra);
        types.addAll(extraTypes);
        Map<String, GgufValue> m = new LinkedHashMap<>();
        m.put("tokenizer.ggml.model", GgufValue.string("gpt2"));
        m.put("tokenizer.ggml.pre", GgufValue.string("default"));
        m.put("tokenizer.ggml.tokens", GgufValue.strings(tokens.toArray(String[]::new)));
        m.put("tokenizer.ggml.token_type",
                GgufValue.array(GgufValueType.INT32, types.stream().mapToInt(Integer::intValue).toArray()));
        m.put("tokenizer.ggml.merges", GgufValue.strings(merges));
        return m;
    }

    private static Tokenizer tokenizer(Map<String, GgufValue> m) {
        return Tokenizer.fromGguf(new GgufMetadata(m));
    }

    private static List<String> texts(Tokenizer t, int[] ids) {
        return Arrays.stream(ids).mapToObj(t::tokenText).toList();
    }

    @Test
    void mergesApplyBestRankFirstAndLeftmostAmongEquals() {
        List<Integer> normal = List.of(Vocabulary.NORMAL, Vocabulary.NORMAL, Vocabulary.NORMAL, Vocabulary.NORMAL);
        List<String> extra = List.of("ab", "bc", "abc", "aa");
        Tokenizer abFirst = tokenizer(byteLevelVocab(extra, normal, "a b", "b c", "ab c", "a a"));
        Tokenizer bcFirst = tokenizer(byteLevelVocab(extra, normal, "b c", "a b", "ab c", "a a"));
        assertEquals(List.of("abc"), texts(abFirst, abFirst.encode("abc", false, false)));
        assertEquals(List.of("a", "bc"), texts(bcFirst, bcFirst.encode("abc", false, false)));
        assertEquals(List.of("aa", "a"), texts(abFirst, abFirst.encode("aaa", false, false)));
    }

    @Test
    void userDefinedTokensAreAlwaysRecognisedControlTokensOnlyWhenParsingSpecial() {
        Tokenizer t = tokenizer(byteLevelVocab(List.of("<ctl>", "<tool>"),
                List.of(Vocabulary.CONTROL, Vocabulary.USER_DEFINED)));
        assertEquals(List.of("x", "<tool>", "y"), texts(t, t.encode("x<tool>y", false, false)));
        assertEquals(List.of("x", "<", "c", "t", "l", ">"), texts(t, t.encode("x<ctl>", false, false)));
        assertEquals(List.of("x", "<ctl>"), texts(t, t.encode("x<ctl>", false, true)));
        assertEquals("x<ctl>", t.decode(t.encode("x<ctl>", false, true)), "control tokens decode to their text");
    }

    @Test
    void addingBosWithoutABosTokenIsAnError() {
        Tokenizer t = tokenizer(byteLevelVocab(List.of(), List.of()));
        assertEquals(-1, t.bosId());
        assertFalse(t.addBosByDefault());
        assertThrows(IllegalArgumentException.class, () -> t.encode("x", true, false));
        assertThrows(IllegalArgumentException.class, () -> t.tokenBytes(256));
    }

    // ---- metadata errors ----

    @Test
    void fileWithoutTokenizerKeys() {
        GgufException e = assertThrows(GgufException.class,
                () -> Tokenizer.fromGguf(new GgufMetadata(Map.of("general.architecture", GgufValue.string("llama")))));
        assertTrue(e.getMessage().contains("tokenizer.ggml.model"), e.getMessage());
    }

    @Test
    void inconsistentVocabularies() {
        List<Integer> one = List.of(Vocabulary.NORMAL);
        assertError("'bert' is not supported", m -> m.put("tokenizer.ggml.model", GgufValue.string("bert")));
        assertError("tokenizer.ggml.tokens' is missing", m -> m.remove("tokenizer.ggml.tokens"));
        assertError("tokenizer.ggml.merges' is missing", m -> m.remove("tokenizer.ggml.merges"));
        assertError("has 3 entries for 256 tokens", m -> m.put("tokenizer.ggml.token_type",
                GgufValue.array(GgufValueType.INT32, new int[] {1, 1, 1})));
        assertError("bos_token_id' = 999 is not a token id",
                m -> m.put("tokenizer.ggml.bos_token_id", GgufValue.uint32(999)));
        assertError("merge 0 'ab' is not two tokens", m -> m.put("tokenizer.ggml.merges", GgufValue.strings("ab")));
        assertError("tokens 97 and 256 are both 'a'", m -> {
            Map<String, GgufValue> dup = byteLevelVocab(List.of("a"), one);
            m.putAll(dup);
        });
    }

    private static void assertError(String expected, java.util.function.Consumer<Map<String, GgufValue>> breakIt) {
        Map<String, GgufValue> m = byteLevelVocab(List.of(), List.of());
        breakIt.accept(m);
        GgufException e = assertThrows(GgufException.class, () -> tokenizer(m));
        assertTrue(e.getMessage().contains(expected), () -> "'" + e.getMessage() + "' should say " + expected);
    }

    // ---- the real Llama 3 vocabulary ----

    @Test
    void llama3SpecialTokensParsedOnlyWhenAsked() {
        Tokenizer t = SharedVocabularies.llama3();
        String text = "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>";
        int[] parsed = t.encode(text, true, true);
        assertEquals(List.of("<|begin_of_text|>", "<|start_header_id|>", "user", "<|end_header_id|>", "ĊĊ", "Hi",
                "<|eot_id|>"), texts(t, parsed));
        int[] plain = t.encode(text, false, false);
        assertTrue(Arrays.stream(plain).allMatch(id -> id < 128000), "no special ids without parseSpecial");
        assertEquals(text, t.decode(plain));
        assertEquals(text, t.decode(parsed), "a leading BOS is not part of the text; other control tokens are");
    }

    @Test
    void llama3EndOfGeneration() {
        Tokenizer t = SharedVocabularies.llama3();
        assertEquals(OptionalInt.of(128009), t.tokenId("<|eot_id|>"));
        assertEquals("<|end_of_text|>", t.tokenText(t.eosId()));
        assertTrue(t.isEndOfGeneration(t.eosId()));
        assertTrue(t.isEndOfGeneration(128009));
        assertFalse(t.isEndOfGeneration(t.bosId()));
        assertFalse(t.isEndOfGeneration(t.tokenId("<|start_header_id|>").orElseThrow()));
        assertFalse(t.isEndOfGeneration(t.encode("Hello", false, false)[0]));
        assertTrue(t.addBosByDefault());
        assertEquals(128256, t.vocabSize());
    }

    @Test
    void llama3StreamingHoldsSplitCharacters() {
        Tokenizer t = SharedVocabularies.llama3();
        String text = "I love 🦙 and 😶‍🌫️ in Ελληνικά, 日本語 ";
        int[] ids = t.encode(text, false, false);
        StreamingDecoder d = t.newStreamingDecoder();
        StringBuilder out = new StringBuilder();
        boolean heldBack = false;
        for (int id : ids) {
            String piece = d.feed(id);
            assertFalse(piece.contains("\uFFFD"));
            heldBack |= piece.isEmpty();
            out.append(piece);
        }
        assertTrue(heldBack, "some emoji spans several tokens");
        assertEquals("", d.flush());
        assertEquals(text, out.toString());
        assertEquals(t.decode(ids), out.toString());
        assertEquals("🦙", new String(concat(t, t.encode("🦙", false, false)), StandardCharsets.UTF_8));
    }

    private static byte[] concat(Tokenizer t, int[] ids) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int id : ids) {
            out.writeBytes(t.tokenBytes(id));
        }
        return out.toByteArray();
    }

    // ---- the real LLaMA 2 SentencePiece vocabulary ----

    @Test
    void sentencePieceFallsBackToByteTokens() {
        Tokenizer t = SharedVocabularies.llama2();
        int[] ids = t.encode("🦙", false, false);
        // "▁🦙": the prefix space is a token, the llama is not, so its four UTF-8 bytes are spelled out
        assertEquals(List.of("▁", "<0xF0>", "<0x9F>", "<0xA6>", "<0x99>"), texts(t, ids));
        assertArrayEquals(new byte[] {(byte) 0xF0}, t.tokenBytes(ids[1]));

        StreamingDecoder d = t.newStreamingDecoder();
        assertEquals("", d.feed(t.bosId()));
        assertEquals("", d.feed(ids[0]), "the prefix space after BOS is dropped");
        assertEquals("", d.feed(ids[1]));
        assertEquals("", d.feed(ids[2]));
        assertEquals("", d.feed(ids[3]));
        assertEquals("🦙", d.feed(ids[4]));
        assertEquals("", d.flush());
    }

    @Test
    void sentencePieceSpecialTokensAndDecode() {
        Tokenizer t = SharedVocabularies.llama2();
        // llama.cpp puts the prefix space in front of text that follows a special token, too
        assertEquals(List.of("<s>", "▁Hello", "</s>"), texts(t, t.encode("<s>Hello</s>", false, true)));
        assertTrue(t.isEndOfGeneration(2));
        assertFalse(t.isEndOfGeneration(1));
        assertFalse(t.addEosByDefault());
        int[] ids = t.encode("Hello world", true, false);
        assertEquals(List.of("<s>", "▁Hello", "▁world"), texts(t, ids));
        assertEquals("Hello world", t.decode(ids));
        assertEquals(" Hello world", t.decode(Arrays.copyOfRange(ids, 1, ids.length)), "without BOS the space stays");
        assertEquals("", t.decode(new int[0]));
        assertArrayEquals(new int[] {1}, t.encode("", true, true));
    }

    @Test
    void unusedTokensDecodeToNothing() {
        Tokenizer t = SharedVocabularies.llama2();
        int pad = t.tokenId("[PAD32000]").orElseThrow();
        assertEquals(0, t.tokenBytes(pad).length);
    }
}
