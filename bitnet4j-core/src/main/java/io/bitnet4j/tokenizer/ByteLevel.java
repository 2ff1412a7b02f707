package io.bitnet4j.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * GPT-2's byte-level alphabet: every byte gets a printable character, so that BPE over characters is BPE over
 * bytes. Printable Latin-1 bytes stand for themselves; the others (controls, space, 0x7F-0xA0, 0xAD) take the
 * characters from U+0100 on, in byte order — so space is 'Ġ' (U+0120) and newline 'Ċ' (U+010A).
 */
final class ByteLevel {
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[324];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) next++;
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteLevel() {}

    /** The UTF-8 bytes of {@code text}, one mapped character each. */
    static String encode(String text) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        char[] mapped = new char[utf8.length];
        for (int i = 0; i < utf8.length; i++) {
            mapped[i] = BYTE_TO_CHAR[utf8[i] & 0xFF];
        }
        return new String(mapped);
    }

    /** The character standing for byte {@code b}. */
    static char charOf(int b) {
        return BYTE_TO_CHAR[b & 0xFF];
    }

    /** The byte a character of the alphabet stands for (the character must come from {@link #encode}). */
    static int byteOf(char c) {
        return CHAR_TO_BYTE[c];
    }

    /** The bytes a mapped token text stands for; a character outside the alphabet is kept as its UTF-8. */
    static byte[] decode(String token) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(token.length());
        for (int i = 0; i < token.length(); ) {
            int cp = token.codePointAt(i);
            i += Character.charCount(cp);
            if (cp < CHAR_TO_BYTE.length && CHAR_TO_BYTE[cp] >= 0) {
                out.write(CHAR_TO_BYTE[cp]);
            } else {
                out.writeBytes(Character.toString(cp).getBytes(StandardCharsets.UTF_8));
            }
        }
        return out.toByteArray();
    }
}
