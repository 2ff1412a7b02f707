package io.bitnet4j.cli;

import io.bitnet4j.generate.BitNetModel;
import io.bitnet4j.generate.Session;
import java.io.PrintWriter;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Which model to load and how: shared by the commands that run one. */
final class ModelOptions {
    @Option(names = {"-m", "--model"}, paramLabel = "FILE",
            description = "GGUF model file. Without it, a built-in demo model (2B-4T layout, random weights) is used.")
    Path model;

    @Option(names = {"-t", "--threads"}, paramLabel = "N",
            description = "Compute threads. Default: the number of available processors.")
    int threads = Runtime.getRuntime().availableProcessors();

    @Option(names = {"-c", "--ctx-size"}, paramLabel = "N",
            description = "Context size in tokens (KV cache). Default: the model's, at most "
                    + BitNetModel.DEFAULT_CONTEXT_CAP + ".")
    Integer contextSize;

    @Option(names = {"-b", "--batch-size"}, paramLabel = "N",
            description = "Prompt tokens evaluated per forward pass. Default: " + BitNetModel.DEFAULT_BATCH + ".")
    int batchSize = BitNetModel.DEFAULT_BATCH;

    @Option(names = "--tokenizer", paramLabel = "FILE",
            description = "With the demo model: a Hugging Face tokenizer.json to build its vocabulary from.")
    Path demoTokenizer;

    /** Loads the model (making the demo model first when none was given), telling the user which one on {@code err}. */
    BitNetModel load(PrintWriter err) {
        if (threads < 1) {
            throw new IllegalArgumentException("-t must be at least 1, got " + threads);
        }
        Path path = model;
        if (path == null) {
            path = DemoModel.ensure(demoTokenizer, err);
        }
        return BitNetModel.load(path, threads);
    }

    Session newSession(BitNetModel m) {
        int ctx = contextSize != null ? contextSize : m.defaultContextSize();
        if (ctx < 1) {
            throw new IllegalArgumentException("-c must be at least 1, got " + ctx);
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("-b must be at least 1, got " + batchSize);
        }
        return m.newSession(ctx, batchSize);
    }
}
