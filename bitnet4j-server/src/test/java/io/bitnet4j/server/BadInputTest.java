package io.bitnet4j.server;

import static io.bitnet4j.server.TestServer.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Bad requests get a 4xx with an OpenAI-style error body, and the server keeps serving. */
class BadInputTest {
    private static TestServer t;

    @BeforeAll
    static void start() throws Exception {
        t = TestServer.start(1, 4, 64);
    }

    @AfterAll
    static void stop() throws Exception {
        t.close();
    }

    @AfterEach
    void stillServing() {
        HttpResponse<String> r = t.post("/v1/chat/completions",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":2}");
        assertEquals(200, r.statusCode(), "the server must keep serving after bad input: " + r.body());
    }

    /** Status, and an error object with message, type and code; returns the error object. */
    private static JsonNode assertError(int status, HttpResponse<String> r) {
        assertEquals(status, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("application/json"), r.body());
        JsonNode e = json(r.body()).get("error");
        assertTrue(e.get("message").isTextual() && !e.get("message").asText().isEmpty(), r.body());
        assertTrue(e.get("type").isTextual(), r.body());
        assertTrue(e.get("code").isTextual(), r.body());
        assertTrue(e.has("param"), r.body());
        return e;
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            malformed JSON          | {"messages": [                                                       | malformed JSON
            not an object           | [1,2,3]                                                              | JSON object
            empty body              |                                                                      | empty
            no messages             | {"model":"x"}                                                        | 'messages' is required
            messages not an array   | {"messages":"hi"}                                                    | must be an array
            empty messages          | {"messages":[]}                                                      | at least one message
            message not an object   | {"messages":[42]}                                                    | must be an object
            unknown role            | {"messages":[{"role":"wizard","content":"hi"}]}                      | unknown role 'wizard'
            role not a string       | {"messages":[{"role":1,"content":"hi"}]}                             | role must be a string
            missing content         | {"messages":[{"role":"user"}]}                                       | content is required
            empty content           | {"messages":[{"role":"user","content":""}]}                          | must not be empty
            content wrong type      | {"messages":[{"role":"user","content":{"a":1}}]}                     | string or an array
            image part              | {"messages":[{"role":"user","content":[{"type":"image_url"}]}]}      | only text parts
            max_tokens string       | {"messages":[{"role":"user","content":"hi"}],"max_tokens":"ten"}     | positive integer
            max_tokens negative     | {"messages":[{"role":"user","content":"hi"}],"max_tokens":-5}        | positive integer
            max_tokens absurd       | {"messages":[{"role":"user","content":"hi"}],"max_tokens":1e30}      | positive integer
            max_tokens too big      | {"messages":[{"role":"user","content":"hi"}],"max_tokens":99999999999} | positive integer
            temperature wrong type  | {"messages":[{"role":"user","content":"hi"}],"temperature":"hot"}    | 'temperature' must be a number
            temperature too high    | {"messages":[{"role":"user","content":"hi"}],"temperature":7}        | [0, 2]
            top_p out of range      | {"messages":[{"role":"user","content":"hi"}],"top_p":1.5}            | 'top_p'
            n=2                     | {"messages":[{"role":"user","content":"hi"}],"n":2}                  | only n = 1
            stream not boolean      | {"messages":[{"role":"user","content":"hi"}],"stream":"yes"}         | 'stream' must be true or false
            stop wrong type         | {"messages":[{"role":"user","content":"hi"}],"stop":5}               | 'stop' must be
            empty stop              | {"messages":[{"role":"user","content":"hi"}],"stop":[""]}            | must not be empty
            five stops              | {"messages":[{"role":"user","content":"hi"}],"stop":["a","b","c","d","e"]} | at most 4
            seed not integer        | {"messages":[{"role":"user","content":"hi"}],"seed":1.5}             | 'seed' must be an integer
            """)
    void badChatRequestsGet400(String what, String body, String expected) {
        JsonNode e = assertError(400, t.post("/v1/chat/completions", body == null ? "" : body));
        assertTrue(e.get("message").asText().contains(expected), what + ": " + e);
        assertEquals("invalid_request_error", e.get("type").asText());
    }

    @Test
    void badCompletionPromptGets400() {
        assertError(400, t.post("/v1/completions", "{\"prompt\":[1,2,3]}"));
        assertError(400, t.post("/v1/completions", "{\"prompt\":\"\"}"));
        assertError(400, t.post("/v1/completions", "{}"));
    }

    @Test
    void promptLongerThanTheContextGets400() {
        JsonNode e = assertError(400, t.post("/v1/chat/completions",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"" + "word ".repeat(200) + "\"}]}"));
        assertEquals("context_length_exceeded", e.get("code").asText());
    }

    @Test
    void hugeBodyGets413() {
        String big = "{\"messages\":[{\"role\":\"user\",\"content\":\"" + "x".repeat(2 << 20) + "\"}]}";
        JsonNode e = assertError(413, t.post("/v1/chat/completions", big));
        assertEquals("request_too_large", e.get("code").asText());
    }

    @Test
    void unknownPathAndWrongMethodGetJsonErrors() {
        assertError(404, t.get("/v1/nothing-here"));
        assertError(405, t.get("/v1/chat/completions"));
    }

    @Test
    void slowClientIsCutOffByTheIdleTimeoutWithoutBlockingOthers() throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), t.server.port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            // promise 100 bytes, send 5, then stall
            out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 100\r\n\r\n{\"mes").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            // meanwhile another client, on a connection of its own, is served
            try (HttpClient other = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
                HttpResponse<String> r = other.send(HttpRequest.newBuilder(URI.create(t.url("/v1/chat/completions")))
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                                "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":2}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode(), r.body());
            }
            long t0 = System.nanoTime();
            InputStream in = s.getInputStream();
            String reply = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            long waited = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(waited < 8_000, "the stalled connection should be closed by the 2 s idle timeout, took "
                    + waited + " ms");
            assertTrue(reply.isEmpty() || reply.startsWith("HTTP/1.1 4") || reply.startsWith("HTTP/1.1 5"), reply);
        }
    }

    @Test
    void apiKeyIsRequiredWhenConfigured() throws Exception {
        try (TestServer keyed = new TestServer(ServerConfig.defaults("tiny").withApiKey("s3cret")
                .withSlots(1, 1, 64).withLimits(1 << 20, Duration.ofSeconds(5), Duration.ofSeconds(1)))) {
            String body = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":2}";
            JsonNode e = assertError(401, keyed.post("/v1/chat/completions", body));
            assertEquals("invalid_api_key", e.get("code").asText());
            assertError(401, keyed.get("/v1/models"));
            HttpRequest wrong = HttpRequest.newBuilder(URI.create(keyed.url("/v1/chat/completions")))
                    .header("Authorization", "Bearer nope").POST(HttpRequest.BodyPublishers.ofString(body)).build();
            assertError(401, keyed.send(wrong));
            HttpRequest right = HttpRequest.newBuilder(URI.create(keyed.url("/v1/chat/completions")))
                    .header("Authorization", "Bearer s3cret").POST(HttpRequest.BodyPublishers.ofString(body)).build();
            assertEquals(200, keyed.send(right).statusCode());
            assertEquals(200, keyed.get("/health").statusCode(), "health needs no key");
        }
    }
}
