package io.bitnet4j.cli;

import io.bitnet4j.server.OpenAiServer;
import io.bitnet4j.server.ServerConfig;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bitnet4j serve}: an OpenAI-compatible HTTP server (as llama-server) with continuous batching over
 * {@code --parallel} slots and a web chat page. Ctrl-C / SIGTERM stops it gracefully.
 */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Serve the model over an OpenAI-compatible HTTP API (/v1/chat/completions, /v1/completions, "
                + "/v1/models, /health, /metrics) with a web chat page at /.")
final class ServeCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--host", paramLabel = "ADDR", description = "Address to listen on. Default: ${DEFAULT-VALUE} "
            + "(this machine only).")
    String host = ServerConfig.DEFAULT_HOST;

    @Option(names = "--port", paramLabel = "N", description = "Port to listen on (0 = any free one). "
            + "Default: ${DEFAULT-VALUE}.")
    int port = ServerConfig.DEFAULT_PORT;

    @Option(names = {"-np", "--parallel"}, paramLabel = "N",
            description = "Slots: requests generated together, batched into one evaluation per step; each has its "
                    + "own KV cache of --ctx-size tokens. Default: ${DEFAULT-VALUE}.")
    int parallel = 1;

    @Option(names = "--queue", paramLabel = "N", description = "Requests that may wait for a free slot; beyond it "
            + "requests get 503. Default: ${DEFAULT-VALUE}.")
    int queue = 16;

    @Option(names = "--api-key", paramLabel = "KEY", description = "Require 'Authorization: Bearer KEY' on /v1 "
            + "requests.")
    String apiKey;

    @Option(names = {"-a", "--alias"}, paramLabel = "NAME",
            description = "Model name for /v1/models and responses. Default: the model file's name.")
    String alias;

    @Option(names = "--timeout", paramLabel = "SECONDS", description = "Close connections idle this long (slow "
            + "clients). Default: ${DEFAULT-VALUE}.")
    int timeoutSeconds = 300;

    @Option(names = "--shutdown-grace", paramLabel = "SECONDS", description = "On Ctrl-C/SIGTERM, let running "
            + "generations finish for this long before cancelling them. Default: ${DEFAULT-VALUE}.")
    int graceSeconds = 10;

    @Option(names = "--max-body", paramLabel = "BYTES", description = "Largest request body accepted. "
            + "Default: ${DEFAULT-VALUE}.")
    long maxBody = 1 << 20;

    @Spec
    CommandSpec spec;

    /** Counted down by Ctrl-C / SIGTERM (the shutdown hook) or by a test. */
    final CountDownLatch stopRequested = new CountDownLatch(1);
    private final CountDownLatch stopped = new CountDownLatch(1);

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        if (timeoutSeconds < 1 || graceSeconds < 0) {
            throw new IllegalArgumentException("--timeout must be >= 1 and --shutdown-grace >= 0");
        }
        String id = alias != null ? alias
                : modelOptions.modelFileName() != null ? modelOptions.modelFileName() : "bitnet4j-demo";
        int ctx = modelOptions.contextSize != null ? modelOptions.contextSize : 0;
        ServerConfig config = new ServerConfig(host, port, parallel, queue, ctx, modelOptions.batchSize, apiKey, id,
                maxBody,
                Duration.ofSeconds(timeoutSeconds), Duration.ofSeconds(graceSeconds));
        if (!InetAddress.getByName(host).isLoopbackAddress() && apiKey == null) {
            err.println("warning: listening on " + host + " without --api-key: anyone who can reach it may use it");
        }
        OpenAiServer server = OpenAiServer.start(config, () -> modelOptions.load(err));
        Thread hook = new Thread(() -> {
            stopRequested.countDown();
            try {
                stopped.await(graceSeconds + 15L, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "bitnet4j-serve-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            err.println("bitnet4j serve: listening on " + server.baseUrl() + " (chat page at /, API at /v1), "
                    + "loading the model...");
            err.flush();
            try {
                server.awaitReady();
            } catch (Exception e) {
                server.shutdown();
                throw e;
            }
            err.println("bitnet4j serve: ready: model '" + id + "', " + parallel + " slot(s), queue " + queue
                    + (apiKey != null ? ", API key required" : "") + ". Ctrl-C stops.");
            err.flush();
            stopRequested.await();
            err.println("bitnet4j serve: shutting down (up to " + graceSeconds + " s for running requests)...");
            err.flush();
            var summary = server.shutdown();
            err.println("bitnet4j serve: stopped: " + summary + ".");
            err.flush();
            return 0;
        } finally {
            stopped.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the JVM is exiting through the hook; nothing to remove
            }
        }
    }
}
