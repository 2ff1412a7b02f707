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
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The 2B-4T decode shapes streamed from memory, so nothing stays in cache:
 * {@code i2s}: one 6912 x 2560 I2_S product (the FFN down projection) per op, cycling through 64 such matrices
 * (283 MB); {@code f16Head}: the whole 128256 x 2560 F16 output head (657 MB) per op.
 * Scores are us/op: I2_S G weights/s = 6912*2560*tokens / (1000 * us/op); F16 head GB/s = 656.7e6 / (1000 * us/op).
 * {@link StreamThroughput} prints those figures directly, by CPU time as well as wall time.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx2g"})
public class StreamBench {
    static final int FFN = 6912;
    static final int HIDDEN = 2560;
    static final int VOCAB = 128256;
    static final int I2S_MATRICES = 64;

    @Param({"1"})
    public int tokens;

    private Arena arena;
    private WeightMatrix[] i2s;
    private WeightMatrix head;
    private Activations xI8;
    private Activations xF16;
    private float[] outI2s;
    private float[] outHead;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        Random rnd = new Random(2);
        arena = Arena.ofShared();
        byte[] bytes = BenchData.weights(GgmlType.I2_S, FFN, HIDDEN, rnd);
        i2s = new WeightMatrix[I2S_MATRICES];
        for (int m = 0; m < I2S_MATRICES; m++) {
            i2s[m] = WeightMatrix.of("ffn_down." + m, GgmlType.I2_S, new long[] {FFN, HIDDEN},
                    BenchData.offHeap(arena, bytes));
        }
        long headBytes = GgmlType.F16.byteSize(HIDDEN, VOCAB);
        MemorySegment headData = arena.allocate(headBytes, 64);
        for (long i = 0; i < headBytes / 2; i++) {
            headData.set(Numerics.LE_SHORT, 2 * i, Float.floatToFloat16((float) (rnd.nextGaussian() * 0.05)));
        }
        head = WeightMatrix.of("token_embd", GgmlType.F16, new long[] {HIDDEN, VOCAB}, headData);
        xI8 = new Activations(ActivationFormat.I8_ROW, FFN, tokens);
        xF16 = new Activations(ActivationFormat.F16, HIDDEN, tokens);
        for (int k = 0; k < tokens; k++) {
            float[] row = new float[FFN];
            for (int i = 0; i < FFN; i++) {
                row[i] = (float) rnd.nextGaussian();
            }
            xI8.quantize(row, 0, k);
            xF16.quantize(row, 0, k);
        }
        xI8.setRows(tokens);
        xF16.setRows(tokens);
        outI2s = new float[HIDDEN * tokens];
        outHead = new float[VOCAB * tokens];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    WeightMatrix[] i2sMatrices() {
        return i2s;
    }

    @Benchmark
    public float[] i2s() {
        WeightMatrix m = i2s[next];
        next = (next + 1) % I2S_MATRICES;
        m.matMul(xI8, outI2s, HIDDEN, 0, HIDDEN);
        return outI2s;
    }

    @Benchmark
    public float[] f16Head() {
        head.matMul(xF16, outHead, VOCAB, 0, VOCAB);
        return outHead;
    }
}
