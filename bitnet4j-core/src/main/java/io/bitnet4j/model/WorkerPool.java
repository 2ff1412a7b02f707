package io.bitnet4j.model;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed team of threads for data-parallel kernels. A decode step runs ~200 matmuls, each too short for an executor
 * hand-off, so workers spin briefly on a generation counter before parking, and the caller thread takes slice 0
 * itself. {@link #run} allocates nothing.
 */
public final class WorkerPool implements AutoCloseable {
    /** Work split into {@code count} slices; slice {@code index} is one thread's share. */
    @FunctionalInterface
    public interface Slices {
        void run(int index, int count);
    }

    private static final long SPIN_NANOS = 200_000;

    private final Thread[] workers;
    private final AtomicInteger pending = new AtomicInteger();
    private volatile Slices task;
    private volatile long generation;
    private volatile boolean closed;
    private volatile Throwable failure;
    /** Parallel regions run so far, and the time the caller spent in them waiting for the others to finish. */
    private volatile long handOffs;
    private volatile long callerWaitNanos;

    public WorkerPool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            int index = i + 1;
            workers[i] = Thread.ofPlatform().daemon().name("bitnet4j-worker-" + index).start(() -> loop(index));
        }
    }

    public int threads() {
        return workers.length + 1;
    }

    /** Runs every slice, the caller doing slice 0, and returns when all are done. Not reentrant. */
    public void run(Slices slices) {
        int n = threads();
        if (n == 1) {
            slices.run(0, 1);
            return;
        }
        task = slices;
        pending.set(n - 1);
        generation++; // publishes task and pending to the workers
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
        Throwable mine = null;
        try {
            slices.run(0, n);
        } catch (Throwable t) {
            mine = t;
        }
        long waitFrom = System.nanoTime();
        while (pending.get() != 0) {
            Thread.onSpinWait();
        }
        callerWaitNanos += System.nanoTime() - waitFrom; // one writer: the caller (run is not reentrant)
        handOffs++;
        task = null;
        Throwable theirs = failure;
        failure = null;
        if (mine != null || theirs != null) {
            Throwable t = mine != null ? mine : theirs;
            if (t instanceof RuntimeException re) {
                throw re;
            }
            if (t instanceof Error e) {
                throw e;
            }
            throw new IllegalStateException(t);
        }
    }

    /**
     * What synchronising has cost so far: the parallel regions run with more than one thread, and the nanoseconds
     * the calling thread spent after its own slice waiting for the others (their wake-up plus any imbalance).
     */
    public record Stats(long handOffs, long callerWaitNanos) {}

    public Stats stats() {
        return new Stats(handOffs, callerWaitNanos);
    }

    private void loop(int index) {
        long seen = 0;
        while (true) {
            long start = System.nanoTime();
            while (generation == seen && !closed) {
                if (System.nanoTime() - start < SPIN_NANOS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            if (closed) {
                return;
            }
            seen = generation;
            try {
                task.run(index, threads());
            } catch (Throwable t) {
                failure = t;
            } finally {
                pending.decrementAndGet();
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
    }
}
