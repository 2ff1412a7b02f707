package io.bitnet4j.langchain4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.memory.chat.MessageWindowChatMemory;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.service.AiServices;
import dev.langchain4j.service.SystemMessage;
import dev.langchain4j.service.TokenStream;
import io.bitnet4j.chat.ChatMessage;
import io.bitnet4j.generate.BitNetModel;
import io.bitnet4j.generate.GenerationParams;
import io.bitnet4j.synth.ModelLayout;
import io.bitnet4j.synth.SynthModel;
import io.bitnet4j.synth.SynthOptions;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The in-process LangChain4j models, used directly and through AI Services, against a tiny synthetic model. */
class BitNetChatModelTest {
    private static final int MAX = 12;
    @TempDir
    static Path dir;
    private static Path file;
    private static BitNetModel model;

    interface Assistant {
        @SystemMessage("You are terse.")
        String chat(String message);
    }

    interface StreamingAssistant {
        TokenStream chat(String message);
    }

    @BeforeAll
    static void write() {
        file = dir.resolve("tiny.gguf");
        SynthModel.write(SynthOptions.builder().layout(ModelLayout.TINY).seed(1).build(), file);
        model = BitNetModel.load(file, 1);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** The greedy reply as the core library produces it, for the same conversation. */
    private static String expected(List<ChatMessage> conversation) {
        int[] ids = model.encode(model.chatPrompt(conversation));
        return model.newSession(512).generate(ids, GenerationParams.greedy(MAX), null).text();
    }

    @Test
    void aiServiceWithMemoryAnswersAsTheLibraryDoes() {
        try (BitNetChatModel chat = BitNetChatModel.builder().modelPath(file).threads(1).contextSize(512)
                .temperature(0).maxTokens(MAX).build()) {
            Assistant assistant = AiServices.builder(Assistant.class).chatModel(chat)
                    .chatMemory(MessageWindowChatMemory.withMaxMessages(10)).build();
            String first = assistant.chat("Hello");
            assertEquals(expected(List.of(ChatMessage.system("You are terse."), ChatMessage.user("Hello"))), first);
            String second = assistant.chat("More");
            // the memory carries the first turn into the second prompt
            assertEquals(expected(List.of(ChatMessage.system("You are terse."), ChatMessage.user("Hello"),
                    ChatMessage.assistant(first), ChatMessage.user("More"))), second);
        }
    }

    @Test
    void chatResponseCarriesUsageAndFinishReason() {
        try (BitNetChatModel chat = BitNetChatModel.builder().model(model).contextSize(512).temperature(0)
                .maxTokens(MAX).modelName("tiny").build()) {
            ChatResponse r = chat.chat(UserMessage.from("Hi"));
            int promptTokens = model.encode(model.chatPrompt(List.of(ChatMessage.user("Hi")))).length;
            assertEquals(promptTokens, r.tokenUsage().inputTokenCount());
            int out = r.tokenUsage().outputTokenCount();
            assertTrue(out >= 1 && out <= MAX);
            assertEquals(out == MAX ? FinishReason.LENGTH : FinishReason.STOP, r.finishReason());
            assertEquals("tiny", r.modelName());
            // per-request parameters override the builder's
            ChatResponse shorter = chat.chat(ChatRequest.builder().messages(UserMessage.from("Hi"))
                    .maxOutputTokens(1).build());
            assertEquals(1, shorter.tokenUsage().outputTokenCount());
        }
    }

    @Test
    void streamingAiServiceStreamsTheSameReply() throws Exception {
        try (BitNetStreamingChatModel chat = BitNetStreamingChatModel.builder().model(model).contextSize(512)
                .temperature(0).maxTokens(MAX).build()) {
            StreamingAssistant assistant = AiServices.create(StreamingAssistant.class, chat);
            StringBuilder partial = new StringBuilder();
            CompletableFuture<ChatResponse> done = new CompletableFuture<>();
            assistant.chat("Hello").onPartialResponse(partial::append).onCompleteResponse(done::complete)
                    .onError(done::completeExceptionally).start();
            ChatResponse r = done.get(60, TimeUnit.SECONDS);
            String want = expected(List.of(ChatMessage.user("Hello")));
            assertEquals(want, partial.toString());
            assertEquals(want, r.aiMessage().text());
        }
    }

    @Test
    void builderNeedsExactlyOneModel() {
        assertThrows(IllegalArgumentException.class, () -> BitNetChatModel.builder().build());
        assertThrows(IllegalArgumentException.class,
                () -> BitNetChatModel.builder().model(model).modelPath(file).build());
    }
}
