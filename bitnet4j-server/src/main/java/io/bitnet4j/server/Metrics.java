package io.bitnet4j.server;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/** Counters and gauges behind {@code GET /metrics}, written in the Prometheus text format. */
final class Metrics {
    private final Map<String, LongAdder> requests = new TreeMap<>();
    final LongAdder promptTokens = new LongAdder();
    final LongAdder promptTokensEvaluated = new LongAdder();
    final LongAdder generatedTokens = new LongAdder();
    final LongAdder rejectedQueueFull = new LongAdder();
    final LongAdder cancelledDisconnect = new LongAdder();
    final AtomicLong decodeSteps = new AtomicLong();
    private final RecentRate tokenRate = new RecentRate(11);

    /** Counts a finished HTTP exchange by endpoint and status. */
    void request(String endpoint, int status) {
        String key = "endpoint=\"" + endpoint + "\",status=\"" + status + "\"";
        synchronized (requests) {
            requests.computeIfAbsent(key, k -> new LongAdder()).increment();
        }
    }

    void generated(int n, long nowNanos) {
        generatedTokens.add(n);
        tokenRate.add(n, nowNanos);
    }

    double tokensPerSecond() {
        return tokenRate.perSecond(System.nanoTime());
    }

    String render(Scheduler.Snapshot s) {
        StringBuilder b = new StringBuilder();
        b.append("# HELP bitnet4j_requests_total HTTP requests answered, by endpoint and status.\n");
        b.append("# TYPE bitnet4j_requests_total counter\n");
        synchronized (requests) {
            requests.forEach((k, v) -> b.append("bitnet4j_requests_total{").append(k).append("} ").append(v.sum())
                    .append('\n'));
        }
        counter(b, "bitnet4j_requests_rejected_total", "Requests refused because the queue was full.",
                rejectedQueueFull.sum());
        counter(b, "bitnet4j_requests_cancelled_total", "Generations cancelled because the client went away.",
                cancelledDisconnect.sum());
        counter(b, "bitnet4j_prompt_tokens_total", "Prompt tokens received (tokens in).", promptTokens.sum());
        counter(b, "bitnet4j_prompt_tokens_evaluated_total",
                "Prompt tokens evaluated (the rest came from a slot's KV cache).", promptTokensEvaluated.sum());
        counter(b, "bitnet4j_generated_tokens_total", "Tokens generated (tokens out).", generatedTokens.sum());
        counter(b, "bitnet4j_decode_steps_total", "Batched decode steps.", decodeSteps.get());
        gauge(b, "bitnet4j_generated_tokens_per_second", "Tokens generated per second over the last 10 s.",
                tokensPerSecond());
        gauge(b, "bitnet4j_queue_depth", "Requests waiting for a slot.", s.queued());
        gauge(b, "bitnet4j_queue_capacity", "Requests that may wait for a slot.", s.queueCapacity());
        gauge(b, "bitnet4j_slots_busy", "Slots generating.", s.busySlots());
        gauge(b, "bitnet4j_slots_total", "Slots (--parallel).", s.slots());
        gauge(b, "bitnet4j_kv_cache_tokens", "KV-cache positions in use, all slots.", s.kvUsed());
        gauge(b, "bitnet4j_kv_cache_capacity_tokens", "KV-cache positions, all slots.", s.kvCapacity());
        gauge(b, "bitnet4j_kv_cache_usage_ratio", "KV-cache positions in use / capacity.",
                s.kvCapacity() == 0 ? 0 : s.kvUsed() / (double) s.kvCapacity());
        return b.toString();
    }

    private static void counter(StringBuilder b, String name, String help, long v) {
        b.append("# HELP ").append(name).append(' ').append(help).append('\n');
        b.append("# TYPE ").append(name).append(" counter\n");
        b.append(name).append(' ').append(v).append('\n');
    }

    private static void gauge(StringBuilder b, String name, String help, double v) {
        b.append("# HELP ").append(name).append(' ').append(help).append('\n');
        b.append("# TYPE ").append(name).append(" gauge\n");
        b.append(name).append(' ');
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            b.append((long) v);
        } else {
            b.append(v);
        }
        b.append('\n');
    }
}
