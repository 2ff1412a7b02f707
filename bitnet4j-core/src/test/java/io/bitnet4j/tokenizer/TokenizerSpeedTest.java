package io.bitnet4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** A 10 KB prompt must tokenize well under 100 ms (best of several runs, after warm-up). */
class TokenizerSpeedTest {

    static String tenKilobytes() throws IOException {
        StringBuilder sb = new StringBuilder();
        while (sb.toString().getBytes(StandardCharsets.UTF_8).length < 10_240) {
            for (LlamaBpeVectorsTest.Vector v : LlamaBpeVectorsTest.vectors()) {
                sb.append(v.text()).append('\n');
            }
            sb.append("The quick brown fox jumps over the lazy dog. In 1492, Columbus sailed across the ocean; ")
                    .append("it's 3.14159 o'clock, and we'll see what they've done!\n");
        }
        return sb.toString();
    }

    @Test
    void tenKilobytePrompts() throws IOException {
        String text = tenKilobytes();
        report("llama3 (byte-level BPE)", SharedVocabularies.llama3(), text);
        report("llama2 (SentencePiece)", SharedVocabularies.llama2(), text);
    }

    @Test
    void longWordsStayNearLinear() {
        // one 100 KB "word" (no split points): merging must not be quadratic
        String word = "ab".repeat(50_000);
        for (Tokenizer t : new Tokenizer[] {SharedVocabularies.llama3(), SharedVocabularies.llama2()}) {
            long start = System.nanoTime();
            int[] ids = t.encode(word, false, false);
            double ms = (System.nanoTime() - start) / 1e6;
            System.out.printf("tokenize 100 KB word: %d tokens in %.1f ms%n", ids.length, ms);
            assertEquals(word, t.decode(ids).strip());
            assertTrue(ms < 5_000, ms + " ms"); // a quadratic merge would take minutes
        }
    }

    private static void report(String name, Tokenizer t, String text) {
        long cold = System.nanoTime();
        int[] ids = t.encode(text, true, true);
        System.out.printf("tokenize %s: first run %.1f ms%n", name, (System.nanoTime() - cold) / 1e6);
        long best = Long.MAX_VALUE;
        for (int run = 0; run < 20; run++) {
            long start = System.nanoTime();
            ids = t.encode(text, true, true);
            best = Math.min(best, System.nanoTime() - start);
        }
        double ms = best / 1e6;
        System.out.printf("tokenize %s: %d bytes -> %d tokens in %.2f ms (best of 20)%n",
                name, text.getBytes(StandardCharsets.UTF_8).length, ids.length, ms);
        assertEquals(text, t.decode(ids));
        assertTrue(ms < 100, name + " took " + ms + " ms");
    }
}
