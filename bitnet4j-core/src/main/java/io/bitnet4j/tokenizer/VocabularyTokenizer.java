package io.bitnet4j.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.OptionalInt;
import java.util.function.Function;
import java.util.stream.IntStream;

/**
 * What both tokenizer kinds share: special-token recognition in the prompt (llama.cpp's partitioning), token
 * pieces, decoding. Subclasses encode plain text fragments.
 */
abstract sealed class VocabularyTokenizer implements Tokenizer permits BytePairTokenizer, SentencePieceTokenizer {
    final Vocabulary vocab;
    private final byte[][] pieces;
    /** Control, unknown and user-defined tokens, longest text first: the longer wins where texts overlap. */
    private final int[] specialTokens;

    /** {@code normalPiece} gives the bytes of a NORMAL token from its text. */
    VocabularyTokenizer(Vocabulary vocab, Function<String, byte[]> normalPiece) {
        this.vocab = vocab;
        int n = vocab.size();
        pieces = new byte[n][];
        for (int id = 0; id < n; id++) {
            String text = vocab.text(id);
            pieces[id] = switch (vocab.type(id)) {
                case Vocabulary.CONTROL, Vocabulary.UNKNOWN, Vocabulary.USER_DEFINED ->
                        text.getBytes(StandardCharsets.UTF_8);
                case Vocabulary.NORMAL -> normalPiece.apply(text);
                case Vocabulary.BYTE -> {
                    int b = byteTokenValue(text);
                    yield b >= 0 ? new byte[] {(byte) b} : text.getBytes(StandardCharsets.UTF_8);
                }
                default -> new byte[0]; // unused or undefined: llama.cpp renders nothing
            };
        }
        specialTokens = IntStream.range(0, n)
                .filter(id -> switch (vocab.type(id)) {
                    case Vocabulary.CONTROL, Vocabulary.UNKNOWN, Vocabulary.USER_DEFINED -> true;
                    default -> false;
                })
                .boxed()
                .sorted(Comparator.comparingInt((Integer id) -> -vocab.text(id).length()).thenComparing(id -> id))
                .mapToInt(Integer::intValue)
                .toArray();
    }

    /** The byte a {@code <0xNN>} token stands for, or -1 for another text. */
    private static int byteTokenValue(String text) {
        if (text.length() == 6 && text.startsWith("<0x") && text.endsWith(">")) {
            try {
                return Integer.parseInt(text, 3, 5, 16);
            } catch (NumberFormatException e) {
                return -1;
            }
        }
        return -1;
    }

    /**
     * Appends the tokens of a fragment of plain text. {@code startsSegment}: the fragment begins the text or follows a
     * special token (SentencePiece then prefixes a space).
     */
    abstract void encodePlain(String fragment, boolean startsSegment, IntList out);

    /** Whether decoding drops the leading space of the token after a leading BOS (SentencePiece's prefix space). */
    abstract boolean stripsSpaceAfterBos();

    @Override
    public int[] encode(String text, boolean addBos, boolean parseSpecial) {
        IntList out = new IntList();
        if (addBos) {
            if (vocab.bos() < 0) {
                throw new IllegalArgumentException("cannot add BOS: the vocabulary has no BOS token");
            }
            out.add(vocab.bos());
        }
        boolean startsSegment = true;
        for (Fragment f : partition(text, parseSpecial)) {
            if (f.token >= 0) {
                out.add(f.token);
                startsSegment = true;
            } else {
                encodePlain(text.substring(f.start, f.end), startsSegment, out);
                startsSegment = false;
            }
        }
        return out.toArray();
    }

    /** A stretch of the prompt: either plain text [start, end) or one special token. */
    private record Fragment(int token, int start, int end) {
        static Fragment plain(int start, int end) {
            return new Fragment(-1, start, end);
        }
    }

    /**
     * Splits the text at occurrences of special-token texts, as llama.cpp does: token by token, longest first, each
     * splitting the plain fragments the previous ones left. Without {@code parseSpecial} only user-defined tokens
     * are recognised.
     */
    private List<Fragment> partition(String text, boolean parseSpecial) {
        List<Fragment> fragments = new ArrayList<>();
        if (!text.isEmpty()) {
            fragments.add(Fragment.plain(0, text.length()));
        }
        for (int id : specialTokens) {
            if (!parseSpecial && vocab.type(id) != Vocabulary.USER_DEFINED) {
                continue;
            }
            String special = vocab.text(id);
            List<Fragment> split = null; // created on the first match
            for (int i = 0; i < fragments.size(); i++) {
                Fragment f = fragments.get(i);
                int match = f.token < 0 ? text.indexOf(special, f.start) : -1;
                if (match < 0 || match + special.length() > f.end) {
                    if (split != null) {
                        split.add(f);
                    }
                    continue;
                }
                if (split == null) {
                    split = new ArrayList<>(fragments.subList(0, i));
                }
                int from = f.start;
                while (match >= 0 && match + special.length() <= f.end) {
                    if (match > from) {
                        split.add(Fragment.plain(from, match));
                    }
                    split.add(new Fragment(id, match, match + special.length()));
                    from = match + special.length();
                    match = text.indexOf(special, from);
                }
                if (from < f.end) {
                    split.add(Fragment.plain(from, f.end));
                }
            }
            if (split != null) {
                fragments = split;
            }
        }
        return fragments;
    }

    @Override
    public int vocabSize() {
        return vocab.size();
    }

    @Override
    public boolean addBosByDefault() {
        return vocab.addBos();
    }

    @Override
    public boolean addEosByDefault() {
        return vocab.addEos();
    }

    @Override
    public int bosId() {
        return vocab.bos();
    }

    @Override
    public int eosId() {
        return vocab.eos();
    }

    @Override
    public boolean isEndOfGeneration(int id) {
        return vocab.isEndOfGeneration(id);
    }

    @Override
    public OptionalInt tokenId(String tokenText) {
        int id = vocab.id(tokenText);
        return id < 0 ? OptionalInt.empty() : OptionalInt.of(id);
    }

    @Override
    public String tokenText(int id) {
        return vocab.text(id);
    }

    @Override
    public byte[] tokenBytes(int id) {
        return pieces[vocab.check(id)].clone();
    }

    /** The piece without copying, for decoders in this package. */
    byte[] piece(int id) {
        return pieces[vocab.check(id)];
    }

    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int start = ids.length > 0 && vocab.bos() >= 0 && ids[0] == vocab.bos() ? 1 : 0;
        for (int i = start; i < ids.length; i++) {
            byte[] p = piece(ids[i]);
            int skip = i == 1 && start == 1 && stripsSpaceAfterBos() && p.length > 0 && p[0] == ' ' ? 1 : 0;
            bytes.write(p, skip, p.length - skip);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Override
    public StreamingDecoder newStreamingDecoder() {
        return new StreamingDecoder(this);
    }
}
