package io.bitnet4j.cli;

import io.bitnet4j.eval.GreedyVerification;
import io.bitnet4j.generate.BitNetModel;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code bitnet4j verify -m model.gguf --prompts file}: the fast kernels against the scalar references. */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"The lossless check: decode each prompt greedily with the fast kernels and with the plain "
                + "scalar reference kernels, and compare the tokens.",
            "Exit code 0 when every prompt gives identical tokens, 1 otherwise."})
final class VerifyCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "FILE", description = "GGUF model file.")
    Path model;

    @Option(names = "--prompts", required = true, paramLabel = "FILE",
            description = "UTF-8 file with one prompt per line (blank lines are skipped).")
    Path prompts;

    @Option(names = {"-n", "--n-predict"}, paramLabel = "N", description = "Tokens to generate per prompt. Default: 100.")
    int tokens = 100;

    @Option(names = {"-c", "--ctx-size"}, paramLabel = "N",
            description = "Context size; prompt plus N must fit. Default: the model's, at most "
                    + BitNetModel.DEFAULT_CONTEXT_CAP + ".")
    Integer context;

    @Option(names = {"-b", "--batch-size"}, paramLabel = "N",
            description = "Prompt tokens per forward pass. Default: " + BitNetModel.DEFAULT_BATCH + ".")
    int batch = BitNetModel.DEFAULT_BATCH;

    @Option(names = {"-t", "--threads"}, paramLabel = "N",
            description = "Compute threads. Default: the number of available processors.")
    int threads = Runtime.getRuntime().availableProcessors();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (tokens < 1) {
            throw new IllegalArgumentException("-n must be at least 1, got " + tokens);
        }
        if (threads < 1) {
            throw new IllegalArgumentException("-t must be at least 1, got " + threads);
        }
        List<String> lines = Files.readAllLines(prompts, StandardCharsets.UTF_8).stream()
                .filter(l -> !l.isBlank()).toList();
        if (lines.isEmpty()) {
            throw new IllegalArgumentException("no prompts in " + prompts);
        }
        PrintWriter out = spec.commandLine().getOut();
        int identical = 0;
        int firstDivergingPrompt = -1;
        int firstDivergence = -1;
        // the comparison computes on its own threads; the model's pool stays idle
        try (BitNetModel m = BitNetModel.load(model, 1);
                GreedyVerification v = new GreedyVerification(m,
                        context != null ? context : m.defaultContextSize(), batch, threads)) {
            out.printf("%4s %8s %9s %9s %7s %10s  %s%n", "#", "prompt", "fast", "reference", "match", "diverges",
                    "text");
            for (int i = 0; i < lines.size(); i++) {
                GreedyVerification.Result r = v.compare(lines.get(i), tokens);
                out.printf(Locale.ROOT, "%4d %8d %9d %9d %6.1f%% %10s  %s%n", i + 1, r.promptTokens(),
                        r.fast().length, r.reference().length, 100 * r.matchRate(),
                        r.identical() ? "-" : "at " + r.firstDivergence(), abbreviate(lines.get(i)));
                out.flush();
                if (r.identical()) {
                    identical++;
                } else if (firstDivergingPrompt < 0) {
                    firstDivergingPrompt = i + 1;
                    firstDivergence = r.firstDivergence();
                }
            }
        }
        out.printf("%d/%d prompts identical", identical, lines.size());
        if (firstDivergingPrompt > 0) {
            out.printf(", first divergence: prompt %d at generated token %d", firstDivergingPrompt, firstDivergence);
        }
        out.println();
        out.flush();
        return identical == lines.size() ? 0 : 1;
    }

    private static String abbreviate(String prompt) {
        return prompt.length() <= 40 ? prompt : prompt.substring(0, 37) + "...";
    }
}
