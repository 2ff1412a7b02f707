package io.bitnet4j.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.bitnet4j.testing.SharedTestData;
import java.io.IOException;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/** Template choice: llama.cpp's substring heuristics on the GGUF template, then architecture and vocabulary. */
class TemplateDetectionTest {

    static final Predicate<String> NO_VOCAB = token -> false;

    static TemplateDetection detectText(String text) {
        return TemplateDetection.of(text, "llama", NO_VOCAB);
    }

    @Test
    void templateNamesSelectTheirTemplate() {
        for (BuiltinChatTemplate t : BuiltinChatTemplate.ALL) {
            TemplateDetection d = detectText(t.name());
            assertSame(t, d.template());
            assertEquals(TemplateDetection.Basis.NAME, d.basis());
        }
    }

    @Test
    void realLlama3TemplateIsLlama3() throws IOException {
        String jinja = new ObjectMapper()
                .readTree(SharedTestData.require("llama3-tokenizer/tokenizer_config.json").toFile())
                .get("chat_template").asText();
        TemplateDetection d = detectText(jinja);
        assertSame(BuiltinChatTemplate.LLAMA3, d.template());
        assertEquals(TemplateDetection.Basis.TEMPLATE_TEXT, d.basis());
    }

    @Test
    void templateTextsFromLlamaCppTests() {
        // template strings from llama.cpp tests/test-chat-template.cpp
        assertSame(BuiltinChatTemplate.CHATML, detectText(
                "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
                        + "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
                        + "{{ '<|im_start|>assistant\\n' }}{% endif %}").template());
        // llama.cpp's Falcon3 rule: <|assistant|> and <|user|> and </s> in the text
        assertSame(BuiltinChatTemplate.FALCON3, detectText(
                "{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + '\\n' }}"
                        + "{% endfor %}<|user|><|assistant|></s>").template());
        assertSame(BuiltinChatTemplate.BITNET, detectText("{# BITNET #}{{ messages }}").template());
    }

    @Test
    void otherFamiliesThatShareMarkersAreNotMistakenForOurs() {
        // each of these is another family for llama.cpp, so its text must not select one of ours
        String[] others = {
            // phi-4: <|im_start|> with <|im_sep|> (test-chat-template.cpp case "phi-4")
            "{{'<|im_start|>system<|im_sep|>' + message['content'] + '<|im_end|>'}}",
            // Phi-3: <|assistant|> with <|end|>
            "{{'<|user|>' + '\\n' + message['content'] + '<|end|>' + '\\n' + '<|assistant|>'}}",
            // GLM-Edge: <|user|> and <|assistant|> without </s>
            "<|user|>\\n{{ item['content'] }}<|assistant|>",
            // [INST] is checked before the Llama-3 headers
            "[INST] <|start_header_id|><|end_header_id|>",
            // Gemma is checked before the Llama-3 headers
            "<start_of_turn> <|start_header_id|><|end_header_id|>",
        };
        for (String text : others) {
            assertNotEquals(TemplateDetection.Basis.TEMPLATE_TEXT, detectText(text).basis(), text);
        }
    }

    @Test
    void withoutTemplateBitnetArchitectureIsBitnet() {
        // BitNet-2B-4T has the Llama-3 vocabulary, but its own chat format
        Predicate<String> llama3Vocab = Set.of("<|start_header_id|>", "<|eot_id|>")::contains;
        TemplateDetection d = TemplateDetection.of(null, "bitnet-b1.58", llama3Vocab);
        assertSame(BuiltinChatTemplate.BITNET, d.template());
        assertEquals(TemplateDetection.Basis.ARCHITECTURE, d.basis());
    }

    @Test
    void withoutTemplateTheVocabularyDecides() {
        assertSame(BuiltinChatTemplate.LLAMA3,
                ChatTemplate.detect(null, "llama", Set.of("<|start_header_id|>")::contains));
        assertSame(BuiltinChatTemplate.CHATML, ChatTemplate.detect(null, "llama", Set.of("<|im_start|>")::contains));
        assertSame(BuiltinChatTemplate.FALCON3, ChatTemplate.detect(null, "llama", Set.of("<|assistant|>")::contains));
        assertEquals(TemplateDetection.Basis.VOCABULARY,
                TemplateDetection.of(null, "llama", Set.of("<|assistant|>")::contains).basis());
    }

    @Test
    void nothingToGoOnIsTheFlaggedChatmlDefault() {
        TemplateDetection d = TemplateDetection.of(null, "bitnet", NO_VOCAB);
        assertSame(BuiltinChatTemplate.CHATML, d.template());
        assertTrue(d.isDefault());
        assertFalse(TemplateDetection.of("chatml", "bitnet", NO_VOCAB).isDefault());
    }

    @Test
    void unrecognisedTemplateTextFallsBackAndSaysSo() {
        TemplateDetection d = TemplateDetection.of("{{ custom }}", "llama", Set.of("<|start_header_id|>")::contains);
        assertSame(BuiltinChatTemplate.LLAMA3, d.template());
        assertEquals(TemplateDetection.Basis.VOCABULARY, d.basis());
    }
}
