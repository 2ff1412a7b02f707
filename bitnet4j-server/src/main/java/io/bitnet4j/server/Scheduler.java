package io.bitnet4j.server;

import io.bitnet4j.generate.BitNetModel;
import io.bitnet4j.generate.GeneratedToken;
import io.bitnet4j.generate.Generation;
import io.bitnet4j.generate.Session;
import io.bitnet4j.generate.StopReason;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Continuous batching over a fixed set of slots, as llama-server's: each slot is a {@link Session} with its own KV
 * cache. One thread loops: it gives free slots to waiting requests, advances every running generation by one token
 * with a single {@link Generation#stepAll} evaluation and hands each token to its request, then evaluates one batch of
 * the oldest prompt still being read (chunked prefill). Requests join and leave the running batch between steps.
 */
final class Scheduler implements AutoCloseable {
    /** Numbers for /metrics, read from any thread. */
    record Snapshot(int queued, int queueCapacity, int busySlots, int slots, long kvUsed, long kvCapacity) {}

    /** What a shutdown did. */
    record ShutdownSummary(int finished, int cancelled, int rejectedWaiting) {
        @Override
        public String toString() {
            return finished + " in-flight request(s) finished, " + cancelled + " cancelled after the grace period, "
                    + rejectedWaiting + " waiting request(s) refused";
        }
    }

    private static final class Slot {
        final Session session;
        Job job;
        /** Null while the job's prompt is being evaluated. */
        Generation generation;
        /** Admission order: prompts are evaluated first come, first served. */
        long admitted;

        Slot(Session session) {
            this.session = session;
        }
    }

    private final Metrics metrics;
    private final Slot[] slots;
    private final int contextSize;
    private final BlockingQueue<Job> waiting;
    private final int queueCapacity;
    private final Thread thread;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean accepting = true;
    private volatile boolean draining;
    private volatile boolean cancelRunning;
    private volatile int busy;
    private volatile long kvUsed;
    private long admissions;
    private int finishedWhileDraining;
    private int cancelledWhileDraining;

    Scheduler(BitNetModel model, int parallel, int contextSize, int batchSize, int queueDepth, Metrics metrics) {
        this.metrics = metrics;
        this.contextSize = contextSize;
        this.slots = new Slot[parallel];
        for (int i = 0; i < parallel; i++) {
            slots[i] = new Slot(model.newSession(contextSize, batchSize));
        }
        this.queueCapacity = queueDepth;
        // a zero-depth queue still hands requests over to the loop; admission below checks for a free slot first
        this.waiting = new ArrayBlockingQueue<>(Math.max(1, queueDepth + parallel));
        this.thread = Thread.ofPlatform().name("bitnet4j-scheduler").daemon(true).unstarted(this::loop);
        thread.start();
    }

    int contextSize() {
        return contextSize;
    }

    /**
     * Queues a request. Refused with 503 when the queue is full (the slots are all busy and {@code --queue} requests
     * already wait) or the server is shutting down.
     */
    void submit(Job job) {
        synchronized (waiting) { // with shutdown's drain: no job slips in after the loop may have ended
            if (!accepting) {
                throw ApiException.unavailable("shutting_down", "the server is shutting down");
            }
            int free = slots.length - busy;
            if (waiting.size() >= queueCapacity + Math.max(0, free)) {
                metrics.rejectedQueueFull.increment();
                throw ApiException.unavailable("queue_full", "all " + slots.length + " slots are busy and "
                        + queueCapacity + " request(s) are already waiting; retry later");
            }
            waiting.add(job);
        }
    }

    Snapshot snapshot() {
        return new Snapshot(Math.max(0, waiting.size() - Math.max(0, slots.length - busy)), queueCapacity, busy,
                slots.length, kvUsed, (long) slots.length * contextSize);
    }

    private void loop() {
        try {
            while (true) {
                if (cancelRunning) {
                    for (Slot s : slots) {
                        if (s.job != null) {
                            s.job.cancel();
                        }
                    }
                }
                admitWaiting();
                if (busy == 0) {
                    if (draining && waiting.isEmpty()) {
                        return;
                    }
                    Job next = waiting.poll(50, TimeUnit.MILLISECONDS);
                    if (next != null) {
                        admit(next);
                    }
                    continue;
                }
                step();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            failAll(t);
        } finally {
            stopped.countDown();
        }
    }

    private void admitWaiting() {
        while (busy < slots.length) {
            Job job = waiting.poll();
            if (job == null) {
                return;
            }
            admit(job);
        }
    }

    /**
     * Gives the job the free slot whose cache shares the longest prefix with its prompt. The prompt is evaluated
     * later, a batch per loop turn ({@link #prefillStep}).
     */
    private void admit(Job job) {
        if (draining) {
            job.post(new Job.Failed(ApiException.unavailable("shutting_down", "the server is shutting down")));
            return;
        }
        if (job.isCancelled()) {
            metrics.cancelledDisconnect.increment();
            return;
        }
        Slot best = null;
        int bestCommon = -1;
        for (Slot s : slots) {
            if (s.job == null) {
                int c = commonPrefix(s.session.tokens(), job.promptIds);
                if (c > bestCommon) {
                    best = s;
                    bestCommon = c;
                }
            }
        }
        best.job = job;
        best.admitted = admissions++;
        busy++;
        job.assign(best.session);
        metrics.promptTokens.add(job.promptIds.length);
    }

    /** One loop turn: a decode step for every running generation, then one batch of the oldest waiting prompt. */
    private void step() {
        decodeStep();
        prefillStep();
        publishKv();
    }

    private void decodeStep() {
        List<Slot> running = new ArrayList<>(slots.length);
        List<Generation> batch = new ArrayList<>(slots.length);
        for (Slot s : slots) {
            if (s.generation != null) {
                running.add(s);
                batch.add(s.generation);
            }
        }
        if (batch.isEmpty()) {
            return;
        }
        GeneratedToken[] tokens = Generation.stepAll(batch);
        metrics.decodeSteps.incrementAndGet();
        int produced = 0;
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] != null) {
                produced++;
                if (!tokens[i].text().isEmpty()) {
                    running.get(i).job.post(new Job.Text(tokens[i].text()));
                }
            }
        }
        metrics.generated(produced, System.nanoTime());
        for (Slot s : running) {
            finishIfDone(s);
        }
    }

    /**
     * Evaluates one batch ({@code --batch-size} tokens) of the prompt of the slot admitted first among those still
     * evaluating theirs, so a long prompt delays the running generations by one batch per token instead of by its
     * whole length; when only its last token is left, its generation starts (that token's logits give the first
     * reply token).
     */
    private void prefillStep() {
        Slot s = null;
        for (Slot c : slots) {
            if (c.job != null && c.generation == null && (s == null || c.admitted < s.admitted)) {
                s = c;
            }
        }
        if (s == null) {
            return;
        }
        Job job = s.job;
        if (job.isCancelled()) {
            if (draining) {
                cancelledWhileDraining++;
                release(s, new Job.Failed(ApiException.unavailable("shutting_down",
                        "the server is shutting down; the request was cancelled")));
            } else {
                metrics.cancelledDisconnect.increment();
                release(s, new Job.Failed(ApiException.unavailable("cancelled", "the request was cancelled")));
            }
            return;
        }
        try {
            int evaluated = s.session.prefillNextBatch(job.promptIds);
            metrics.promptTokensEvaluated.add(evaluated);
            if (evaluated > 0) {
                return;
            }
            s.generation = s.session.start(job.promptIds, job.params);
        } catch (IllegalArgumentException e) {
            release(s, new Job.Failed(ApiException.invalid("messages", e.getMessage())));
            return;
        }
        if (job.isCancelled()) {
            s.session.cancel(); // the start cleared a cancel that raced it
        }
        metrics.promptTokensEvaluated.add(s.generation.result().timings().promptTokens());
        finishIfDone(s);
    }

    private void finishIfDone(Slot s) {
        if (s.generation.hasNext()) {
            return;
        }
        var result = s.generation.result();
        if (result.stopReason() == StopReason.CANCELLED) {
            if (draining) {
                cancelledWhileDraining++;
                release(s, new Job.Failed(ApiException.unavailable("shutting_down",
                        "the server is shutting down; the generation was cancelled")));
                return;
            }
            metrics.cancelledDisconnect.increment();
        } else if (draining) {
            finishedWhileDraining++;
        }
        release(s, new Job.Done(result));
    }

    private void release(Slot s, Job.Event last) {
        s.job.post(last);
        s.job = null;
        s.generation = null;
        busy--;
    }

    private void publishKv() {
        long used = 0;
        for (Slot s : slots) {
            used += s.session.length();
        }
        kvUsed = used;
    }

    /** A failure in the loop itself (a bug or out of memory): every request gets a 500 instead of hanging. */
    private void failAll(Throwable t) {
        ApiException e = new ApiException(500, "server_error", "internal_error", null,
                "generation failed: " + t);
        for (Slot s : slots) {
            if (s.job != null) {
                release(s, new Job.Failed(e));
            }
        }
        synchronized (waiting) {
            accepting = false;
            Job j;
            while ((j = waiting.poll()) != null) {
                j.post(new Job.Failed(e));
            }
        }
        t.printStackTrace();
    }

    /**
     * Stops taking requests, refuses those still waiting, lets running generations go on for up to {@code grace},
     * then cancels what is left and waits for the loop to end.
     */
    ShutdownSummary shutdown(Duration grace) throws InterruptedException {
        int refused = 0;
        Job j;
        synchronized (waiting) {
            accepting = false;
            while ((j = waiting.poll()) != null) {
                j.post(new Job.Failed(ApiException.unavailable("shutting_down", "the server is shutting down")));
                refused++;
            }
        }
        draining = true;
        if (!stopped.await(grace.toMillis(), TimeUnit.MILLISECONDS)) {
            cancelRunning = true;
            stopped.await();
        }
        return new ShutdownSummary(finishedWhileDraining, cancelledWhileDraining, refused);
    }

    @Override
    public void close() throws InterruptedException {
        shutdown(Duration.ZERO);
    }

    static int commonPrefix(int[] a, int[] b) {
        int n = Math.min(a.length, b.length);
        int i = 0;
        while (i < n && a[i] == b[i]) {
            i++;
        }
        return i;
    }
}
