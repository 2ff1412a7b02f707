package io.bitnet4j.server;

import io.bitnet4j.generate.GenerationParams;
import io.bitnet4j.generate.GenerationResult;
import io.bitnet4j.generate.Session;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * One generation request as the {@link Scheduler} sees it. The scheduler thread posts events (text pieces, then exactly
 * one terminal event); the HTTP thread that owns the request takes them and writes them out at the client's pace, so a
 * slow client never holds up the batch. Cancelling (client gone, shutdown) frees the slot at the next step.
 */
final class Job {
    /** What the scheduler reports to the request's owner. */
    sealed interface Event {}

    /** Text released by one generated token (never empty). */
    record Text(String text) implements Event {}

    /** The generation ended; its tokens, text, stop reason and timings. */
    record Done(GenerationResult result) implements Event {}

    /** The generation could not run or was aborted. */
    record Failed(ApiException error) implements Event {}

    final int[] promptIds;
    final GenerationParams params;
    final long submittedNanos = System.nanoTime();
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private volatile boolean cancelled;
    private volatile Session session;

    Job(int[] promptIds, GenerationParams params) {
        this.promptIds = promptIds;
        this.params = params;
    }

    /** Stops the generation at its next step, or keeps it from starting. Any thread. */
    void cancel() {
        cancelled = true;
        Session s = session;
        if (s != null) {
            s.cancel();
        }
    }

    boolean isCancelled() {
        return cancelled;
    }

    /** Called by the scheduler when the job gets a slot (before its prompt is evaluated). */
    void assign(Session s) {
        session = s;
    }

    void post(Event e) {
        events.add(e);
    }

    /** The next event; the scheduler ends every job it accepted with {@link Done} or {@link Failed}. */
    Event take() throws InterruptedException {
        return events.take();
    }

    /** The next event, or null if none comes within {@code nanos}. */
    Event poll(long nanos) throws InterruptedException {
        return events.poll(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }
}
