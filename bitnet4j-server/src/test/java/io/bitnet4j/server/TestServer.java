package io.bitnet4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bitnet4j.generate.BitNetModel;
import io.bitnet4j.synth.ModelLayout;
import io.bitnet4j.synth.SynthModel;
import io.bitnet4j.synth.SynthOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A server on 127.0.0.1 (any free port) over a tiny synthetic model, and a plain HTTP client for it. */
final class TestServer implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    private static Path modelFile;

    final OpenAiServer server;
    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    TestServer(ServerConfig config) throws Exception {
        Path file = synthModel();
        server = OpenAiServer.start(config.withHost("127.0.0.1").withPort(0), () -> BitNetModel.load(file, 1));
        server.awaitReady();
    }

    /** parallel slots, queue depth, context per slot; 1 MiB bodies, 2 s idle timeout, 5 s grace. */
    static TestServer start(int parallel, int queue, int ctx) throws Exception {
        return new TestServer(ServerConfig.defaults("tiny").withSlots(parallel, queue, ctx)
                .withLimits(1 << 20, Duration.ofSeconds(2), Duration.ofSeconds(5)));
    }

    /** The TINY synth model (2B-4T architecture, byte-level vocabulary), written once per JVM. */
    static synchronized Path synthModel() throws IOException {
        if (modelFile == null) {
            Path dir = Files.createTempDirectory("bitnet4j-server-test");
            modelFile = dir.resolve("tiny.gguf");
            SynthModel.write(SynthOptions.builder().layout(ModelLayout.TINY).seed(1).build(), modelFile);
            modelFile.toFile().deleteOnExit();
            dir.toFile().deleteOnExit();
        }
        return modelFile;
    }

    int port() {
        return server.port();
    }

    String url(String path) {
        return server.baseUrl() + path;
    }

    HttpResponse<String> get(String path) {
        return send(HttpRequest.newBuilder(URI.create(url(path))).GET().build());
    }

    HttpResponse<String> post(String path, String body) {
        return send(HttpRequest.newBuilder(URI.create(url(path))).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    HttpResponse<String> send(HttpRequest req) {
        try {
            return http.send(req, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static JsonNode json(String s) {
        try {
            return JSON.readTree(s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The JSON objects of an SSE body's {@code data:} lines, in order; {@code [DONE]} becomes a null entry. */
    static List<JsonNode> events(String sse) {
        List<JsonNode> out = new ArrayList<>();
        for (String block : sse.split("\n\n")) {
            if (block.isBlank()) {
                continue;
            }
            if (!block.startsWith("data: ")) {
                throw new AssertionError("not an SSE data event: " + block);
            }
            String data = block.substring(6);
            out.add(data.equals("[DONE]") ? null : json(data));
        }
        return out;
    }

    @Override
    public void close() throws InterruptedException {
        server.close();
    }
}
