package io.bitnet4j.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One matrix-vector product per type, scalar reference against the fast kernel, on a 2560 x 256 matrix (small
 * enough to stay in L2, so this measures compute, not memory), one token. Scores are ns per weight (ns/op, one
 * op = one weight).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class MatMulBench {
    static final int IN = 2560;
    static final int OUT = 256;

    @Param({"I2_S", "TQ2_0", "TQ1_0", "F16", "BF16", "F32", "Q8_0", "Q6_K"})
    public String type;

    private Arena arena;
    private BaseMatrix matrix;
    private Activations x;
    private float[] out;

    @Setup(Level.Trial)
    public void setUp() {
        GgmlType t = GgmlType.valueOf(type);
        Random rnd = new Random(1);
        arena = Arena.ofShared();
        MemorySegment data = BenchData.offHeap(arena, BenchData.weights(t, IN, OUT, rnd));
        matrix = (BaseMatrix) WeightMatrix.of(type, t, new long[] {IN, OUT}, data);
        x = BenchData.oneToken(matrix.activationFormat(), IN, rnd);
        out = new float[OUT];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    @OperationsPerInvocation(IN * OUT)
    public float[] reference() {
        matrix.matMulReference(x, out, OUT, 0, OUT);
        return out;
    }

    @Benchmark
    @OperationsPerInvocation(IN * OUT)
    public float[] vector() {
        matrix.matMul(x, out, OUT, 0, OUT);
        return out;
    }
}
