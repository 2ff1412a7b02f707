package io.bitnet4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.bitnet4j.testing.SharedTestData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * llama.cpp's tokenizer test vectors for the Llama 3 vocabulary (shared/testdata/llama3-tokenizer: inputs separated
 * by {@code \n__ggml_vocab_test__\n}, one line of expected ids per input, no BOS), against the vocabulary read from
 * bitnet.cpp's GGUF.
 */
class LlamaBpeVectorsTest {
    private static final String SEPARATOR = "\n__ggml_vocab_test__\n";

    record Vector(String text, int[] ids) {}

    static List<Vector> vectors() throws IOException {
        Path dir = SharedTestData.require("llama3-tokenizer");
        String inputs = Files.readString(dir.resolve("llama-bpe.inp"));
        List<String> all = Arrays.asList(inputs.split(SEPARATOR, -1));
        // the file ends with a separator
        List<String> texts = all.getLast().isEmpty() ? all.subList(0, all.size() - 1) : all;
        List<String> lines = Files.readAllLines(dir.resolve("llama-bpe.out"));
        assertEquals(texts.size(), lines.size(), "inputs and expected outputs pair up");
        return java.util.stream.IntStream.range(0, texts.size())
                .mapToObj(i -> new Vector(texts.get(i), lines.get(i).isBlank() ? new int[0]
                        : Arrays.stream(lines.get(i).trim().split(" +")).mapToInt(Integer::parseInt).toArray()))
                .toList();
    }

    @Test
    void everyVectorEncodesExactly() throws IOException {
        Tokenizer t = SharedVocabularies.llama3();
        List<Vector> vectors = vectors();
        int passed = 0;
        StringBuilder failures = new StringBuilder();
        for (Vector v : vectors) {
            int[] got = t.encode(v.text(), false, false);
            if (Arrays.equals(v.ids(), got)) {
                passed++;
            } else {
                failures.append("\n  ").append(quote(v.text())).append(": expected ").append(Arrays.toString(v.ids()))
                        .append(", got ").append(Arrays.toString(got));
            }
        }
        assertEquals(vectors.size(), passed, passed + "/" + vectors.size() + " vectors match" + failures);
    }

    @Test
    void decodeInvertsEncode() throws IOException {
        Tokenizer t = SharedVocabularies.llama3();
        for (Vector v : vectors()) {
            assertEquals(v.text(), t.decode(v.ids()), () -> "decode of the ids of " + quote(v.text()));
            assertEquals(v.text(), t.decode(t.encode(v.text(), true, false)), () -> "with BOS: " + quote(v.text()));
        }
    }

    @Test
    void streamingEqualsDecodeWithoutReplacementCharacters() throws IOException {
        Tokenizer t = SharedVocabularies.llama3();
        for (Vector v : vectors()) {
            StreamingDecoder d = t.newStreamingDecoder();
            StringBuilder streamed = new StringBuilder();
            for (int id : v.ids()) {
                String piece = d.feed(id);
                assertFalse(piece.contains("\uFFFD"), () -> "broken character streaming " + quote(v.text()));
                streamed.append(piece);
            }
            streamed.append(d.flush());
            assertEquals(v.text(), streamed.toString());
        }
    }

    static String quote(String s) {
        return "'" + s.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r") + "'";
    }

    @Test
    void vectorsIncludeMultiByteCharactersSplitAcrossTokens() throws IOException {
        // guards the streaming test above: some vector must have a token that ends inside a UTF-8 sequence
        Tokenizer t = SharedVocabularies.llama3();
        boolean split = vectors().stream().flatMapToInt(v -> Arrays.stream(v.ids()))
                .anyMatch(id -> StreamingDecoder.completePrefix(t.tokenBytes(id), t.tokenBytes(id).length)
                        < t.tokenBytes(id).length);
        assertEquals(true, split);
    }
}
