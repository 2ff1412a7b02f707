package io.bitnet4j.tokenizer;

import java.util.List;

/** Splits text into the pieces that byte-level BPE encodes separately ("words"). */
interface PreTokenizer {
    /** The pieces, in order; their concatenation is {@code text}. */
    List<String> split(String text);

    /**
     * The splitter for a {@code tokenizer.ggml.pre} name. llama.cpp gives Llama 3 and Falcon 3 (and their
     * relatives) the same split; other names get GPT-2's, which is what most remaining byte-level vocabularies use.
     */
    static PreTokenizer forName(String name) {
        return Vocabulary.isLlama3FamilyName(name) ? new Llama3PreTokenizer() : RegexPreTokenizer.gpt2();
    }
}
