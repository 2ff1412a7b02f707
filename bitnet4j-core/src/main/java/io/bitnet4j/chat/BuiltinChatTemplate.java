package io.bitnet4j.chat;

import java.util.List;
import java.util.function.BiConsumer;

/**
 * The chat formats bitnet4j renders without a template engine, each written to produce exactly the text of the
 * reference engine's hand-coded renderer: llama.cpp's {@code llm_chat_apply_template} (src/llama-chat.cpp) and, for
 * BitNet, the {@code llama_chat_apply_template_internal} of bitnet.cpp's llama.cpp fork (Eddie-Wang1120/llama.cpp,
 * src/llama.cpp). Messages are rendered in order; roles are written as given.
 */
public final class BuiltinChatTemplate implements ChatTemplate {

    /**
     * BitNet-b1.58-2B-4T as bitnet.cpp renders it: {@code System: {content}} (nothing after it), then per user turn
     * {@code User: {content}<|eot_id|>Assistant: }, then the assistant's content as is. The user turn already opens
     * the assistant's reply and the fork ignores the generation-prompt flag, so this renderer does too.
     */
    public static final BuiltinChatTemplate BITNET = new BuiltinChatTemplate("bitnet", "", (out, m) -> {
        switch (m.role()) {
            case ChatMessage.SYSTEM -> out.append("System: ").append(m.content());
            case ChatMessage.USER -> out.append("User: ").append(m.content()).append("<|eot_id|>Assistant: ");
            default -> out.append(m.content());
        }
    });

    /** Llama-3: {@code <|start_header_id|>{role}<|end_header_id|>\n\n{content, trimmed}<|eot_id|>}. */
    public static final BuiltinChatTemplate LLAMA3 = new BuiltinChatTemplate(
            "llama3", "<|start_header_id|>assistant<|end_header_id|>\n\n",
            (out, m) -> out.append("<|start_header_id|>").append(m.role()).append("<|end_header_id|>\n\n")
                    .append(trimAsciiSpace(m.content())).append("<|eot_id|>"));

    /** Falcon3: {@code <|{role}|>\n{content}\n}. */
    public static final BuiltinChatTemplate FALCON3 = new BuiltinChatTemplate(
            "falcon3", "<|assistant|>\n",
            (out, m) -> out.append("<|").append(m.role()).append("|>\n").append(m.content()).append('\n'));

    /** ChatML: {@code <|im_start|>{role}\n{content}<|im_end|>\n}. */
    public static final BuiltinChatTemplate CHATML = new BuiltinChatTemplate(
            "chatml", "<|im_start|>assistant\n",
            (out, m) -> out.append("<|im_start|>").append(m.role()).append('\n').append(m.content())
                    .append("<|im_end|>\n"));

    /** All built-in templates, in the order their names are listed to users. */
    public static final List<BuiltinChatTemplate> ALL = List.of(BITNET, LLAMA3, FALCON3, CHATML);

    private final String name;
    private final String generationPrompt;
    private final BiConsumer<StringBuilder, ChatMessage> messageWriter;

    private BuiltinChatTemplate(String name, String generationPrompt,
                                BiConsumer<StringBuilder, ChatMessage> messageWriter) {
        this.name = name;
        this.generationPrompt = generationPrompt;
        this.messageWriter = messageWriter;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        StringBuilder out = new StringBuilder();
        for (ChatMessage m : messages) {
            messageWriter.accept(out, m);
        }
        if (addGenerationPrompt) {
            out.append(generationPrompt);
        }
        return out.toString();
    }

    /** The built-in template with this name, or null. */
    static BuiltinChatTemplate byName(String name) {
        for (BuiltinChatTemplate t : ALL) {
            if (t.name.equals(name)) {
                return t;
            }
        }
        return null;
    }

    static BuiltinChatTemplate named(String name) {
        BuiltinChatTemplate t = byName(name);
        if (t == null) {
            throw new IllegalArgumentException("unknown chat template '" + name + "' (built-in templates: "
                    + String.join(", ", ALL.stream().map(BuiltinChatTemplate::name).toList()) + ")");
        }
        return t;
    }

    /**
     * Strips leading and trailing ASCII whitespace (space, \t, \n, \v, \f, \r): C's {@code isspace} in the "C"
     * locale, which is what llama.cpp's {@code trim} uses. {@link String#strip} would also strip Unicode spaces.
     */
    static String trimAsciiSpace(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && isAsciiSpace(s.charAt(start))) {
            start++;
        }
        while (end > start && isAsciiSpace(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(start, end);
    }

    private static boolean isAsciiSpace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == 0x0B || c == '\f' || c == '\r';
    }

    @Override
    public String toString() {
        return name;
    }
}
