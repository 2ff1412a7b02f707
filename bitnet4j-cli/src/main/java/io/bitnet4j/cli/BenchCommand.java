package io.bitnet4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.bitnet4j.generate.BitNetModel;
import io.bitnet4j.model.WorkerPool;
import io.bitnet4j.generate.Session;
import io.bitnet4j.gguf.GgufFile;
import io.bitnet4j.gguf.TensorInfo;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bitnet4j bench}: llama-bench's tests and table. A prompt test ({@code ppN}) evaluates N random tokens as
 * batches into an empty cache; a generation test ({@code tgN}) evaluates N tokens one at a time. Each test runs once
 * unmeasured to warm up (repeated, at most 4 times, until two runs agree within 5%: the JIT compiles each test's
 * kernels), then {@code -r} times; the table shows mean ± sample standard deviation of tokens/s.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Measure prompt processing and generation speed, as llama-bench does.")
final class BenchCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, paramLabel = "FILE", split = ",",
            description = "GGUF model(s); repeat or comma-separate. Default: the demo model.")
    List<Path> models = new ArrayList<>();

    @Mixin
    HubOptions hub = new HubOptions();

    @Option(names = {"-p", "--n-prompt"}, paramLabel = "N", split = ",", description = "Prompt sizes. Default: 512.")
    List<Integer> prompts = new ArrayList<>(List.of(512));

    @Option(names = {"-n", "--n-gen"}, paramLabel = "N", split = ",", description = "Generation lengths. Default: 128.")
    List<Integer> gens = new ArrayList<>(List.of(128));

    @Option(names = {"-t", "--threads"}, paramLabel = "N", split = ",",
            description = "Thread counts. Default: the number of available processors.")
    List<Integer> threads = new ArrayList<>(List.of(Runtime.getRuntime().availableProcessors()));

    @Option(names = {"-b", "--batch-size"}, paramLabel = "N", description = "Prompt batch size. Default: 512.")
    int batch = 512;

    @Option(names = {"-r", "--repetitions"}, paramLabel = "N", description = "Measured runs per test. Default: 5.")
    int repetitions = 5;

    @Option(names = "--json", description = "Print a JSON array (llama-bench's field names) instead of the table.")
    boolean json;

    @Option(names = "--csv", description = "Print CSV (llama-bench's field names) instead of the table.")
    boolean csv;

    @Option(names = "--roofline", description = "Measure memory bandwidth and show the fraction of the "
            + "bandwidth limit each generation figure reaches.")
    boolean roofline;

    @Option(names = "--pool-stats", description = "After each test, print (to stderr) how often per token the "
            + "compute threads synchronised and how long the calling thread waited for the others.")
    boolean poolStats;

    @Spec
    CommandSpec spec;

    /** One row of results. */
    record Row(String file, String type, long size, long params, long bytesPerToken, int threads, int nPrompt,
            int nGen, double[] tokensPerSecond, double roofline) {
        String test() {
            return nPrompt > 0 ? "pp" + nPrompt : "tg" + nGen;
        }

        Row withRoofline(double fraction) {
            return new Row(file, type, size, params, bytesPerToken, threads, nPrompt, nGen, tokensPerSecond, fraction);
        }

        double mean() {
            double s = 0;
            for (double v : tokensPerSecond) {
                s += v;
            }
            return s / tokensPerSecond.length;
        }

        double stddev() {
            int n = tokensPerSecond.length;
            if (n < 2) {
                return 0;
            }
            double m = mean();
            double s = 0;
            for (double v : tokensPerSecond) {
                s += (v - m) * (v - m);
            }
            return Math.sqrt(s / (n - 1));
        }
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        check();
        if (hub.requested()) {
            models.add(hub.download(err));
        }
        if (models.isEmpty()) {
            models.add(DemoModel.ensure(null, err));
        }
        Map<Integer, Double> bandwidth = new LinkedHashMap<>();
        if (roofline) {
            for (int t : threads) {
                double bw = MemoryBandwidth.measure(t, 5);
                bandwidth.put(t, bw);
                err.printf(Locale.ROOT, "bitnet4j: memory bandwidth with %d thread(s): %.1f GB/s%n", t, bw / 1e9);
                err.flush();
            }
        }
        boolean table = !json && !csv;
        if (table) {
            printHeader(out);
        }
        List<Row> rows = new ArrayList<>();
        for (Path path : models) {
            for (int t : threads) {
                try (BitNetModel model = BitNetModel.load(path, t)) {
                    for (int p : prompts) {
                        if (p > 0) {
                            rows.add(emit(out, table, measure(model, path, t, p, 0, Double.NaN, err)));
                        }
                    }
                    for (int n : gens) {
                        if (n > 0) {
                            double bw = bandwidth.getOrDefault(t, Double.NaN);
                            Row row = measure(model, path, t, 0, n, bw, err);
                            if (roofline) {
                                // this machine's bandwidth moves from minute to minute: measured again right after
                                // the test, the roofline takes the higher figure, so a fraction is never flattered
                                double after = MemoryBandwidth.measure(t, 5);
                                err.printf(Locale.ROOT, "bitnet4j: memory bandwidth with %d thread(s) after tg%d: "
                                        + "%.1f GB/s%n", t, n, after / 1e9);
                                err.flush();
                                row = row.withRoofline(row.mean() * row.bytesPerToken() / Math.max(bw, after));
                            }
                            rows.add(emit(out, table, row));
                        }
                    }
                }
            }
        }
        if (json) {
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(
                    rows.stream().map(this::toMap).toList()));
        } else if (csv) {
            printCsv(out, rows);
        }
        out.flush();
        return 0;
    }

    private void check() {
        if (repetitions < 1) {
            throw new IllegalArgumentException("-r must be at least 1, got " + repetitions);
        }
        if (batch < 1) {
            throw new IllegalArgumentException("-b must be at least 1, got " + batch);
        }
        if (json && csv) {
            throw new IllegalArgumentException("choose one of --json and --csv");
        }
        for (int t : threads) {
            if (t < 1) {
                throw new IllegalArgumentException("-t values must be at least 1, got " + t);
            }
        }
        for (int v : prompts) {
            if (v < 0) {
                throw new IllegalArgumentException("-p values must be >= 0, got " + v);
            }
        }
        for (int v : gens) {
            if (v < 0) {
                throw new IllegalArgumentException("-n values must be >= 0, got " + v);
            }
        }
    }

    private Row measure(BitNetModel model, Path path, int t, int nPrompt, int nGen, double bandwidth,
            PrintWriter err) {
        int vocab = model.config().vocabSize();
        SplittableRandom rnd = new SplittableRandom(1234);
        int ctx = Math.max(nPrompt, nGen);
        Session s = model.newSession(ctx, Math.min(batch, Math.max(1, nPrompt)));
        double[] tps = new double[repetitions];
        // warm-up, not measured: repeated until two runs in a row agree within 5% (at most MAX_WARMUPS), so the JIT
        // has compiled the kernels of this test before it is timed
        long previous = run(s, rnd, nPrompt, nGen, vocab);
        for (int w = 1; w < MAX_WARMUPS; w++) {
            long ns = run(s, rnd, nPrompt, nGen, vocab);
            boolean settled = Math.abs(ns - previous) <= 0.05 * previous;
            previous = ns;
            if (settled) {
                break;
            }
        }
        WorkerPool.Stats before = model.poolStats();
        long measuredNanos = 0;
        for (int r = 0; r < repetitions; r++) {
            long ns = run(s, rnd, nPrompt, nGen, vocab);
            measuredNanos += ns;
            tps[r] = (nPrompt + nGen) / (ns / 1e9);
        }
        if (poolStats) {
            printPoolStats(err, model.poolStats(), before, measuredNanos, (long) repetitions * (nPrompt > 0 ? 1 : nGen),
                    nPrompt > 0 ? "pp" + nPrompt : "tg" + nGen, t);
        }
        Stats st = stats(model.model().file());
        Row row = new Row(path.getFileName().toString(), describe(model, st), st.size, st.params, st.bytesPerToken, t,
                nPrompt, nGen, tps, Double.NaN);
        double roof = Double.isNaN(bandwidth) ? Double.NaN : row.mean() * st.bytesPerToken / bandwidth;
        return new Row(row.file, row.type, row.size, row.params, row.bytesPerToken, t, nPrompt, nGen, tps, roof);
    }

    private static final int MAX_WARMUPS = 4;

    /** Hand-offs and caller waiting per token (per prompt for pp tests) over the measured runs. */
    private static void printPoolStats(PrintWriter err, WorkerPool.Stats after, WorkerPool.Stats before,
            long measuredNanos, long units, String test, int threads) {
        double handOffs = (double) (after.handOffs() - before.handOffs()) / units;
        double waitMs = (after.callerWaitNanos() - before.callerWaitNanos()) / 1e6 / units;
        double unitMs = measuredNanos / 1e6 / units;
        err.printf(Locale.ROOT, "bitnet4j: %s, %d thread(s): %.0f hand-offs per %s, the calling thread waited "
                + "%.3f ms of %.2f ms (%.1f%%) for the others%n", test, threads, handOffs,
                test.startsWith("pp") ? "prompt" : "token", waitMs, unitMs, 100 * waitMs / unitMs);
        err.flush();
    }

    /** One test from an empty cache: nPrompt random tokens as one batch, or nGen tokens one at a time; nanoseconds. */
    private static long run(Session s, SplittableRandom rnd, int nPrompt, int nGen, int vocab) {
        s.reset();
        long t0 = System.nanoTime();
        if (nPrompt > 0) {
            s.prefill(rnd.ints(nPrompt, 0, vocab).toArray());
        } else {
            for (int i = 0; i < nGen; i++) {
                s.append(rnd.nextInt(vocab));
            }
        }
        return System.nanoTime() - t0;
    }

    /** Size, parameters, and the weight bytes one decoded token streams (all but the embedding lookup table). */
    record Stats(long size, long params, long bytesPerToken) {}

    static Stats stats(GgufFile f) {
        long size = 0;
        long params = 0;
        for (TensorInfo t : f.tensors().values()) {
            size += t.byteSize();
            params += t.elementCount();
        }
        boolean tied = !f.hasTensor("output.weight");
        long perToken = size - (tied ? 0 : f.tensorInfo("token_embd.weight").byteSize());
        return new Stats(size, params, perToken);
    }

    private static String describe(BitNetModel model, Stats st) {
        GgufFile f = model.model().file();
        String ternary = f.tensors().values().stream().filter(t -> t.name().endsWith("ffn_up.weight"))
                .map(t -> t.type().name()).findFirst().orElse("?");
        return String.format(Locale.ROOT, "%s %s %s", model.config().archName(), humanParams(st.params), ternary);
    }

    private static String humanParams(long p) {
        return p >= 1_000_000_000L ? String.format(Locale.ROOT, "%.1fB", p / 1e9)
                : String.format(Locale.ROOT, "%.0fM", p / 1e6);
    }

    private void printHeader(PrintWriter out) {
        out.printf("| %-30s | %10s | %10s | %7s | %7s | %13s | %20s |%s%n", "model", "size", "params", "backend",
                "threads", "test", "t/s", roofline ? " roofline |" : "");
        out.printf("| %s | %s: | %s: | %s | %s: | %s: | %s: |%s%n", "-".repeat(30), "-".repeat(9), "-".repeat(9),
                "-".repeat(7), "-".repeat(6), "-".repeat(12), "-".repeat(19), roofline ? " -------: |" : "");
        out.flush();
    }

    private Row emit(PrintWriter out, boolean table, Row r) {
        if (table) {
            String roof = !roofline ? "" : Double.isNaN(r.roofline) ? "          |"
                    : String.format(Locale.ROOT, " %7.0f%% |", 100 * r.roofline);
            out.printf(Locale.ROOT, "| %-30s | %10s | %10s | %7s | %7d | %13s | %20s |%s%n", r.type,
                    InfoCommand.bytes(r.size), String.format(Locale.ROOT, "%.2f %s", r.params >= 1e9 ? r.params / 1e9
                            : r.params / 1e6, r.params >= 1e9 ? "B" : "M"), "CPU", r.threads, r.test(),
                    String.format(Locale.ROOT, "%.2f ± %.2f", r.mean(), r.stddev()), roof);
            out.flush();
        }
        return r;
    }

    private Map<String, Object> toMap(Row r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("build_commit", "bitnet4j");
        m.put("model_filename", r.file);
        m.put("model_type", r.type);
        m.put("model_size", r.size);
        m.put("model_n_params", r.params);
        m.put("n_batch", batch);
        m.put("n_threads", r.threads);
        m.put("n_prompt", r.nPrompt);
        m.put("n_gen", r.nGen);
        m.put("avg_ts", r.mean());
        m.put("stddev_ts", r.stddev());
        m.put("samples_ts", r.tokensPerSecond);
        if (!Double.isNaN(r.roofline)) {
            m.put("bytes_per_token", r.bytesPerToken);
            m.put("roofline_fraction", r.roofline);
        }
        return m;
    }

    private void printCsv(PrintWriter out, List<Row> rows) {
        out.println("build_commit,model_filename,model_type,model_size,model_n_params,n_batch,n_threads,n_prompt,"
                + "n_gen,avg_ts,stddev_ts");
        for (Row r : rows) {
            out.printf(Locale.ROOT, "bitnet4j,\"%s\",\"%s\",%d,%d,%d,%d,%d,%d,%.6f,%.6f%n", r.file, r.type, r.size,
                    r.params, batch, r.threads, r.nPrompt, r.nGen, r.mean(), r.stddev());
        }
    }
}
