package io.bitnet4j.server;

import io.bitnet4j.generate.BitNetModel;
import java.time.Duration;

/**
 * How the server listens and schedules.
 *
 * @param host          address to bind; 127.0.0.1 unless the user asks for another
 * @param port          TCP port; 0 = any free port
 * @param parallel      slots: sequences decoded together, each with its own KV cache
 * @param queueDepth    requests that may wait for a slot; more get 503
 * @param contextSize   tokens per slot (KV cache); 0 = the model's default
 * @param batchSize     prompt tokens evaluated per forward pass
 * @param apiKey        the bearer token /v1 requests must carry; null = none needed
 * @param modelId       the name /v1/models reports and responses echo
 * @param maxBodyBytes  largest request body accepted (413 beyond)
 * @param idleTimeout   a connection that neither sends nor accepts data for this long is closed (slow clients)
 * @param shutdownGrace how long in-flight generations may run on after shutdown begins before they are cancelled
 */
public record ServerConfig(String host, int port, int parallel, int queueDepth, int contextSize, int batchSize,
                           String apiKey,
                           String modelId, long maxBodyBytes, Duration idleTimeout, Duration shutdownGrace) {
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 8080;

    public ServerConfig {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("host must not be empty");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be in 0..65535, got " + port);
        }
        if (parallel < 1) {
            throw new IllegalArgumentException("parallel slots must be at least 1, got " + parallel);
        }
        if (queueDepth < 0) {
            throw new IllegalArgumentException("queue depth must be >= 0, got " + queueDepth);
        }
        if (contextSize < 0) {
            throw new IllegalArgumentException("context size must be >= 0 (0 = the model's), got " + contextSize);
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
        if (apiKey != null && apiKey.isEmpty()) {
            apiKey = null;
        }
        if (modelId == null || modelId.isBlank()) {
            throw new IllegalArgumentException("model id must not be empty");
        }
        if (maxBodyBytes < 1024) {
            throw new IllegalArgumentException("body size limit must be at least 1024 bytes, got " + maxBodyBytes);
        }
        if (idleTimeout.isNegative() || idleTimeout.isZero() || shutdownGrace.isNegative()) {
            throw new IllegalArgumentException("timeouts must be positive");
        }
    }

    /**
     * Loopback, port 8080, 1 slot, queue of 16, the model's context, batches of 128, no key, 1 MiB bodies, 300 s
     * idle, 10 s grace.
     */
    public static ServerConfig defaults(String modelId) {
        return new ServerConfig(DEFAULT_HOST, DEFAULT_PORT, 1, 16, 0, BitNetModel.DEFAULT_BATCH, null, modelId,
                1 << 20, Duration.ofSeconds(300), Duration.ofSeconds(10));
    }

    public ServerConfig withPort(int p) {
        return new ServerConfig(host, p, parallel, queueDepth, contextSize, batchSize, apiKey, modelId, maxBodyBytes,
                idleTimeout, shutdownGrace);
    }

    public ServerConfig withHost(String h) {
        return new ServerConfig(h, port, parallel, queueDepth, contextSize, batchSize, apiKey, modelId, maxBodyBytes,
                idleTimeout, shutdownGrace);
    }

    public ServerConfig withSlots(int parallelSlots, int queue, int ctx) {
        return new ServerConfig(host, port, parallelSlots, queue, ctx, batchSize, apiKey, modelId, maxBodyBytes,
                idleTimeout, shutdownGrace);
    }

    public ServerConfig withApiKey(String key) {
        return new ServerConfig(host, port, parallel, queueDepth, contextSize, batchSize, key, modelId, maxBodyBytes,
                idleTimeout, shutdownGrace);
    }

    public ServerConfig withLimits(long bodyBytes, Duration idle, Duration grace) {
        return new ServerConfig(host, port, parallel, queueDepth, contextSize, batchSize, apiKey, modelId, bodyBytes,
                idle, grace);
    }
}
