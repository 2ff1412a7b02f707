package io.bitnet4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The hand-written Llama 3 split. llama.cpp gives {@code tokenizer.ggml.pre = falcon3} the Llama 3 regex
 * (llama-vocab.cpp maps "llama3", "llama-v3", "llama-bpe", "falcon3", ... to LLAMA_VOCAB_PRE_TYPE_LLAMA3), so the
 * expectations below, worked out by hand from that regex, are tested through the Falcon 3 name; a fuzz test pins
 * the splitter to {@link java.util.regex} running the regex itself.
 */
class Llama3PreTokenizerTest {
    private final PreTokenizer falcon3 = PreTokenizer.forName("falcon3");

    @Test
    void falcon3AndLlama3NamesGetTheLlama3Split() {
        for (String name : List.of("falcon3", "llama-bpe", "llama3", "llama-v3")) {
            assertInstanceOf(Llama3PreTokenizer.class, PreTokenizer.forName(name), name);
        }
        assertInstanceOf(RegexPreTokenizer.class, PreTokenizer.forName("gpt-2"));
        assertInstanceOf(RegexPreTokenizer.class, PreTokenizer.forName("some-future-name"));
    }

    @Test
    void wordsTakeOneLeadingSpaceOrSymbol() {
        assertEquals(List.of("Hello", " world"), falcon3.split("Hello world"));
        assertEquals(List.of("(x", ")"), falcon3.split("(x)"));
        assertEquals(List.of("a", "\u00A0b"), falcon3.split("a\u00A0b")); // no-break space is \s, not \r\n
        assertEquals(List.of("\uD83E\uDD99x"), falcon3.split("\uD83E\uDD99x")); // 🦙 is a symbol, not a letter
        assertEquals(List.of("'Quote", "'S"), falcon3.split("'Quote'S")); // a word alternative beats nothing
    }

    @Test
    void contractionsAreCaseInsensitive() {
        assertEquals(List.of("don", "'t", "LL"), falcon3.split("don'tLL"));
        assertEquals(List.of("I", "'VE", " seen"), falcon3.split("I'VE seen"));
        assertEquals(List.of("we", "'ll"), falcon3.split("we'll"));
    }

    @Test
    void numbersGoInGroupsOfThree() {
        assertEquals(List.of("I", "'ve", " ", "123", "45", " apples", "!!\n\n", "OK"),
                falcon3.split("I've 12345 apples!!\n\nOK"));
        assertEquals(List.of("3", ".", "14"), falcon3.split("3.14"));
        assertEquals(List.of("\u0661\u0662\u0663", "\u0664"), falcon3.split("\u0661\u0662\u0663\u0664")); // Arabic-Indic
        assertEquals(List.of("\u216B\u216B"), falcon3.split("\u216B\u216B")); // Roman numerals are \p{N}
    }

    @Test
    void whitespaceRuns() {
        assertEquals(List.of(" ", " x"), falcon3.split("  x"));
        assertEquals(List.of("a", " \n\n", " ", " b"), falcon3.split("a \n\n  b"));
        assertEquals(List.of("end", "   "), falcon3.split("end   "));
        assertEquals(List.of("x", "\t", "\ty"), falcon3.split("x\t\ty"));
        assertEquals(List.of("\r\n\r\n", "foo"), falcon3.split("\r\n\r\nfoo"));
        assertEquals(List.of(" ((", "x"), falcon3.split(" ((x"));
    }

    @Test
    void gpt2SplitKeepsNumbersWhole() {
        assertEquals(List.of("abc", " 12345"), PreTokenizer.forName("default").split("abc 12345"));
        assertEquals(List.of("abc", " ", "123", "45"), falcon3.split("abc 12345"));
    }

    @Test
    void matchesTheRegexOnRandomText() {
        String[] alphabet = {"a", "Z", "s", "S", "t", "e", "r", "v", "m", "l", "L", "d", "é", "中", "\uD835\uDD38",
            "1", "7", "\u0663", "\u216B", " ", " ", "\t", "\n", "\r", "\u00A0", "\u3000", "'", "'", ".", "!", "(",
            "\uD83E\uDD99", "\u0301", "\u200D", "-", "_"};
        RegexPreTokenizer reference = new RegexPreTokenizer(RegexPreTokenizer.LLAMA3);
        Random random = new Random(42);
        for (int trial = 0; trial < 20_000; trial++) {
            StringBuilder sb = new StringBuilder();
            int length = random.nextInt(24);
            for (int i = 0; i < length; i++) {
                sb.append(alphabet[random.nextInt(alphabet.length)]);
            }
            String text = sb.toString();
            assertEquals(reference.split(text), falcon3.split(text), () -> LlamaBpeVectorsTest.quote(text));
        }
    }
}
