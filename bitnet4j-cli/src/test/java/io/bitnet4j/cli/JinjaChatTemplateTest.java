package io.bitnet4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.bitnet4j.chat.ChatMessage;
import io.bitnet4j.chat.ChatTemplate;
import io.bitnet4j.testing.SharedTestData;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

class JinjaChatTemplateTest {

    static String llama3Jinja() throws IOException {
        return new ObjectMapper()
                .readTree(SharedTestData.require("llama3-tokenizer/tokenizer_config.json").toFile())
                .get("chat_template").asText();
    }

    /**
     * Meta's own Llama-3 template, run by a Jinja engine, against the built-in llama3 renderer. That template always
     * appends the assistant header (it has no add_generation_prompt test), so the comparison is with the generation
     * prompt on; bos_token is empty because BOS comes from tokenization.
     */
    @Test
    void realLlama3TemplateEqualsTheBuiltinLlama3Renderer() throws IOException {
        JinjaChatTemplate jinja = new JinjaChatTemplate(llama3Jinja(), "", "<|eot_id|>");
        ChatTemplate builtin = ChatTemplate.named("llama3");
        List<List<ChatMessage>> conversations = List.of(
                List.of(ChatMessage.user("Hello")),
                List.of(ChatMessage.system("You are a helpful assistant"), ChatMessage.user("Hello")),
                List.of(ChatMessage.system("Be brief."), ChatMessage.user("  What is 2+2?\n"),
                        ChatMessage.assistant("   4   "), ChatMessage.user("And 3+3?")),
                List.of(ChatMessage.user("Line one\nline two\n\n  indented"), ChatMessage.assistant("ok"),
                        ChatMessage.user("{{ not a template }} {% raw %} <|eot_id|> unicode: héllo 日本")),
                List.of());
        for (List<ChatMessage> conversation : conversations) {
            assertEquals(builtin.render(conversation, true), jinja.render(conversation, true),
                    conversation.toString());
        }
    }

    @Test
    void bosAndGenerationPromptReachTheTemplate() {
        JinjaChatTemplate t = new JinjaChatTemplate(
                "{{ bos_token }}{% for m in messages %}[{{ m['role'] }}]{{ m.content }}{{ eos_token }}{% endfor %}"
                        + "{% if add_generation_prompt %}[assistant]{% endif %}",
                "<s>", "</s>");
        List<ChatMessage> chat = List.of(ChatMessage.user("hi"));
        assertEquals("<s>[user]hi</s>[assistant]", t.render(chat, true));
        assertEquals("<s>[user]hi</s>", t.render(chat, false));
    }

    @Test
    void raiseExceptionRejectsTheConversationWithItsMessage() {
        JinjaChatTemplate t = new JinjaChatTemplate(
                "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}"
                        + "{% endif %}ok", "", "");
        assertEquals("ok", t.render(List.of(ChatMessage.user("x")), true));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> t.render(List.of(ChatMessage.system("x")), true));
        assertEquals("the model's chat template failed: System role not supported", e.getMessage());
    }

    @Test
    void messageTextIsNeverInterpretedAsTemplate() {
        JinjaChatTemplate t = new JinjaChatTemplate(
                "{% for m in messages %}{{ m['content'] }}{% endfor %}", "", "");
        String content = "{{ 7 * 7 }} {% if true %}x{% endif %} {% raw %}";
        assertEquals(content, t.render(List.of(ChatMessage.user(content)), false));
    }
}
