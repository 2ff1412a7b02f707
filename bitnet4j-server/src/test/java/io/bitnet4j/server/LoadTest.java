package io.bitnet4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bitnet4j.generate.BitNetModel;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * N concurrent streaming clients for a bounded time against a server on 127.0.0.1, compared with one client alone:
 * requests/s, aggregate generated tokens/s, time to first token (p50/p99), errors, heap before and after. Every
 * request sends the same prompt, so after the warm-up each slot finds it in its KV cache (as with a shared system
 * prompt); TTFT then measures queueing and the wait for the running batch's step, not prompt evaluation.
 * Small bounds by default (CI); larger runs through system properties, e.g.
 * {@code ./mvnw -q -pl bitnet4j-server -am test -Dtest=LoadTest -Dsurefire.failIfNoSpecifiedTests=false
 * -Dload.clients=8 -Dload.seconds=30 -Dload.threads=4 -Dload.model=/path/model.gguf}.
 */
class LoadTest {
    private static final String PROMPT = "Tell me a story about a ternary robot.";

    record Phase(int clients, double seconds, int requests, long tokens, int errors, List<Long> ttftMillis) {
        double requestsPerSecond() {
            return requests / seconds;
        }

        double tokensPerSecond() {
            return tokens / seconds;
        }

        long ttft(double q) {
            if (ttftMillis.isEmpty()) {
                return -1;
            }
            List<Long> s = new ArrayList<>(ttftMillis);
            Collections.sort(s);
            return s.get(Math.min(s.size() - 1, (int) Math.ceil(q * s.size()) - 1));
        }

        @Override
        public String toString() {
            return String.format("%d client(s), %.1f s: %d requests (%.2f/s), %d tokens (%.1f tokens/s), "
                    + "TTFT p50 %d ms p99 %d ms, %d errors", clients, seconds, requests, requestsPerSecond(), tokens,
                    tokensPerSecond(), ttft(0.5), ttft(0.99), errors);
        }
    }

    /** Runs {@code clients} streaming clients, each sending requests back to back until {@code seconds} have passed. */
    static Phase run(String baseUrl, int clients, double seconds, int maxTokens) throws InterruptedException {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        String body = "{\"messages\":[{\"role\":\"user\",\"content\":\"" + PROMPT + "\"}],\"max_tokens\":" + maxTokens
                + ",\"ignore_eos\":true,\"stream\":true,\"stream_options\":{\"include_usage\":true}}";
        HttpRequest req = HttpRequest.newBuilder(URI.create(baseUrl + "/v1/chat/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
        long start = System.nanoTime();
        long deadline = start + (long) (seconds * 1e9);
        AtomicLong requests = new AtomicLong();
        AtomicLong tokens = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        List<String> errorMessages = Collections.synchronizedList(new ArrayList<>());
        List<Long> ttft = Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            threads.add(Thread.ofPlatform().name("load-client-" + c).start(() -> {
                while (System.nanoTime() < deadline) {
                    long t0 = System.nanoTime();
                    try {
                        HttpResponse<InputStream> r = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
                        if (r.statusCode() != 200) {
                            errors.incrementAndGet();
                            errorMessages.add(r.statusCode() + " " + new String(r.body().readAllBytes(),
                                    StandardCharsets.UTF_8));
                            continue;
                        }
                        long first = -1;
                        long used = -1;
                        boolean done = false;
                        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(),
                                StandardCharsets.UTF_8))) {
                            String line;
                            while ((line = in.readLine()) != null) {
                                if (!line.startsWith("data: ")) {
                                    continue;
                                }
                                if (done) { // nothing may follow [DONE]
                                    errorMessages.add("after [DONE]: " + line);
                                    done = false;
                                    break;
                                }
                                if (line.equals("data: [DONE]")) {
                                    // read on to the end of the response, as a client should: one that closes
                                    // the body before its last chunk has the JDK client close the connection, and
                                    // a request racing onto it failed with "header parser received no bytes"
                                    done = true;
                                    continue;
                                }
                                // cheap string checks per chunk, JSON parsing only for the usage chunk: the
                                // clients share the machine with the server and should cost it little
                                if (line.startsWith("data: {\"error\"")) {
                                    errorMessages.add(line);
                                    break;
                                }
                                if (first < 0 && line.contains("\"delta\":{\"content\":\"")
                                        && !line.contains("\"delta\":{\"content\":\"\"")) {
                                    first = System.nanoTime();
                                }
                                if (line.contains("\"usage\":{")) {
                                    used = TestServer.json(line.substring(6)).get("usage").get("completion_tokens")
                                            .asLong();
                                }
                            }
                        }
                        if (!done || used < 0) {
                            errors.incrementAndGet();
                            errorMessages.add("stream ended early (done=" + done + ", usage=" + used + ")");
                            continue;
                        }
                        requests.incrementAndGet();
                        tokens.addAndGet(used);
                        if (first > 0) {
                            ttft.add((first - t0) / 1_000_000);
                        }
                    } catch (Exception e) {
                        errors.incrementAndGet();
                        errorMessages.add(e.toString());
                    }
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        double wall = (System.nanoTime() - start) / 1e9;
        errorMessages.stream().limit(5).forEach(m -> System.out.println("[load] error: " + m));
        return new Phase(clients, wall, (int) requests.get(), tokens.get(), (int) errors.get(), List.copyOf(ttft));
    }

    private static long heapAfterGc() {
        MemoryMXBean m = ManagementFactory.getMemoryMXBean();
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return m.getHeapMemoryUsage().getUsed();
    }

    @Test
    void concurrentStreamingClients() throws Exception {
        int clients = Integer.getInteger("load.clients", 4);
        double seconds = Double.parseDouble(System.getProperty("load.seconds", "2"));
        int maxTokens = Integer.getInteger("load.max_tokens", 16);
        int threads = Integer.getInteger("load.threads", 1);
        String modelProp = System.getProperty("load.model");
        Path model = modelProp != null ? Path.of(modelProp) : TestServer.synthModel();
        ServerConfig config = ServerConfig.defaults("load").withHost("127.0.0.1").withPort(0)
                .withSlots(clients, clients, Integer.getInteger("load.ctx", 512))
                .withLimits(1 << 20, Duration.ofSeconds(60), Duration.ofSeconds(5));
        try (OpenAiServer server = OpenAiServer.start(config, () -> BitNetModel.load(model, threads))) {
            server.awaitReady();
            // warm-up: every slot evaluates the (fixed) prompt once, so both phases measure decoding with the
            // prompt's prefix cached, not first-use prefill
            run(server.baseUrl(), clients, Math.min(0.5, seconds), maxTokens);
            Phase single = run(server.baseUrl(), 1, seconds, maxTokens);
            long heapBefore = heapAfterGc();
            Phase many = run(server.baseUrl(), clients, seconds, maxTokens);
            long heapAfter = heapAfterGc();
            double ratio = many.tokensPerSecond() / single.tokensPerSecond();
            System.out.println("[load] model " + model.getFileName() + ", " + threads + " compute thread(s), "
                    + "max_tokens " + maxTokens);
            System.out.println("[load] single: " + single);
            System.out.println("[load] " + clients + "x:    " + many);
            System.out.printf("[load] aggregate/single tokens/s: %.2fx; heap after GC %d MiB -> %d MiB%n", ratio,
                    heapBefore >> 20, heapAfter >> 20);
            assertEquals(0, single.errors() + many.errors(), "errors under load");
            assertTrue(single.requests() > 0 && many.requests() >= clients, many.toString());
            assertTrue(heapAfter < heapBefore + (64L << 20), "heap grew from " + (heapBefore >> 20) + " to "
                    + (heapAfter >> 20) + " MiB");
            assertEquals(0, server.snapshot().busySlots(), "all slots free after the run");
        }
    }
}
