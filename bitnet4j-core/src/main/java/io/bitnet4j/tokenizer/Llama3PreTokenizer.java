package io.bitnet4j.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Llama 3's pre-tokenizer split (also Falcon 3's in llama.cpp), written out by hand for speed. It finds the same
 * pieces as the regular expression {@link RegexPreTokenizer#LLAMA3}:
 * <pre>
 *   1. 's 't 're 've 'm 'll 'd          (ASCII case-insensitive contractions)
 *   2. [^\r\n\p{L}\p{N}]?\p{L}+          (a word, with at most one leading non-letter, e.g. " word")
 *   3. \p{N}{1,3}                        (digits, in groups of up to three)
 *   4.  ?[^\s\p{L}\p{N}]+[\r\n]*         (punctuation/symbols, optional leading space, trailing newlines)
 *   5. \s*[\r\n]+                        (whitespace up to and including the last newline of the run)
 *   6. \s+(?!\S)                         (whitespace not followed by a non-space: all but the last of a run)
 *   7. \s+
 * </pre>
 * At each position the first alternative that matches wins, as in a regex alternation.
 */
final class Llama3PreTokenizer implements PreTokenizer {

    @Override
    public List<String> split(String text) {
        int[] cps = text.codePoints().toArray();
        int n = cps.length;
        int[] classes = new int[n + 1]; // classes[n] = 0 spares bounds checks
        for (int i = 0; i < n; i++) {
            classes[i] = CharClass.of(cps[i]);
        }
        List<String> pieces = new ArrayList<>();
        int charStart = 0;
        for (int i = 0; i < n; ) {
            int end = pieceEnd(cps, classes, n, i);
            int charEnd = charStart;
            for (int k = i; k < end; k++) {
                charEnd += Character.charCount(cps[k]);
            }
            pieces.add(text.substring(charStart, charEnd));
            charStart = charEnd;
            i = end;
        }
        return pieces;
    }

    /** End (exclusive, in code points) of the piece that starts at {@code i}. */
    private static int pieceEnd(int[] cps, int[] classes, int n, int i) {
        int c = cps[i];
        // 1. contractions
        if (c == '\'' && i + 1 < n) {
            int c1 = asciiLower(cps[i + 1]);
            if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') {
                return i + 2;
            }
            if (i + 2 < n) {
                int c2 = asciiLower(cps[i + 2]);
                if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) {
                    return i + 3;
                }
            }
        }
        // 2. optional non-letter/non-digit/non-newline, then letters
        int j = (classes[i] & (CharClass.LETTER | CharClass.NUMBER)) == 0 && c != '\r' && c != '\n' ? i + 1 : i;
        if ((classes[j] & CharClass.LETTER) != 0) {
            do {
                j++;
            } while ((classes[j] & CharClass.LETTER) != 0);
            return j;
        }
        // 3. one to three digits
        if ((classes[i] & CharClass.NUMBER) != 0) {
            j = i + 1;
            while (j < i + 3 && (classes[j] & CharClass.NUMBER) != 0) {
                j++;
            }
            return j;
        }
        // 4. optional space, symbols, trailing newlines
        j = c == ' ' ? i + 1 : i;
        if (j < n && classes[j] == 0) {
            do {
                j++;
            } while (j < n && classes[j] == 0);
            while (j < n && (cps[j] == '\r' || cps[j] == '\n')) {
                j++;
            }
            return j;
        }
        // what is left starts with whitespace
        int runEnd = i;
        int lastNewline = -1;
        while (runEnd < n && (classes[runEnd] & CharClass.SPACE) != 0) {
            if (cps[runEnd] == '\r' || cps[runEnd] == '\n') {
                lastNewline = runEnd;
            }
            runEnd++;
        }
        // 5. whitespace through the last newline
        if (lastNewline >= 0) {
            return lastNewline + 1;
        }
        // 6. whitespace not followed by non-whitespace; 7. whitespace
        if (runEnd < n && runEnd - i >= 2) {
            return runEnd - 1;
        }
        return runEnd;
    }

    private static int asciiLower(int c) {
        return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
    }

    /** Unicode classes the split needs: letter (\p{L}), number (\p{N}), whitespace (White_Space, as \s). */
    static final class CharClass {
        static final int LETTER = 1, NUMBER = 2, SPACE = 4;
        private static final byte[] BMP = new byte[0x10000];

        static {
            for (int c = 0; c < BMP.length; c++) {
                BMP[c] = (byte) compute(c);
            }
        }

        private CharClass() {}

        static int of(int cp) {
            return cp < BMP.length ? BMP[cp] : compute(cp);
        }

        private static int compute(int cp) {
            if (Character.isLetter(cp)) {
                return LETTER;
            }
            return switch (Character.getType(cp)) {
                case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> NUMBER;
                default -> isWhiteSpace(cp) ? SPACE : 0;
            };
        }

        /** The Unicode White_Space property (what \s means in the tokenizers' regular expressions). */
        private static boolean isWhiteSpace(int cp) {
            return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                    || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F
                    || cp == 0x205F || cp == 0x3000;
        }
    }
}
