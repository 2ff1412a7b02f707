package io.bitnet4j.server;

import static io.bitnet4j.server.TestServer.events;
import static io.bitnet4j.server.TestServer.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.bitnet4j.chat.ChatMessage;
import io.bitnet4j.generate.BitNetModel;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The endpoints' JSON shapes and semantics, checked over plain HTTP against a tiny synthetic model. */
class OpenAiApiTest {
    private static TestServer t;
    private static BitNetModel reference;

    @BeforeAll
    static void start() throws Exception {
        t = TestServer.start(2, 4, 256);
        reference = BitNetModel.load(TestServer.synthModel(), 1);
    }

    @AfterAll
    static void stop() throws Exception {
        t.close();
        reference.close();
    }

    private static final String HELLO = "{\"role\":\"user\",\"content\":\"Hello there\"}";

    private JsonNode chat(String extra) {
        HttpResponse<String> r = t.post("/v1/chat/completions", "{\"model\":\"tiny\",\"messages\":[" + HELLO + "]"
                + extra + "}");
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("application/json"));
        return json(r.body());
    }

    @Test
    void healthAndModels() {
        HttpResponse<String> h = t.get("/health");
        assertEquals(200, h.statusCode());
        assertEquals("ok", json(h.body()).get("status").asText());
        JsonNode m = json(t.get("/v1/models").body());
        assertEquals("list", m.get("object").asText());
        assertEquals("tiny", m.get("data").get(0).get("id").asText());
        assertEquals("model", m.get("data").get(0).get("object").asText());
    }

    @Test
    void chatCompletionHasOpenAiShapeAndCounts() {
        JsonNode r = chat(",\"max_tokens\":12,\"temperature\":0");
        assertTrue(r.get("id").asText().startsWith("chatcmpl-"));
        assertEquals("chat.completion", r.get("object").asText());
        assertEquals("tiny", r.get("model").asText());
        assertTrue(r.get("created").asLong() > 1_700_000_000L);
        JsonNode choice = r.get("choices").get(0);
        assertEquals(0, choice.get("index").asInt());
        assertEquals("assistant", choice.get("message").get("role").asText());
        assertTrue(choice.get("message").get("content").isTextual());
        JsonNode usage = r.get("usage");
        int promptTokens = reference.encode(reference.chatPrompt(List.of(ChatMessage.user("Hello there")))).length;
        assertEquals(promptTokens, usage.get("prompt_tokens").asInt());
        int completion = usage.get("completion_tokens").asInt();
        assertTrue(completion >= 1 && completion <= 12, "completion tokens " + completion);
        assertEquals(promptTokens + completion, usage.get("total_tokens").asInt());
        // "length" exactly when max_tokens was reached, else the model ended the turn
        assertEquals(completion == 12 ? "length" : "stop", choice.get("finish_reason").asText());
    }

    @Test
    void maxCompletionTokensAndIgnoreEosGiveExactlyThatMany() {
        JsonNode r = chat(",\"max_completion_tokens\":7,\"ignore_eos\":true,\"temperature\":0");
        assertEquals(7, r.get("usage").get("completion_tokens").asInt());
        assertEquals("length", r.get("choices").get(0).get("finish_reason").asText());
    }

    @Test
    void streamedChunksAddUpToTheSameTextAsTheWholeAnswer() {
        JsonNode whole = chat(",\"max_tokens\":20,\"temperature\":0,\"ignore_eos\":true");
        HttpResponse<String> r = t.post("/v1/chat/completions", "{\"messages\":[" + HELLO + "],\"max_tokens\":20,"
                + "\"temperature\":0,\"ignore_eos\":true,\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
        List<JsonNode> ev = events(r.body());
        assertNull(ev.getLast(), "the stream ends with data: [DONE]");
        JsonNode first = ev.getFirst();
        assertEquals("chat.completion.chunk", first.get("object").asText());
        assertEquals("assistant", first.get("choices").get(0).get("delta").get("role").asText());
        StringBuilder text = new StringBuilder();
        String finish = null;
        for (JsonNode e : ev.subList(0, ev.size() - 2)) {
            assertEquals(first.get("id").asText(), e.get("id").asText(), "one id for the whole stream");
            assertTrue(e.get("usage").isNull(), "usage is null on content chunks when include_usage is set");
            JsonNode c = e.get("choices").get(0);
            text.append(c.get("delta").path("content").asText(""));
            if (!c.get("finish_reason").isNull()) {
                finish = c.get("finish_reason").asText();
            }
        }
        assertEquals(whole.get("choices").get(0).get("message").get("content").asText(), text.toString());
        assertEquals("length", finish);
        JsonNode usageChunk = ev.get(ev.size() - 2);
        assertEquals(0, usageChunk.get("choices").size());
        assertEquals(whole.get("usage"), usageChunk.get("usage"));
    }

    @Test
    void stopSequenceEndsTheTextBeforeIt() {
        String full = chat(",\"max_tokens\":40,\"temperature\":0,\"ignore_eos\":true")
                .get("choices").get(0).get("message").get("content").asText();
        // a stop sequence taken from the middle of the greedy text: the answer must be the text before it
        String stop = full.substring(full.length() / 2, full.length() / 2 + 2);
        int cut = full.indexOf(stop);
        JsonNode r = chat(",\"max_tokens\":40,\"temperature\":0,\"ignore_eos\":true,\"stop\":["
                + TestServer.JSON.valueToTree(stop) + ",\"@@never@@\"]");
        assertEquals(full.substring(0, cut), r.get("choices").get(0).get("message").get("content").asText());
        assertEquals("stop", r.get("choices").get(0).get("finish_reason").asText());
    }

    @Test
    void sameSeedSameSample() {
        String a = chat(",\"max_tokens\":16,\"temperature\":1.0,\"top_p\":0.9,\"seed\":42,\"ignore_eos\":true")
                .get("choices").get(0).get("message").get("content").asText();
        String b = chat(",\"max_tokens\":16,\"temperature\":1.0,\"top_p\":0.9,\"seed\":42,\"ignore_eos\":true")
                .get("choices").get(0).get("message").get("content").asText();
        assertEquals(a, b);
    }

    @Test
    void legacyCompletionsStreamingAndNot() {
        HttpResponse<String> r = t.post("/v1/completions",
                "{\"prompt\":\"Once upon a time\",\"max_tokens\":10,\"temperature\":0,\"ignore_eos\":true}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode whole = json(r.body());
        assertEquals("text_completion", whole.get("object").asText());
        assertTrue(whole.get("id").asText().startsWith("cmpl-"));
        assertEquals(10, whole.get("usage").get("completion_tokens").asInt());
        assertEquals(reference.encode("Once upon a time").length, whole.get("usage").get("prompt_tokens").asInt());
        HttpResponse<String> s = t.post("/v1/completions",
                "{\"prompt\":\"Once upon a time\",\"max_tokens\":10,\"temperature\":0,\"ignore_eos\":true,"
                        + "\"stream\":true}");
        List<JsonNode> ev = events(s.body());
        assertNull(ev.getLast());
        StringBuilder text = new StringBuilder();
        for (JsonNode e : ev.subList(0, ev.size() - 1)) {
            assertEquals("text_completion", e.get("object").asText());
            assertFalse(e.has("usage"), "no usage field without include_usage");
            text.append(e.get("choices").get(0).get("text").asText());
        }
        assertEquals(whole.get("choices").get(0).get("text").asText(), text.toString());
        assertEquals("length", ev.get(ev.size() - 2).get("choices").get(0).get("finish_reason").asText());
    }

    @Test
    void metricsCountRequestsAndTokens() {
        chat(",\"max_tokens\":5,\"ignore_eos\":true");
        String m = t.get("/metrics").body();
        for (String name : List.of("bitnet4j_requests_total{endpoint=\"/v1/chat/completions\",status=\"200\"}",
                "bitnet4j_prompt_tokens_total", "bitnet4j_generated_tokens_total", "bitnet4j_queue_depth",
                "bitnet4j_generated_tokens_per_second", "bitnet4j_kv_cache_usage_ratio", "bitnet4j_slots_total 2")) {
            assertTrue(m.contains(name), name + " missing from\n" + m);
        }
        long out = Long.parseLong(m.lines().filter(l -> l.startsWith("bitnet4j_generated_tokens_total "))
                .findFirst().orElseThrow().split(" ")[1]);
        assertTrue(out >= 5, "tokens out " + out);
    }

    @Test
    void chatPageIsServedAtRoot() {
        HttpResponse<String> r = t.get("/");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/html"));
        assertTrue(r.body().contains("/v1/chat/completions"));
    }
}
