package io.bitnet4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bitnet4j.testing.OracleCase;
import io.bitnet4j.testing.SharedTestData;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The prompt ids the reference engines computed (shared/testdata/oracle/*&#47;cases.jsonl): bitnet.cpp with the
 * Llama 3 vocabulary (special tokens not parsed), llama.cpp with the LLaMA 2 SentencePiece vocabulary (parsed).
 */
class OraclePromptTokenizationTest {

    @Test
    void bitnetCppLlama3Prompts() {
        List<OracleCase> cases = OracleCase.load(SharedTestData.require("oracle/bitnetcpp-i2s-tiny"));
        assertFalse(cases.isEmpty());
        for (OracleCase c : cases) {
            Tokenizer t = SharedVocabularies.load("oracle/bitnetcpp-i2s-tiny/" + c.model());
            assertTrue(c.addBos());
            assertEquals(128000, t.bosId());
            assertArrayEquals(c.promptIds(), t.encode(c.prompt(), c.addBos(), false), c.prompt());
            assertEquals(c.prompt(), t.decode(c.promptIds()));
        }
    }

    @Test
    void llamaCppSentencePiecePrompts() {
        List<OracleCase> cases = OracleCase.load(SharedTestData.require("oracle/llamacpp-tq-tiny"));
        assertFalse(cases.isEmpty());
        for (OracleCase c : cases) {
            Tokenizer t = SharedVocabularies.load("oracle/llamacpp-tq-tiny/" + c.model());
            assertEquals(1, t.bosId());
            assertTrue(t.addBosByDefault());
            assertArrayEquals(c.promptIds(), t.encode(c.prompt(), c.addBos(), true), c.prompt());
            assertEquals(c.prompt(), t.decode(c.promptIds()), "decode drops the prefix space after BOS");
        }
    }
}
