package io.bitnet4j.cli;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import io.bitnet4j.chat.ChatMessage;
import io.bitnet4j.chat.ChatTemplate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A model's own Jinja chat template (the GGUF's {@code tokenizer.chat_template}, as written for Hugging Face
 * transformers), rendered with Jinjava. For templates that {@link ChatTemplate#detect} does not recognise; the
 * built-in renderers stay the default because they match the reference engines exactly.
 *
 * <p>The template sees what transformers passes: {@code messages} (maps with {@code role} and {@code content}),
 * {@code add_generation_prompt}, {@code bos_token}, {@code eos_token} and a {@code raise_exception(message)}
 * function. Blocks are trimmed as in transformers ({@code trim_blocks}, {@code lstrip_blocks}). Jinjava is not
 * Python's Jinja2: templates that call Python string methods or rarer filters may render differently or fail.
 *
 * <p>BOS: most templates print {@code bos_token} themselves, while bitnet4j's tokenizer adds BOS too. Pass an empty
 * {@code bosToken} when the tokenizer adds it (llama.cpp does the same), else the prompt starts with two.
 */
public final class JinjaChatTemplate implements ChatTemplate {

    private static final JinjavaConfig CONFIG = JinjavaConfig.newBuilder()
            .withTrimBlocks(true)
            .withLstripBlocks(true)
            // Jinjava can re-render what an expression prints as a template; message text must stay text
            .withNestedInterpretationEnabled(false)
            .build();

    private final String source;
    private final String bosToken;
    private final String eosToken;
    private final Jinjava jinjava;

    public JinjaChatTemplate(String source, String bosToken, String eosToken) {
        this.source = Objects.requireNonNull(source, "source");
        this.bosToken = Objects.requireNonNull(bosToken, "bosToken");
        this.eosToken = Objects.requireNonNull(eosToken, "eosToken");
        this.jinjava = new Jinjava(CONFIG);
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition(
                "", "raise_exception", JinjaChatTemplate.class, "raiseException", String.class));
    }

    @Override
    public String name() {
        return "jinja";
    }

    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        List<Map<String, Object>> messageMaps = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            messageMaps.add(Map.of("role", m.role(), "content", m.content()));
        }
        Map<String, Object> bindings = new HashMap<>();
        bindings.put("messages", messageMaps);
        bindings.put("add_generation_prompt", addGenerationPrompt);
        bindings.put("bos_token", bosToken);
        bindings.put("eos_token", eosToken);
        RenderResult result = jinjava.renderForResult(source, bindings);
        for (TemplateError error : result.getErrors()) {
            if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
                throw new IllegalArgumentException("the model's chat template failed: " + describe(error));
            }
        }
        return result.getOutput();
    }

    /** The template's own message for {@code raise_exception}, else Jinjava's with the line. */
    private static String describe(TemplateError error) {
        for (Throwable t = error.getException(); t != null; t = t.getCause()) {
            if (t instanceof ConversationRejected rejected) {
                return rejected.getMessage();
            }
        }
        return error.getMessage() + (error.getLineno() > 0 ? " (template line " + error.getLineno() + ")" : "");
    }

    /** {@code raise_exception(message)} as transformers defines it: the template rejects the conversation. */
    public static String raiseException(String message) {
        throw new ConversationRejected(message);
    }

    private static final class ConversationRejected extends RuntimeException {
        ConversationRejected(String message) {
            super(message);
        }
    }
}
