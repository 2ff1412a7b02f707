package io.bitnet4j.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A pre-tokenizer given by a regular expression whose matches are the pieces (Unicode \s, \p{L}, \p{N}). */
final class RegexPreTokenizer implements PreTokenizer {
    /** GPT-2's split, as llama.cpp writes it. */
    static final String GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    /** Llama 3's split, as llama.cpp writes it; {@link Llama3PreTokenizer} is the fast equivalent. */
    static final String LLAMA3 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
            + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private final Pattern pattern;

    RegexPreTokenizer(String regex) {
        this.pattern = Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS);
    }

    static RegexPreTokenizer gpt2() {
        return new RegexPreTokenizer(GPT2);
    }

    @Override
    public List<String> split(String text) {
        List<String> pieces = new ArrayList<>();
        Matcher m = pattern.matcher(text);
        int end = 0;
        while (m.find()) {
            if (m.start() > end) {
                pieces.add(text.substring(end, m.start())); // not matched by any alternative: keep it whole
            }
            pieces.add(m.group());
            end = m.end();
        }
        if (end < text.length()) {
            pieces.add(text.substring(end));
        }
        return pieces;
    }
}
