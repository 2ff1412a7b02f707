package io.bitnet4j.tokenizer;

import io.bitnet4j.gguf.GgufException;
import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * Byte-level BPE ({@code tokenizer.ggml.model = gpt2}), as llama.cpp runs it: the pre-tokenizer splits the text
 * into words; each word's UTF-8 bytes, in GPT-2's byte alphabet, are merged pair by pair, always the adjacent pair
 * with the best (lowest) merge rank first and the leftmost of equal pairs. Llama-3-family vocabularies first look the
 * whole word up ("ignore merges").
 */
final class BytePairTokenizer extends VocabularyTokenizer {
    private final PreTokenizer preTokenizer;
    private final boolean wholeWordLookup;
    /** Token id of each byte's one-character token, or -1. */
    private final int[] byteTokens = new int[256];
    private final PairRanks ranks;
    /** Token id that merge {@code rank} produces. */
    private final int[] mergedToken;
    private static final int MALFORMED = -2;

    BytePairTokenizer(Vocabulary vocab) {
        super(vocab, ByteLevel::decode);
        this.preTokenizer = PreTokenizer.forName(vocab.preTokenizer());
        this.wholeWordLookup = vocab.isLlama3Family();
        for (int b = 0; b < 256; b++) {
            byteTokens[b] = vocab.id(String.valueOf(ByteLevel.charOf(b)));
        }
        String[] merges = vocab.merges();
        // the vocabulary lookups dominate loading (three per merge, ~280k merges for Llama 3): done in parallel
        int[] leftIds = new int[merges.length];
        int[] rightIds = new int[merges.length];
        mergedToken = new int[merges.length];
        IntStream.range(0, merges.length).parallel().forEach(rank -> {
            String merge = merges[rank];
            int space = merge.indexOf(' ', 1);
            if (space < 0) {
                leftIds[rank] = MALFORMED;
                return;
            }
            String left = merge.substring(0, space);
            String right = merge.substring(space + 1);
            leftIds[rank] = vocab.id(left);
            rightIds[rank] = vocab.id(right);
            mergedToken[rank] = vocab.id(left + right);
        });
        ranks = new PairRanks(merges.length);
        for (int rank = 0; rank < merges.length; rank++) {
            if (leftIds[rank] == MALFORMED) {
                throw new GgufException("vocabulary is inconsistent: merge " + rank + " '" + merges[rank]
                        + "' is not two tokens separated by a space");
            }
            if (leftIds[rank] >= 0 && rightIds[rank] >= 0 && mergedToken[rank] >= 0) {
                // a merge whose parts or result are not tokens has no use in a consistent vocabulary: skipped
                ranks.putIfAbsent(leftIds[rank], rightIds[rank], rank);
            }
        }
    }

    @Override
    boolean stripsSpaceAfterBos() {
        return false;
    }

    @Override
    void encodePlain(String fragment, boolean startsSegment, IntList out) {
        Merger merger = new Merger();
        for (String word : preTokenizer.split(fragment)) {
            String mapped = ByteLevel.encode(word);
            int whole = wholeWordLookup ? vocab.id(mapped) : -1;
            if (whole >= 0) {
                out.add(whole);
            } else {
                merger.encode(mapped, out);
            }
        }
    }

    /** BPE over one word: symbols in a linked list, candidate merges in a heap keyed by (rank, position). */
    private final class Merger {
        private int[] token = new int[64];
        private int[] next = new int[64];
        private int[] prev = new int[64];
        private long[] heap = new long[64];
        private int heapSize;

        void encode(String mappedWord, IntList out) {
            int n = mappedWord.length();
            if (token.length < n) {
                token = new int[n];
                next = new int[n];
                prev = new int[n];
            }
            for (int i = 0; i < n; i++) {
                token[i] = byteTokens[ByteLevel.byteOf(mappedWord.charAt(i))];
                prev[i] = i - 1;
                next[i] = i + 1 < n ? i + 1 : -1;
            }
            heapSize = 0;
            for (int i = 0; i + 1 < n; i++) {
                offer(i);
            }
            while (heapSize > 0) {
                long top = poll();
                int rank = (int) (top >>> 32);
                int left = (int) top;
                int right = next[left];
                // stale entries: the left symbol was absorbed, or its pair changed since
                if (right < 0 || ranks.get(token[left], token[right]) != rank) {
                    continue;
                }
                token[left] = mergedToken[rank];
                token[right] = -1;
                next[left] = next[right];
                if (next[left] >= 0) {
                    prev[next[left]] = left;
                }
                if (prev[left] >= 0) {
                    offer(prev[left]);
                }
                offer(left);
            }
            for (int i = 0; i >= 0; i = next[i]) {
                if (token[i] >= 0) { // a byte without a token of its own is dropped, as llama.cpp does
                    out.add(token[i]);
                }
            }
        }

        /** Queues the pair starting at symbol {@code left}, if it has a merge. */
        private void offer(int left) {
            int right = next[left];
            if (right < 0) {
                return;
            }
            int rank = ranks.get(token[left], token[right]);
            if (rank < 0) {
                return;
            }
            if (heapSize == heap.length) {
                heap = Arrays.copyOf(heap, heapSize * 2);
            }
            long key = ((long) rank << 32) | left;
            int i = heapSize++;
            while (i > 0 && heap[(i - 1) / 2] > key) {
                heap[i] = heap[(i - 1) / 2];
                i = (i - 1) / 2;
            }
            heap[i] = key;
        }

        private long poll() {
            long top = heap[0];
            long last = heap[--heapSize];
            int i = 0;
            while (true) {
                int child = 2 * i + 1;
                if (child >= heapSize) {
                    break;
                }
                if (child + 1 < heapSize && heap[child + 1] < heap[child]) {
                    child++;
                }
                if (heap[child] >= last) {
                    break;
                }
                heap[i] = heap[child];
                i = child;
            }
            heap[i] = last;
            return top;
        }
    }

    /** Merge rank of each (left token, right token) pair: open addressing over packed long keys. */
    private static final class PairRanks {
        private final long[] keys;
        private final int[] values;
        private final int mask;

        PairRanks(int expected) {
            int capacity = Integer.highestOneBit(Math.max(4, expected) * 2) * 2;
            keys = new long[capacity];
            Arrays.fill(keys, -1L);
            values = new int[capacity];
            mask = capacity - 1;
        }

        void putIfAbsent(int left, int right, int rank) {
            long key = ((long) left << 32) | right;
            int i = slot(key);
            while (keys[i] != -1L) {
                if (keys[i] == key) {
                    return; // the first (best) rank of a repeated merge wins
                }
                i = (i + 1) & mask;
            }
            keys[i] = key;
            values[i] = rank;
        }

        /** The rank, or -1 if the pair does not merge. */
        int get(int left, int right) {
            if (left < 0 || right < 0) {
                return -1;
            }
            long key = ((long) left << 32) | right;
            for (int i = slot(key); keys[i] != -1L; i = (i + 1) & mask) {
                if (keys[i] == key) {
                    return values[i];
                }
            }
            return -1;
        }

        private int slot(long key) {
            long h = key * 0x9E3779B97F4A7C15L;
            return (int) (h >>> 40) & mask;
        }
    }
}
