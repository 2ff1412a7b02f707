package io.bitnet4j.tensor;

import java.lang.foreign.Arena;
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
 * One token times each 2B-4T weight shape (in x out: attention q/o 2560x2560, k/v 2560x640, gate/up 2560x6912, down
 * 6912x2560, the tied head 2560x128256), one thread, the matrix cycling through copies that together exceed the
 * caches, so the weights come from memory as in decoding. Score: microseconds per product; G weights/s =
 * in * out / (1000 * score), GB/s = weight bytes / (1000 * score), GOPS (a multiply and an add a weight) = twice the
 * weights/s.
 * Run: {@code java -jar benchmarks.jar ShapeBench -p type=I2_S} (add {@code -jvmArgsAppend "--add-modules
 * jdk.incubator.vector -Dbitnet4j.ternaryLut=false"} for the I2_S kernel instead of the lookup one).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx3g"})
public class ShapeBench {
    /** Copies of the matrix cycled through: at least 256 MB of weights in all. */
    private static final long MIN_BYTES = 256L << 20;

    @Param({"2560x2560", "2560x640", "2560x6912", "6912x2560", "2560x128256"})
    public String shape;

    @Param({"I2_S"})
    public String type;

    private Arena arena;
    private WeightMatrix[] copies;
    private Activations x;
    private float[] out;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        String[] s = shape.split("x");
        int in = Integer.parseInt(s[0]);
        int rows = Integer.parseInt(s[1]);
        GgmlType t = GgmlType.valueOf(type);
        Random rnd = new Random(5);
        byte[] bytes = BenchData.weights(t, in, rows, rnd);
        int n = (int) Math.max(1, (MIN_BYTES + bytes.length - 1) / bytes.length);
        arena = Arena.ofShared();
        copies = new WeightMatrix[n];
        for (int c = 0; c < n; c++) {
            copies[c] = WeightMatrix.of("w" + c, t, new long[] {in, rows}, BenchData.offHeap(arena, bytes));
            copies[c].prepare(0, 1);
        }
        x = BenchData.oneToken(copies[0].activationFormat(), in, rnd);
        out = new float[rows];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public float[] matVec() {
        WeightMatrix m = copies[next];
        next = (next + 1) % copies.length;
        m.matMul(x, out, out.length, 0, out.length);
        return out;
    }
}
