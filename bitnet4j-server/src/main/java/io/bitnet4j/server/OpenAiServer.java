package io.bitnet4j.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bitnet4j.generate.BitNetModel;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.ServerConnector;

/**
 * An OpenAI-compatible HTTP server for one model: {@code /v1/chat/completions}, {@code /v1/completions},
 * {@code /v1/models}, {@code /health}, {@code /metrics} and a chat page at {@code /}. It listens at once and loads the
 * model in the background ({@code /health} says 503 until it is ready); generation runs on a {@link Scheduler}.
 *
 * <pre>{@code
 * try (OpenAiServer server = OpenAiServer.start(ServerConfig.defaults("my-model"), () -> BitNetModel.load(path))) {
 *     server.awaitReady();
 *     ... // http://127.0.0.1:8080/v1/chat/completions
 * }
 * }</pre>
 */
public final class OpenAiServer implements AutoCloseable {
    private static final Set<String> ENDPOINTS = Set.of("/", "/health", "/metrics", "/v1/models",
            "/v1/chat/completions", "/v1/completions");

    /** How often a non-streaming request checks that its client is still connected. */
    private static final long HANG_UP_CHECK_NANOS = 100_000_000;
    /** How much of an oversized body is read and dropped before answering 413 (beyond it, the connection is cut). */
    private static final long DRAIN_BYTES = 16L << 20;

    private final ServerConfig config;
    private final ObjectMapper json = new ObjectMapper();
    private final Metrics metrics = new Metrics();
    private final CompletableFuture<Loaded> loaded = new CompletableFuture<>();
    private final AtomicInteger generating = new AtomicInteger();
    private final byte[] chatPage;
    private final Javalin app;
    private volatile boolean stopping;

    private record Loaded(BitNetModel model, Scheduler scheduler) {}

    private OpenAiServer(ServerConfig config) {
        this.config = config;
        this.chatPage = resource("chat.html");
        this.app = Javalin.create(c -> {
            c.startup.showJavalinBanner = false;
            c.concurrency.useVirtualThreads = true;
            c.http.prefer405over404 = true;
            c.http.maxRequestSize = config.maxBodyBytes();
            c.jetty.addConnector((server, http) -> {
                ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
                connector.setHost(config.host());
                connector.setPort(config.port());
                connector.setIdleTimeout(config.idleTimeout().toMillis());
                return connector;
            });
            c.requestLogger.http((ctx, ms) -> metrics.request(
                    ENDPOINTS.contains(ctx.path()) ? ctx.path() : "other", ctx.statusCode()));
            c.routes.before("/v1/*", this::authorize);
            c.routes.get("/", ctx -> ctx.contentType("text/html; charset=utf-8").result(chatPage));
            c.routes.get("/health", this::health);
            c.routes.get("/metrics", this::metrics);
            c.routes.get("/v1/models", this::models);
            c.routes.post("/v1/chat/completions", ctx -> complete(ctx, true));
            c.routes.post("/v1/completions", ctx -> complete(ctx, false));
            c.routes.exception(ApiException.class, (e, ctx) -> error(ctx, e));
            c.routes.exception(HttpResponseException.class, (e, ctx) -> error(ctx, new ApiException(e.getStatus(),
                    e.getStatus() >= 500 ? "server_error" : "invalid_request_error", statusCode(e.getStatus()), null,
                    e.getMessage())));
            c.routes.exception(Exception.class, (e, ctx) -> error(ctx, new ApiException(500, "server_error",
                    "internal_error", null, "internal error: " + e)));
        });
    }

    /**
     * Binds (failing at once if the address is taken) and starts loading the model on another thread. The model is
     * closed with the server.
     */
    public static OpenAiServer start(ServerConfig config, Callable<BitNetModel> loader) {
        OpenAiServer s = new OpenAiServer(config);
        s.app.start();
        Thread.ofPlatform().name("bitnet4j-model-loader").daemon(true).start(() -> s.load(loader));
        return s;
    }

    private void load(Callable<BitNetModel> loader) {
        BitNetModel model = null;
        try {
            model = loader.call();
            int ctx = config.contextSize() > 0 ? config.contextSize() : model.defaultContextSize();
            Scheduler scheduler = new Scheduler(model, config.parallel(), ctx, config.batchSize(), config.queueDepth(),
                    metrics);
            loaded.complete(new Loaded(model, scheduler));
        } catch (Throwable t) {
            if (model != null) {
                model.close();
            }
            loaded.completeExceptionally(t);
        }
    }

    /** Waits until the model is loaded; rethrows what made loading fail. */
    public void awaitReady() throws Exception {
        try {
            loaded.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception cause) {
                throw cause;
            }
            throw e;
        }
    }

    public boolean isReady() {
        return loaded.isDone() && !loaded.isCompletedExceptionally();
    }

    /** The port listened on (the chosen one when the config asked for 0). */
    public int port() {
        return app.port();
    }

    public String baseUrl() {
        String h = config.host().contains(":") ? "[" + config.host() + "]" : config.host();
        return "http://" + h + ":" + port();
    }

    /**
     * Graceful stop: new requests get 503, waiting ones are refused, running generations get the configured grace
     * period to finish and are then cancelled (their clients get an error saying so); then the listener closes.
     */
    public Scheduler.ShutdownSummary shutdown() throws InterruptedException {
        stopping = true;
        Scheduler.ShutdownSummary summary = new Scheduler.ShutdownSummary(0, 0, 0);
        Loaded l = loaded.getNow(null);
        if (l != null) {
            summary = l.scheduler.shutdown(config.shutdownGrace());
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (generating.get() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10); // let the request threads write what the scheduler handed them
        }
        app.stop();
        if (l != null) {
            l.model.close();
        }
        return summary;
    }

    @Override
    public void close() throws InterruptedException {
        if (!stopping) {
            shutdown();
        }
    }

    // ---- handlers

    private void authorize(Context ctx) {
        if (config.apiKey() != null && !("Bearer " + config.apiKey()).equals(ctx.header("Authorization"))) {
            throw ApiException.unauthorized();
        }
    }

    private void health(Context ctx) {
        if (!isReady()) {
            throw loaded.isCompletedExceptionally()
                    ? new ApiException(500, "server_error", "load_failed", null, "the model failed to load")
                    : ApiException.unavailable("loading", "the model is loading");
        }
        send(ctx, 200, json.createObjectNode().put("status", "ok"));
    }

    private void metrics(Context ctx) {
        Loaded l = loaded.getNow(null);
        Scheduler.Snapshot s = l == null ? new Scheduler.Snapshot(0, config.queueDepth(), 0, config.parallel(), 0, 0)
                : l.scheduler.snapshot();
        ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.render(s));
    }

    private void models(Context ctx) {
        ObjectNode o = json.createObjectNode();
        o.put("object", "list");
        ObjectNode m = o.putArray("data").addObject();
        m.put("id", config.modelId());
        m.put("object", "model");
        m.put("created", 0);
        m.put("owned_by", "bitnet4j");
        send(ctx, 200, o);
    }

    private Loaded ready() {
        if (stopping) {
            throw ApiException.unavailable("shutting_down", "the server is shutting down");
        }
        Loaded l = loaded.getNow(null);
        if (l == null) {
            throw ApiException.unavailable("loading", "the model is loading; retry when GET /health says ok");
        }
        return l;
    }

    private void complete(Context ctx, boolean chat) throws IOException, InterruptedException {
        Loaded l = ready();
        JsonNode body = readJson(ctx);
        CompletionRequest req = chat ? CompletionRequest.chat(body) : CompletionRequest.completion(body);
        int[] ids = l.model.encode(chat ? l.model.chatPrompt(req.messages()) : req.prompt());
        int ctxSize = l.scheduler.contextSize();
        if (ids.length >= ctxSize) {
            throw new ApiException(400, "invalid_request_error", "context_length_exceeded",
                    chat ? "messages" : "prompt", "the prompt is " + ids.length + " tokens; this server's context is "
                            + ctxSize + " tokens per request (--ctx-size), which must also hold the reply");
        }
        Job job = new Job(ids, req.params());
        OpenAiResponses out = new OpenAiResponses(json, chat, config.modelId(), req.includeUsage());
        generating.incrementAndGet();
        try {
            l.scheduler.submit(job);
            if (req.stream()) {
                stream(ctx, job, out, chat);
            } else {
                answer(ctx, job, out);
            }
        } finally {
            generating.decrementAndGet();
        }
    }

    /**
     * Waits for the whole generation, then answers with one JSON body. While it waits it checks a few times a second
     * that the client is still there, so one that gives up frees its slot at once, as a streaming client does.
     */
    private void answer(Context ctx, Job job, OpenAiResponses out) throws InterruptedException {
        HangUpProbe probe = new HangUpProbe(ctx);
        long nextCheck = System.nanoTime() + HANG_UP_CHECK_NANOS;
        try {
            while (true) {
                Job.Event e = job.poll(HANG_UP_CHECK_NANOS);
                if (System.nanoTime() - nextCheck >= 0) {
                    if (probe.clientHungUp()) {
                        job.cancel();
                        return;
                    }
                    nextCheck = System.nanoTime() + HANG_UP_CHECK_NANOS;
                }
                switch (e) {
                    case null -> { }
                    case Job.Text t -> { }
                    case Job.Done d -> {
                        if (probe.mustCloseConnection()) {
                            ctx.header("Connection", "close");
                        }
                        send(ctx, 200, out.complete(d.result()));
                        return;
                    }
                    case Job.Failed f -> throw f.error();
                }
            }
        } catch (InterruptedException | RuntimeException e) {
            job.cancel();
            throw e;
        }
    }

    /**
     * Server-sent events, one {@code data:} line per chunk, flushed at once; the request thread writes at the
     * client's pace (a blocked write is backpressure, bounded by the idle timeout). A failed write means the client
     * left: the generation is cancelled and its slot freed at the next step.
     */
    private void stream(Context ctx, Job job, OpenAiResponses out, boolean chat) throws InterruptedException {
        var res = ctx.res();
        res.setStatus(200);
        res.setContentType("text/event-stream; charset=utf-8");
        res.setHeader("Cache-Control", "no-cache");
        res.setHeader("X-Accel-Buffering", "no");
        // closing the stream ends the chunked response before this handler returns: shutdown() waits for the
        // handlers, then stops Jetty, which could otherwise cut the final chunk (a client read "closed", not the reason)
        try (OutputStream os = res.getOutputStream()) {
            if (chat) {
                event(os, out.roleChunk());
            }
            while (true) {
                switch (job.take()) {
                    case Job.Text t -> event(os, out.textChunk(t.text()));
                    case Job.Done d -> {
                        event(os, out.finishChunk(d.result().stopReason()));
                        if (out.includesUsage()) {
                            event(os, out.usageChunk(d.result()));
                        }
                        os.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
                        os.flush();
                        return;
                    }
                    case Job.Failed f -> {
                        event(os, errorBody(f.error()));
                        return;
                    }
                }
            }
        } catch (IOException e) {
            job.cancel(); // the client went away
        } catch (InterruptedException | RuntimeException e) {
            job.cancel();
            throw e;
        }
    }

    private void event(OutputStream os, ObjectNode chunk) throws IOException {
        os.write(("data: " + json.writeValueAsString(chunk) + "\n\n").getBytes(StandardCharsets.UTF_8));
        os.flush();
    }

    /**
     * Reads at most the configured number of bytes (whatever Content-Length claims) and parses them. A body over the
     * limit is read on and dropped, up to {@link #DRAIN_BYTES}, before the 413: a server that closes a connection with
     * unread bytes in it makes the kernel reset it, and the client, still sending, then loses the 413 too.
     */
    private JsonNode readJson(Context ctx) throws IOException {
        long limit = config.maxBodyBytes();
        try (InputStream in = ctx.req().getInputStream()) {
            if (ctx.req().getContentLengthLong() > limit) {
                throw tooLarge(limit, in);
            }
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            byte[] chunk = new byte[8192];
            int n;
            while ((n = in.read(chunk)) > 0) {
                buf.write(chunk, 0, n);
                if (buf.size() > limit) {
                    throw tooLarge(limit, in);
                }
            }
            if (buf.size() == 0) {
                throw ApiException.invalid(null, "the request body is empty; send a JSON object");
            }
            try {
                return json.readTree(buf.toByteArray());
            } catch (JsonProcessingException e) {
                throw ApiException.invalid(null, "malformed JSON in the request body: " + e.getOriginalMessage());
            }
        }
    }

    /** Reads and drops what is left of the body (up to {@link #DRAIN_BYTES}); returns the 413 to throw. */
    private static ApiException tooLarge(long limit, InputStream in) throws IOException {
        byte[] sink = new byte[8192];
        long dropped = 0;
        int n;
        while (dropped < DRAIN_BYTES && (n = in.read(sink)) > 0) {
            dropped += n;
        }
        return new ApiException(413, "invalid_request_error", "request_too_large", null,
                "the request body is larger than the limit of " + limit + " bytes");
    }

    private void error(Context ctx, ApiException e) {
        if (ctx.res().isCommitted()) {
            return; // a stream already started; nothing more can be said over HTTP
        }
        if (e.status == 401) {
            ctx.header("WWW-Authenticate", "Bearer");
        }
        send(ctx, e.status, errorBody(e));
    }

    private ObjectNode errorBody(ApiException e) {
        ObjectNode o = json.createObjectNode();
        ObjectNode err = o.putObject("error");
        err.put("message", e.getMessage());
        err.put("type", e.type);
        if (e.param == null) {
            err.putNull("param");
        } else {
            err.put("param", e.param);
        }
        err.put("code", e.code);
        return o;
    }

    private static String statusCode(int status) {
        return switch (status) {
            case 404 -> "not_found";
            case 405 -> "method_not_allowed";
            case 413 -> "request_too_large";
            default -> "http_" + status;
        };
    }

    private void send(Context ctx, int status, ObjectNode body) {
        try {
            ctx.status(status).contentType("application/json").result(json.writeValueAsBytes(body));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] resource(String name) {
        try (InputStream in = OpenAiServer.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("resource " + name + " is missing from the jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read resource " + name, e);
        }
    }

    /** For tests: the scheduler's numbers once loaded. */
    Scheduler.Snapshot snapshot() throws Exception {
        return loaded.get(30, TimeUnit.SECONDS).scheduler.snapshot();
    }
}
