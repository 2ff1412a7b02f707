package io.bitnet4j.tensor;

import io.bitnet4j.model.WorkerPool;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of one parallel region of the compute pool with nothing to do: the caller publishes the task, every
 * thread runs its (empty) slice, the caller waits for them. A decode step of 2B-4T runs 151 such regions, so 151 times
 * this score is what synchronising costs a token when the work is balanced ({@code bench --pool-stats} shows the
 * waiting that imbalance adds). Run: {@code java -jar benchmarks.jar HandOffBench}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class HandOffBench {
    @Param({"2"})
    public int threads;

    private WorkerPool pool;
    private final WorkerPool.Slices nothing = (index, count) -> { };

    @Setup(Level.Trial)
    public void setUp() {
        pool = new WorkerPool(threads);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
    }

    @Benchmark
    public void emptyRegion() {
        pool.run(nothing);
    }
}
