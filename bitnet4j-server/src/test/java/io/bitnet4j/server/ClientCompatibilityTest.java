package io.bitnet4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.langchain4j.model.output.FinishReason;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Real OpenAI clients against the server on 127.0.0.1: the official Java SDK and LangChain4j's OpenAI module, each
 * streaming and not. Their answers are checked against the same greedy request made over plain HTTP.
 */
class ClientCompatibilityTest {
    private static final String PROMPT = "Say something";
    private static final int MAX = 10;
    private static TestServer t;
    private static String expectedText;
    private static int expectedCompletionTokens;
    private static String expectedFinish;

    @BeforeAll
    static void start() throws Exception {
        t = TestServer.start(2, 4, 256);
        var r = TestServer.json(t.post("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\""
                + PROMPT + "\"}],\"max_tokens\":" + MAX + ",\"temperature\":0}").body());
        expectedText = r.get("choices").get(0).get("message").get("content").asText();
        expectedCompletionTokens = r.get("usage").get("completion_tokens").asInt();
        expectedFinish = r.get("choices").get(0).get("finish_reason").asText();
    }

    @AfterAll
    static void stop() throws Exception {
        t.close();
    }

    private static OpenAIClient openAi() {
        return OpenAIOkHttpClient.builder().baseUrl(t.url("/v1")).apiKey("unused").maxRetries(0).build();
    }

    private static ChatCompletionCreateParams params() {
        return ChatCompletionCreateParams.builder().model("tiny").addUserMessage(PROMPT).maxCompletionTokens(MAX)
                .temperature(0.0).build();
    }

    @Test
    void openAiJavaSdkCompletesAChat() {
        OpenAIClient client = openAi();
        try {
            ChatCompletion c = client.chat().completions().create(params());
            c.validate(); // the SDK's own check of every required field and type
            assertEquals(expectedText, c.choices().getFirst().message().content().orElseThrow());
            assertEquals(expectedFinish, c.choices().getFirst().finishReason().asString());
            assertEquals(expectedCompletionTokens, c.usage().orElseThrow().completionTokens());
            assertEquals("tiny", c.model());
        } finally {
            client.close();
        }
    }

    @Test
    void openAiJavaSdkStreamsAChat() {
        OpenAIClient client = openAi();
        StringBuilder text = new StringBuilder();
        String[] finish = new String[1];
        long[] usage = {-1};
        ChatCompletionCreateParams p = params().toBuilder()
                .streamOptions(com.openai.models.chat.completions.ChatCompletionStreamOptions.builder()
                        .includeUsage(true).build()).build();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(p)) {
            stream.stream().forEach(chunk -> {
                chunk.validate();
                chunk.usage().ifPresent(u -> usage[0] = u.completionTokens());
                for (ChatCompletionChunk.Choice c : chunk.choices()) {
                    c.delta().content().ifPresent(text::append);
                    c.finishReason().ifPresent(f -> finish[0] = f.asString());
                }
            });
        } finally {
            client.close();
        }
        assertEquals(expectedText, text.toString());
        assertEquals(expectedFinish, finish[0]);
        assertEquals(expectedCompletionTokens, usage[0]);
    }

    @Test
    void langChain4jOpenAiModelCompletesAChat() {
        OpenAiChatModel model = OpenAiChatModel.builder().baseUrl(t.url("/v1")).apiKey("unused").modelName("tiny")
                .maxTokens(MAX).temperature(0.0).maxRetries(0).build();
        ChatResponse r = model.chat(dev.langchain4j.data.message.UserMessage.from(PROMPT));
        assertEquals(expectedText, r.aiMessage().text());
        assertEquals(expectedCompletionTokens, r.tokenUsage().outputTokenCount());
        assertEquals(expectedFinish.equals("length") ? FinishReason.LENGTH : FinishReason.STOP, r.finishReason());
    }

    @Test
    void langChain4jOpenAiStreamingModelStreamsAChat() throws Exception {
        OpenAiStreamingChatModel model = OpenAiStreamingChatModel.builder().baseUrl(t.url("/v1")).apiKey("unused")
                .modelName("tiny").maxTokens(MAX).temperature(0.0).build();
        StringBuilder partial = new StringBuilder();
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        model.chat(PROMPT, new StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(String text) {
                partial.append(text);
            }

            @Override
            public void onCompleteResponse(ChatResponse response) {
                done.complete(response);
            }

            @Override
            public void onError(Throwable error) {
                done.completeExceptionally(error);
            }
        });
        ChatResponse r = done.get(30, TimeUnit.SECONDS);
        assertEquals(expectedText, partial.toString());
        assertEquals(expectedText, r.aiMessage().text());
        assertTrue(r.finishReason() == FinishReason.LENGTH || r.finishReason() == FinishReason.STOP);
    }
}
