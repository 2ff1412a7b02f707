package io.bitnet4j.chat;

import java.util.Objects;
import java.util.function.Predicate;

/**
 * Which built-in chat template a model gets, and on what grounds. The grounds matter to callers: a GGUF template
 * text that was present but not {@link Basis#TEMPLATE_TEXT recognised} may deserve a real template engine, and the
 * {@link Basis#DEFAULT ChatML default} deserves a warning.
 */
public record TemplateDetection(BuiltinChatTemplate template, Basis basis) {

    public enum Basis {
        /** the template text was a built-in template's name */
        NAME,
        /** the template text matched llama.cpp's substring heuristics for a built-in format */
        TEMPLATE_TEXT,
        /** no (recognised) template text; the architecture has a known format */
        ARCHITECTURE,
        /** no (recognised) template text; the vocabulary has a format's marker tokens */
        VOCABULARY,
        /** nothing to go on: ChatML, as llama.cpp falls back to */
        DEFAULT
    }

    public TemplateDetection {
        Objects.requireNonNull(template, "template");
        Objects.requireNonNull(basis, "basis");
    }

    /** Whether the choice is only the ChatML fallback, which is likely wrong for the model. */
    public boolean isDefault() {
        return basis == Basis.DEFAULT;
    }

    /** See {@link ChatTemplate#detect}. */
    public static TemplateDetection of(String templateTextOrNull, String architecture, Predicate<String> vocabHas) {
        Objects.requireNonNull(vocabHas, "vocabHas");
        if (templateTextOrNull != null) {
            BuiltinChatTemplate byName = BuiltinChatTemplate.byName(templateTextOrNull);
            if (byName != null) {
                return new TemplateDetection(byName, Basis.NAME);
            }
            BuiltinChatTemplate byText = recognise(templateTextOrNull);
            if (byText != null) {
                return new TemplateDetection(byText, Basis.TEMPLATE_TEXT);
            }
        }
        // BitNet-b1.58-2B-4T ("bitnet-25" in bitnet.cpp's fork) has the Llama-3 vocabulary but its own format
        if ("bitnet-b1.58".equals(architecture) || "bitnet-25".equals(architecture)) {
            return new TemplateDetection(BuiltinChatTemplate.BITNET, Basis.ARCHITECTURE);
        }
        if (vocabHas.test("<|start_header_id|>")) {
            return new TemplateDetection(BuiltinChatTemplate.LLAMA3, Basis.VOCABULARY);
        }
        if (vocabHas.test("<|im_start|>")) {
            return new TemplateDetection(BuiltinChatTemplate.CHATML, Basis.VOCABULARY);
        }
        if (vocabHas.test("<|assistant|>")) {
            return new TemplateDetection(BuiltinChatTemplate.FALCON3, Basis.VOCABULARY);
        }
        return new TemplateDetection(BuiltinChatTemplate.CHATML, Basis.DEFAULT);
    }

    /**
     * llama.cpp's {@code llm_chat_detect_template} substring heuristics, in its order, narrowed to the formats built in
     * here: a template that llama.cpp would assign to another family (Phi-3, Mistral, Gemma, ...) is not recognised,
     * rather than mistaken for one of ours. The BitNet rule ({@code BITNET} in the text) comes from bitnet.cpp's fork,
     * where it is checked last.
     *
     * @return the built-in format, or null
     */
    static BuiltinChatTemplate recognise(String t) {
        if (t.contains("<|im_start|>")) {
            // Phi-4 and SmolVLM use <|im_start|> too, with other separators
            return t.contains("<|im_sep|>") || t.contains("<end_of_utterance>") ? null : BuiltinChatTemplate.CHATML;
        }
        if (t.startsWith("mistral") || t.contains("[INST]")) {
            return null; // Llama-2 / Mistral family
        }
        if (t.contains("<|assistant|>") && t.contains("<|end|>")) {
            return null; // Phi-3
        }
        if (t.contains("[gMASK]<sop>")) {
            return null; // ChatGLM-4
        }
        if (t.contains("<|assistant|>") && t.contains("<|user|>")) {
            // without </s> it is GLM-Edge; with <|tool_declare|> EXAONE-MoE
            return t.contains("</s>") && !t.contains("<|tool_declare|>") ? BuiltinChatTemplate.FALCON3 : null;
        }
        if (isEarlierLlamaCppFamily(t)) {
            return null;
        }
        if (t.contains("<|start_header_id|>") && t.contains("<|end_header_id|>")) {
            return BuiltinChatTemplate.LLAMA3;
        }
        if (t.contains("BITNET")) {
            return BuiltinChatTemplate.BITNET;
        }
        return null;
    }

    /** Families llama.cpp checks between Falcon3 and Llama-3 (GLM-Edge, Zephyr, Monarch, Gemma, ..., Command-R). */
    private static boolean isEarlierLlamaCppFamily(String t) {
        return (t.contains("<|{{ item['role'] }}|>") && t.contains("<|begin_of_image|>"))
                || (t.contains("<|user|>") && t.contains("<|endoftext|>"))
                || t.contains("bos_token + message['role']")
                || t.contains("<start_of_turn>")
                || t.contains("'\\n\\nAssistant: ' + eos_token")
                || t.contains("GPT4 Correct ")
                || (t.contains("USER: ") && t.contains("ASSISTANT: "))
                || (t.contains("### Instruction:") && t.contains("<|EOT|>"))
                || (t.contains("<|START_OF_TURN_TOKEN|>") && t.contains("<|USER_TOKEN|>"));
    }
}
