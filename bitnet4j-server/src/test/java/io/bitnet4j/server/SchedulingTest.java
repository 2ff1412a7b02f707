package io.bitnet4j.server;

import static io.bitnet4j.server.TestServer.events;
import static io.bitnet4j.server.TestServer.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Slots, the queue, cancellation on disconnect, graceful shutdown, and batching that does not change results. */
class SchedulingTest {
    /** A generation that runs until its context of 4096 tokens is full: long enough to overlap others. */
    private static final String ENDLESS = "{\"messages\":[{\"role\":\"user\",\"content\":\"go on\"}],"
            + "\"ignore_eos\":true,\"stream\":true}";

    private static HttpRequest post(TestServer t, String body) {
        return HttpRequest.newBuilder(URI.create(t.url("/v1/chat/completions")))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    /** Opens a stream and waits until its first content chunk arrives (the request holds a slot). */
    private static BufferedReader openStream(TestServer t, HttpResponse<java.io.InputStream>[] holder)
            throws Exception {
        HttpResponse<java.io.InputStream> r = t.http.send(post(t, ENDLESS), HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, r.statusCode());
        holder[0] = r;
        BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8));
        int data = 0;
        String line;
        while (data < 2 && (line = in.readLine()) != null) {
            if (line.startsWith("data: ")) {
                data++;
            }
        }
        return in;
    }

    /**
     * Retries a small request until the one slot, held by a client that left at {@code t0}, takes it; checks that
     * came within 5 s and was counted as a cancellation. Returns the metrics text.
     */
    private static String awaitFreedSlot(TestServer t, long t0) throws InterruptedException {
        HttpResponse<String> next;
        do {
            Thread.sleep(20);
            next = t.post("/v1/chat/completions",
                    "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":2}");
        } while (next.statusCode() == 503 && System.nanoTime() - t0 < 10_000_000_000L);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(200, next.statusCode(), "the slot was not freed after the client left (" + ms + " ms)");
        assertTrue(ms < 5_000, "freeing the slot took " + ms + " ms");
        String metrics = t.get("/metrics").body();
        assertTrue(metrics.contains("bitnet4j_requests_cancelled_total 1"), metrics);
        return metrics;
    }

    @Test
    void fullQueueGets503AndADisconnectFreesTheSlotAtOnce() throws Exception {
        try (TestServer t = TestServer.start(1, 0, 4096)) {
            @SuppressWarnings("unchecked")
            HttpResponse<java.io.InputStream>[] holder = new HttpResponse[1];
            BufferedReader busy = openStream(t, holder);
            HttpResponse<String> refused = t.post("/v1/chat/completions",
                    "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":2}");
            assertEquals(503, refused.statusCode(), refused.body());
            assertEquals("queue_full", json(refused.body()).get("error").get("code").asText());

            long t0 = System.nanoTime();
            busy.close(); // the client goes away mid-stream
            holder[0].body().close();
            String metrics = awaitFreedSlot(t, t0);
            // the first refusal, plus any retries above that came before the cancel reached the scheduler
            assertTrue(!metrics.contains("bitnet4j_requests_rejected_total 0"), metrics);
        }
    }

    @Test
    void aNonStreamingClientThatLeavesFreesItsSlot() throws Exception {
        try (TestServer t = TestServer.start(1, 0, 4096)) {
            String body = ENDLESS.replace("\"stream\":true", "\"stream\":false");
            long t0;
            try (java.net.Socket s = new java.net.Socket("127.0.0.1", t.port())) {
                byte[] b = body.getBytes(StandardCharsets.UTF_8);
                s.getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                        + "Content-Type: application/json\r\nContent-Length: " + b.length + "\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                s.getOutputStream().write(b);
                s.getOutputStream().flush();
                t0 = System.nanoTime();
                while (!t.get("/metrics").body().contains("bitnet4j_slots_busy 1")) {
                    assertTrue(System.nanoTime() - t0 < 10_000_000_000L, "the request never took a slot");
                    Thread.sleep(10);
                }
                t0 = System.nanoTime();
            } // the client gives up before the answer and closes its connection
            String metrics = awaitFreedSlot(t, t0);
        }
    }

    @Test
    void bytesPipelinedWhileANonStreamingAnswerIsGeneratedCloseTheConnectionAfterIt() throws Exception {
        try (TestServer t = TestServer.start(1, 0, 4096)) {
            byte[] b = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":4000,\"ignore_eos\":true}"
                    .getBytes(StandardCharsets.UTF_8);
            String head = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + b.length + "\r\n\r\n";
            try (java.net.Socket s = new java.net.Socket("127.0.0.1", t.port())) {
                s.setSoTimeout(30_000);
                s.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
                s.getOutputStream().write(b);
                s.getOutputStream().flush();
                Thread.sleep(300); // the connection check reads what comes next: a second, pipelined request
                s.getOutputStream().write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                s.getOutputStream().flush();
                String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8); // until closed
                assertTrue(all.startsWith("HTTP/1.1 200"), all);
                assertTrue(all.toLowerCase(java.util.Locale.ROOT).contains("connection: close"), all);
                assertTrue(all.contains("\"chat.completion\""), all);
            }
        }
    }

    @Test
    void requestsWaitInTheQueueAndAllComplete() throws Exception {
        try (TestServer t = TestServer.start(1, 8, 256)) {
            List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                all.add(t.http.sendAsync(post(t, "{\"messages\":[{\"role\":\"user\",\"content\":\"q" + i + "\"}],"
                        + "\"max_tokens\":8,\"ignore_eos\":true}"), HttpResponse.BodyHandlers.ofString()));
            }
            for (var f : all) {
                HttpResponse<String> r = f.get();
                assertEquals(200, r.statusCode(), r.body());
                assertEquals(8, json(r.body()).get("usage").get("completion_tokens").asInt());
            }
        }
    }

    @Test
    void concurrentGreedyStreamsMatchTheSameRequestsRunAlone() throws Exception {
        List<String> bodies = Stream.of("alpha", "bravo bravo", "charlie is here", "delta")
                .map(p -> "{\"messages\":[{\"role\":\"user\",\"content\":\"" + p + "\"}],\"max_tokens\":24,"
                        + "\"temperature\":0,\"ignore_eos\":true,\"stream\":true}").toList();
        List<String> alone = new ArrayList<>();
        try (TestServer t = TestServer.start(1, 8, 256)) {
            for (String b : bodies) {
                alone.add(streamedText(t.post("/v1/chat/completions", b).body()));
            }
        }
        try (TestServer t = TestServer.start(4, 8, 256)) {
            List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
            for (String b : bodies) {
                all.add(t.http.sendAsync(post(t, b), HttpResponse.BodyHandlers.ofString()));
            }
            for (int i = 0; i < bodies.size(); i++) {
                assertEquals(alone.get(i), streamedText(all.get(i).get().body()), "request " + i);
            }
            String metrics = t.get("/metrics").body();
            long steps = Long.parseLong(metrics.lines().filter(l -> l.startsWith("bitnet4j_decode_steps_total "))
                    .findFirst().orElseThrow().split(" ")[1]);
            // four 24-token generations alone would take 4 x 23 steps; batched they share steps
            assertTrue(steps < 4 * 23, "decode steps " + steps + ": the generations were not batched");
        }
    }

    private static String streamedText(String sse) {
        StringBuilder b = new StringBuilder();
        for (JsonNode e : events(sse)) {
            if (e != null && e.has("choices") && !e.get("choices").isEmpty()) {
                b.append(e.get("choices").get(0).get("delta").path("content").asText(""));
            }
        }
        return b.toString();
    }

    @Test
    void healthSays503WhileTheModelLoadsAnd200WhenReady() throws Exception {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        java.nio.file.Path file = TestServer.synthModel();
        try (OpenAiServer server = OpenAiServer.start(ServerConfig.defaults("tiny").withHost("127.0.0.1").withPort(0),
                () -> {
                    release.await();
                    return io.bitnet4j.generate.BitNetModel.load(file, 1);
                })) {
            var http = java.net.http.HttpClient.newHttpClient();
            HttpResponse<String> h = http.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(503, h.statusCode());
            assertEquals("loading", json(h.body()).get("error").get("code").asText());
            HttpResponse<String> c = http.send(HttpRequest.newBuilder(URI.create(server.baseUrl()
                    + "/v1/chat/completions")).POST(HttpRequest.BodyPublishers.ofString(
                    "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(503, c.statusCode());
            release.countDown();
            server.awaitReady();
            h = http.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, h.statusCode());
        }
    }

    @Test
    void shutdownCancelsWhatOutlivesTheGracePeriodAndSaysSo() throws Exception {
        TestServer t = new TestServer(ServerConfig.defaults("tiny").withSlots(1, 2, 4096)
                .withLimits(1 << 20, Duration.ofSeconds(5), Duration.ofMillis(300)));
        @SuppressWarnings("unchecked")
        HttpResponse<java.io.InputStream>[] holder = new HttpResponse[1];
        BufferedReader running = openStream(t, holder);
        CompletableFuture<HttpResponse<String>> waiting = t.http.sendAsync(post(t,
                "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":2}"),
                HttpResponse.BodyHandlers.ofString());
        Thread.sleep(200);
        Scheduler.ShutdownSummary summary = t.server.shutdown();
        assertEquals(new Scheduler.ShutdownSummary(0, 1, 1), summary);
        String last = null;
        String line;
        while ((line = running.readLine()) != null) {
            if (line.startsWith("data: ")) {
                last = line;
            }
        }
        assertTrue(last != null && last.contains("\"shutting_down\""), "the stream should end with the reason: "
                + last);
        HttpResponse<String> refused = waiting.get();
        assertEquals(503, refused.statusCode());
        assertEquals("shutting_down", json(refused.body()).get("error").get("code").asText());
    }
}
