package io.bitnet4j.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Turns token ids into text as they are generated. A character may be spread over several tokens (byte tokens,
 * or byte-level BPE pieces that end inside a UTF-8 sequence); {@link #feed} holds such incomplete bytes back until
 * the character is complete, so it never emits a broken sequence. The concatenation of everything {@link #feed}
 * and {@link #flush} return equals {@link Tokenizer#decode} of the same ids, including its handling of a leading
 * BOS. Not thread-safe: one decoder per sequence.
 */
public final class StreamingDecoder {
    private final VocabularyTokenizer tokenizer;
    private byte[] pending = new byte[16];
    private int pendingLength;
    private int fed;
    private boolean leadingBos;

    StreamingDecoder(VocabularyTokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** The text that token {@code id} completes: possibly empty, possibly including held-back bytes. */
    public String feed(int id) {
        byte[] piece = tokenizer.piece(id);
        int position = fed++;
        if (position == 0 && id == tokenizer.bosId()) {
            leadingBos = true;
            return "";
        }
        int skip = position == 1 && leadingBos && tokenizer.stripsSpaceAfterBos()
                && piece.length > 0 && piece[0] == ' ' ? 1 : 0;
        append(piece, skip);
        int complete = completePrefix(pending, pendingLength);
        String text = new String(pending, 0, complete, StandardCharsets.UTF_8);
        System.arraycopy(pending, complete, pending, 0, pendingLength - complete);
        pendingLength -= complete;
        return text;
    }

    /** Whatever is still held back, as text (an incomplete sequence at the very end becomes U+FFFD). */
    public String flush() {
        String text = new String(pending, 0, pendingLength, StandardCharsets.UTF_8);
        pendingLength = 0;
        return text;
    }

    private void append(byte[] piece, int from) {
        int n = piece.length - from;
        if (pendingLength + n > pending.length) {
            pending = Arrays.copyOf(pending, Math.max(pending.length * 2, pendingLength + n));
        }
        System.arraycopy(piece, from, pending, pendingLength, n);
        pendingLength += n;
    }

    /**
     * Length of the prefix of {@code b[0, length)} that ends before an unfinished UTF-8 sequence: a lead byte
     * among the last three bytes followed by fewer continuation bytes than it announces. Cutting there decodes
     * exactly as the whole would, since a lead byte always starts a new sequence for the decoder.
     */
    static int completePrefix(byte[] b, int length) {
        for (int i = length - 1; i >= Math.max(0, length - 4); i--) {
            int c = b[i] & 0xFF;
            if (c < 0x80) {
                return length;
            }
            if (c >= 0xC0) {
                int sequenceLength = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
                return length - i < sequenceLength ? i : length;
            }
        }
        return length;
    }
}
