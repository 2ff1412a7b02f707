package io.bitnet4j.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.PriorityQueue;

/**
 * SentencePiece-style BPE ({@code tokenizer.ggml.model = llama}), as llama.cpp runs it: spaces become '▁' (with one
 * added in front of the text), the text starts as one symbol per character, and adjacent symbols whose
 * concatenation is a token merge, best token score first (leftmost among equal scores). Symbols left without a
 * token are spelled as {@code <0xNN>} byte tokens.
 */
final class SentencePieceTokenizer extends VocabularyTokenizer {
    private static final char SPACE_MARK = '\u2581'; // ▁

    /** Token of each byte: {@code <0xNN>}, else the one-character token, else unknown. */
    private final int[] byteTokens = new int[256];

    SentencePieceTokenizer(Vocabulary vocab) {
        super(vocab, text -> text.replace(SPACE_MARK, ' ').getBytes(StandardCharsets.UTF_8));
        for (int b = 0; b < 256; b++) {
            int id = vocab.id(String.format("<0x%02X>", b));
            if (id < 0) {
                id = vocab.id(String.valueOf((char) b));
            }
            byteTokens[b] = id >= 0 ? id : vocab.unknown();
        }
    }

    @Override
    boolean stripsSpaceAfterBos() {
        return vocab.addSpacePrefix();
    }

    /** Two adjacent symbols whose concatenation is a token, with that token's score. */
    private record Bigram(int left, int right, float score, int length) {}

    @Override
    void encodePlain(String fragment, boolean startsSegment, IntList out) {
        String text = (vocab.addSpacePrefix() && startsSegment ? " " + fragment : fragment).replace(' ', SPACE_MARK);
        int n = text.codePointCount(0, text.length());
        // symbol i covers text[start[i], start[i] + length[i]); an absorbed symbol has length 0
        int[] start = new int[n];
        int[] length = new int[n];
        int[] next = new int[n];
        int[] prev = new int[n];
        for (int i = 0, offset = 0; i < n; i++) {
            start[i] = offset;
            length[i] = Character.charCount(text.codePointAt(offset));
            offset += length[i];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>((a, b) ->
                a.score != b.score ? Float.compare(b.score, a.score) : Integer.compare(a.left, b.left));
        for (int i = 0; i + 1 < n; i++) {
            offer(queue, text, start, length, i, i + 1);
        }
        while (!queue.isEmpty()) {
            Bigram bigram = queue.poll();
            int left = bigram.left;
            int right = bigram.right;
            if (length[left] == 0 || length[right] == 0 || length[left] + length[right] != bigram.length) {
                continue; // one side merged since this pair was queued
            }
            length[left] += length[right];
            length[right] = 0;
            next[left] = next[right];
            if (next[left] >= 0) {
                prev[next[left]] = left;
            }
            if (prev[left] >= 0) {
                offer(queue, text, start, length, prev[left], left);
            }
            if (next[left] >= 0) {
                offer(queue, text, start, length, left, next[left]);
            }
        }
        for (int i = 0; i >= 0 && n > 0; i = next[i]) {
            String symbol = text.substring(start[i], start[i] + length[i]);
            int id = vocab.id(symbol);
            if (id >= 0) {
                out.add(id);
            } else {
                for (byte b : symbol.getBytes(StandardCharsets.UTF_8)) {
                    out.add(byteTokens[b & 0xFF]);
                }
            }
        }
    }

    private void offer(PriorityQueue<Bigram> queue, String text, int[] start, int[] length, int left, int right) {
        int len = length[left] + length[right];
        int id = vocab.id(text.substring(start[left], start[left] + len));
        if (id >= 0) {
            queue.add(new Bigram(left, right, vocab.score(id), len));
        }
    }
}
