package io.bitnet4j.tokenizer;

import io.bitnet4j.gguf.GgufFile;
import io.bitnet4j.testing.SharedTestData;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** Tokenizers of the oracle GGUF files (real vocabularies), loaded once per test run; skips when data is absent. */
final class SharedVocabularies {
    private static final Map<String, Tokenizer> LOADED = new HashMap<>();

    private SharedVocabularies() {}

    /** The Llama 3 vocabulary (128256 tokens, byte-level BPE, pre-tokenizer llama-bpe), as bitnet.cpp wrote it. */
    static Tokenizer llama3() {
        return load("oracle/bitnetcpp-i2s-tiny/tiny-i2_s.gguf");
    }

    /** The LLaMA 2 SentencePiece vocabulary (32000 tokens + 2 padding), as llama.cpp wrote it. */
    static Tokenizer llama2() {
        return load("oracle/llamacpp-tq-tiny/tiny-tq2_0.gguf");
    }

    static synchronized Tokenizer load(String relative) {
        Path path = SharedTestData.require(relative);
        return LOADED.computeIfAbsent(relative, r -> {
            try (GgufFile f = GgufFile.open(path)) {
                return Tokenizer.fromGguf(f.metadata());
            }
        });
    }
}
