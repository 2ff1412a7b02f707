package io.bitnet4j.tokenizer;

import io.bitnet4j.gguf.GgufException;
import io.bitnet4j.gguf.GgufMetadata;
import java.util.OptionalInt;

/**
 * Text ↔ token ids for a model, built from the vocabulary a GGUF file carries in its {@code tokenizer.ggml.*}
 * metadata. Two kinds, as llama.cpp names them by {@code tokenizer.ggml.model}:
 * <ul>
 *   <li>{@code gpt2}: byte-level BPE (Llama 3, Falcon 3, BitNet b1.58 2B4T), text split first by the pre-tokenizer
 *       named in {@code tokenizer.ggml.pre};</li>
 *   <li>{@code llama}: SentencePiece-style BPE over scores, with {@code <0xNN>} byte fallback (LLaMA 2 vocabulary,
 *       the 1bitLLM models).</li>
 * </ul>
 * Encoding reproduces llama.cpp's token ids exactly; instances are immutable and safe to share between threads.
 */
public interface Tokenizer {

    /** The tokenizer a GGUF file describes; a {@link GgufException} names what is missing or inconsistent. */
    static Tokenizer fromGguf(GgufMetadata metadata) {
        Vocabulary vocab = Vocabulary.read(metadata);
        return switch (vocab.kind()) {
            case BYTE_LEVEL_BPE -> new BytePairTokenizer(vocab);
            case SENTENCE_PIECE -> new SentencePieceTokenizer(vocab);
        };
    }

    int vocabSize();

    /**
     * Token ids for {@code text}. With {@code addBos} the BOS token comes first. With {@code parseSpecial}, the texts
     * of control tokens (e.g. {@code <|eot_id|>}) in {@code text} become those tokens; without it they are
     * tokenized as plain text. User-defined tokens are always recognised, as in llama.cpp.
     *
     * @throws IllegalArgumentException if {@code addBos} is set but the vocabulary has no BOS token
     */
    int[] encode(String text, boolean addBos, boolean parseSpecial);

    /** Whether prompts start with BOS for this model: {@code tokenizer.ggml.add_bos_token}, else llama.cpp's default. */
    boolean addBosByDefault();

    /** {@code tokenizer.ggml.add_eos_token}, else false (llama.cpp's default for both kinds). */
    boolean addEosByDefault();

    /** BOS token id, or -1 if the vocabulary has none. */
    int bosId();

    /** EOS token id, or -1 if the vocabulary has none. */
    int eosId();

    /**
     * Whether generation stops at this token: EOS, EOT ({@code tokenizer.ggml.eot_token_id}, or found by its text),
     * EOM, and the tokens llama.cpp recognises by text ({@code <|eot_id|>}, {@code <|end_of_text|>},
     * {@code <|im_end|>}, {@code <|end|>}, {@code <end_of_turn>}, {@code <|endoftext|>}, {@code <|eom_id|>},
     * {@code <EOT>}).
     */
    boolean isEndOfGeneration(int id);

    /** The id of the token whose vocabulary text is exactly {@code tokenText}, e.g. {@code "<|eot_id|>"}. */
    OptionalInt tokenId(String tokenText);

    /** The raw vocabulary string of a token (byte-level BPE tokens in their mapped form, SPM with ▁). */
    String tokenText(int id);

    /**
     * The bytes a token decodes to: byte-level BPE un-mapped, SPM {@code ▁} → space and {@code <0xNN>} → that byte,
     * control, unknown and user-defined tokens → their text, unused tokens → nothing. A byte token alone may be
     * part of a UTF-8 sequence.
     */
    byte[] tokenBytes(int id);

    /**
     * The text of a token sequence. A leading BOS is not part of the text and is left out; for SentencePiece
     * vocabularies the space the tokenizer put in front of the first word after it is removed, as llama.cpp does.
     * Bytes that do not form valid UTF-8 become U+FFFD.
     */
    String decode(int[] ids);

    /** A decoder that turns ids into text one at a time; see {@link StreamingDecoder}. */
    StreamingDecoder newStreamingDecoder();
}
