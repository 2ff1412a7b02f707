package io.bitnet4j.chat;

import java.util.List;
import java.util.function.Predicate;

/**
 * Turns a conversation into the prompt text a chat model was trained on. The text carries no BOS token: BOS comes
 * from tokenization (the tokenizer's add-BOS rule), exactly as in llama.cpp, where templates are rendered without it.
 * Special markers such as {@code <|eot_id|>} appear as text; the tokenizer must parse them as special tokens.
 */
public interface ChatTemplate {

    /** The template's name, as {@link #named} accepts it (or a description, for templates that are not built in). */
    String name();

    /**
     * The prompt text for these messages. With {@code addGenerationPrompt} it ends with what opens the assistant's
     * reply, so generation continues as the assistant.
     */
    String render(List<ChatMessage> messages, boolean addGenerationPrompt);

    /**
     * Only the text that {@code after} adds to {@code before}: {@code render(after, addGenerationPrompt)} minus its
     * prefix {@code render(before, false)}. A chat session that keeps its KV cache evaluates just this part for a
     * new turn. {@code before} is rendered without a generation prompt because it is a finished conversation
     * (normally ending with the assistant's reply).
     *
     * <p>This is llama.cpp's {@code common_chat_format_single} (common/chat.cpp) minus one rule: when the old
     * rendering ends with a newline and a generation prompt is asked for, llama.cpp puts a {@code "\n"} before the
     * delta, because its KV cache holds the reply as generated (up to the end-of-turn token) and so lacks the newline
     * the template writes after it (ChatML, Falcon3). A session that caches only generated tokens must add it the same
     * way; the BitNet and Llama-3 templates write no newline after a turn.
     *
     * @throws IllegalArgumentException if {@code render(before, false)} is not a prefix of the full rendering, which
     *     happens when {@code after} does not extend {@code before} or the template rewrites earlier turns
     */
    default String renderDelta(List<ChatMessage> before, List<ChatMessage> after, boolean addGenerationPrompt) {
        String previous = render(before, false);
        String full = render(after, addGenerationPrompt);
        if (!full.startsWith(previous)) {
            throw new IllegalArgumentException("chat template '" + name() + "': the conversation so far ("
                    + before.size() + " messages) does not render as a prefix of the new one (" + after.size()
                    + " messages); does the new conversation extend the old one?");
        }
        return full.substring(previous.length());
    }

    /**
     * The built-in renderer for a model, chosen the way llama.cpp chooses: from the GGUF's
     * {@code tokenizer.chat_template} text by substring heuristics (or a template name in its place); when that is
     * null or not recognised, from the architecture and vocabulary. Never null; see {@link TemplateDetection} for
     * what the choice was based on (e.g. to warn when it is only the ChatML default).
     *
     * @param templateTextOrNull the GGUF's {@code tokenizer.chat_template}, or a built-in template name, or null
     * @param architecture the GGUF's {@code general.architecture}
     * @param vocabHas whether the vocabulary has a token with exactly this text
     */
    static ChatTemplate detect(String templateTextOrNull, String architecture, Predicate<String> vocabHas) {
        return TemplateDetection.of(templateTextOrNull, architecture, vocabHas).template();
    }

    /**
     * A built-in template by name: {@code bitnet}, {@code llama3}, {@code falcon3}, {@code chatml}.
     *
     * @throws IllegalArgumentException for any other name, listing the known ones
     */
    static ChatTemplate named(String name) {
        return BuiltinChatTemplate.named(name);
    }
}
