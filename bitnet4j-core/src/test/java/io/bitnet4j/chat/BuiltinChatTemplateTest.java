package io.bitnet4j.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Each built-in template against text the reference engines document for the same conversation. The conversation
 * is the one llama.cpp's tests/test-chat-template.cpp ({@code main_automated_tests}) renders with every template,
 * with add_generation_prompt = true.
 */
class BuiltinChatTemplateTest {

    /** llama.cpp tests/test-chat-template.cpp, {@code std::vector<llama_chat_message> conversation}. */
    static final List<ChatMessage> CONVERSATION = List.of(
            ChatMessage.system("You are a helpful assistant"),
            ChatMessage.user("Hello"),
            ChatMessage.assistant("Hi there"),
            ChatMessage.user("Who are you"),
            ChatMessage.assistant("   I am an assistant   "),
            ChatMessage.user("Another question"));

    @Test
    void chatmlMatchesLlamaCppTestExpectation() {
        // test-chat-template.cpp, case "teknium/OpenHermes-2.5-Mistral-7B", .expected_output
        String expected = "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n"
                + "<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n"
                + "<|im_start|>assistant\n   I am an assistant   <|im_end|>\n<|im_start|>user\nAnother question<|im_end|>\n"
                + "<|im_start|>assistant\n";
        assertEquals(expected, BuiltinChatTemplate.CHATML.render(CONVERSATION, true));
    }

    @Test
    void llama3MatchesLlamaCppTestExpectation() {
        // test-chat-template.cpp, case "Llama-3", .expected_output (note the assistant content is trimmed)
        String expected = "<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nWho are you<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\nI am an assistant<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nAnother question<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n";
        assertEquals(expected, BuiltinChatTemplate.LLAMA3.render(CONVERSATION, true));
    }

    @Test
    void falcon3MatchesLlamaServerChatExample() {
        // llama-server logs its built-in template's rendering of a fixed example as "chat_example"; for the Falcon3
        // format (llm_chat_apply_template, LLM_CHAT_TEMPLATE_FALCON_3: "<|" role "|>\n" content "\n") it printed:
        // chat_example="<|system|>\nYou are a helpful assistant\n<|user|>\nHello\n<|assistant|>\nHi there\n
        //               <|user|>\nHow are you?\n<|assistant|>\n"
        List<ChatMessage> example = List.of(
                ChatMessage.system("You are a helpful assistant"),
                ChatMessage.user("Hello"),
                ChatMessage.assistant("Hi there"),
                ChatMessage.user("How are you?"));
        String expected = "<|system|>\nYou are a helpful assistant\n<|user|>\nHello\n<|assistant|>\nHi there\n"
                + "<|user|>\nHow are you?\n<|assistant|>\n";
        assertEquals(expected, BuiltinChatTemplate.FALCON3.render(example, true));
    }

    @Test
    void bitnetMatchesTheForkRenderer() {
        // bitnet.cpp's llama.cpp fork (Eddie-Wang1120/llama.cpp), src/llama.cpp, llama_chat_apply_template_internal,
        // branch `tmpl == "bitnet" || tmpl_contains("BITNET")`:
        //   system    -> ss << "System: " << content
        //   user      -> ss << "User: " << content << "<|eot_id|>Assistant: "
        //   otherwise -> ss << content
        // and no `if (add_ass)` block: the generation prompt flag changes nothing.
        String expected = "System: You are a helpful assistant"
                + "User: Hello<|eot_id|>Assistant: Hi there"
                + "User: Who are you<|eot_id|>Assistant:    I am an assistant   "
                + "User: Another question<|eot_id|>Assistant: ";
        assertEquals(expected, BuiltinChatTemplate.BITNET.render(CONVERSATION, true));
        assertEquals(expected, BuiltinChatTemplate.BITNET.render(CONVERSATION, false));
    }

    @Test
    void withoutGenerationPromptTheTextEndsAfterTheLastMessage() {
        List<ChatMessage> one = List.of(ChatMessage.user("Hi"));
        assertEquals("<|im_start|>user\nHi<|im_end|>\n", BuiltinChatTemplate.CHATML.render(one, false));
        assertEquals("<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
                BuiltinChatTemplate.LLAMA3.render(one, false));
        assertEquals("<|user|>\nHi\n", BuiltinChatTemplate.FALCON3.render(one, false));
        assertEquals("", BuiltinChatTemplate.CHATML.render(List.of(), false));
    }

    @Test
    void llama3TrimsOnlyAsciiWhitespaceLikeCIsspace() {
        // llama.cpp's trim() uses isspace(): \t \n \v \f \r and space; a no-break space (U+00A0) stays
        String rendered = BuiltinChatTemplate.LLAMA3.render(
                List.of(ChatMessage.user("\t\u000B\f\r\n x \u00A0")), false);
        assertEquals("<|start_header_id|>user<|end_header_id|>\n\nx \u00A0<|eot_id|>", rendered);
    }

    @Test
    void renderDeltaIsTheNewTurnOnly() {
        List<ChatMessage> before = CONVERSATION.subList(0, 3); // system, user, assistant
        List<ChatMessage> after = CONVERSATION.subList(0, 4);  // + user "Who are you"
        assertEquals("<|start_header_id|>user<|end_header_id|>\n\nWho are you<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\n",
                BuiltinChatTemplate.LLAMA3.renderDelta(before, after, true));
        assertEquals("User: Who are you<|eot_id|>Assistant: ", BuiltinChatTemplate.BITNET.renderDelta(before, after, true));
        for (BuiltinChatTemplate t : BuiltinChatTemplate.ALL) {
            assertEquals(t.render(after, true), t.render(before, false) + t.renderDelta(before, after, true), t.name());
        }
    }

    @Test
    void renderDeltaRejectsAConversationThatDoesNotExtendTheOldOne() {
        List<ChatMessage> before = List.of(ChatMessage.user("Hello"), ChatMessage.assistant("Hi"));
        List<ChatMessage> edited = List.of(ChatMessage.user("Hello!"), ChatMessage.assistant("Hi"),
                ChatMessage.user("Next"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BuiltinChatTemplate.CHATML.renderDelta(before, edited, true));
        assertTrue(e.getMessage().contains("prefix"), e.getMessage());
    }

    @Test
    void namedFindsEachBuiltinAndListsThemOtherwise() {
        assertSame(BuiltinChatTemplate.BITNET, ChatTemplate.named("bitnet"));
        assertSame(BuiltinChatTemplate.LLAMA3, ChatTemplate.named("llama3"));
        assertSame(BuiltinChatTemplate.FALCON3, ChatTemplate.named("falcon3"));
        assertSame(BuiltinChatTemplate.CHATML, ChatTemplate.named("chatml"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ChatTemplate.named("gemma"));
        assertEquals("unknown chat template 'gemma' (built-in templates: bitnet, llama3, falcon3, chatml)",
                e.getMessage());
    }

    @Test
    void messagesRejectUnknownRoles() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ChatMessage("tool", "x"));
        assertEquals("unknown chat role 'tool' (expected system, user or assistant)", e.getMessage());
        assertThrows(NullPointerException.class, () -> new ChatMessage("user", null));
    }
}
