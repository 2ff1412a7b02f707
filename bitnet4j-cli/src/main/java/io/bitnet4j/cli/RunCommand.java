package io.bitnet4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bitnet4j.generate.BitNetModel;
import io.bitnet4j.generate.GenerationParams;
import io.bitnet4j.generate.GenerationResult;
import io.bitnet4j.generate.Session;
import io.bitnet4j.generate.Timings;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code bitnet4j run}: generate from a prompt, streaming the text, with llama.cpp-style timings on stderr. */
@Command(name = "run", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Generate text from a prompt (-p, -f FILE or stdin).")
final class RunCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", description = "The prompt.")
    String prompt;

    @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "Read the prompt from a file.")
    Path promptFile;

    @Mixin
    SamplingOptions sampling;

    @Option(names = "--no-display-prompt", description = "Do not print the prompt before the generated text.")
    boolean noDisplayPrompt;

    @Option(names = "--verbose-prompt", description = "Print the prompt's token ids (and pieces) on stderr first.")
    boolean verbosePrompt;

    @Option(names = "--json", description = "Print one JSON object at the end (prompt_ids, generated_ids, text, "
            + "timings) instead of streaming the text.")
    boolean json;

    @Spec
    CommandSpec spec;

    /** Where the prompt comes from when neither -p nor -f is given; replaced in tests. */
    InputStream stdin = System.in;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String text = promptText();
        GenerationParams params = sampling.generationParams();
        try (BitNetModel model = modelOptions.load(err)) {
            Session session = modelOptions.newSession(model);
            int[] ids = model.encode(text);
            checkFits(ids.length, params.maxTokens(), session.contextSize());
            if (verbosePrompt) {
                err.println("prompt: '" + text + "'");
                err.println("number of tokens in prompt = " + ids.length);
                for (int id : ids) {
                    err.printf("%6d -> '%s'%n", id, model.tokenizer().tokenText(id));
                }
                err.flush();
            }
            if (!json && !noDisplayPrompt) {
                out.print(text);
                out.flush();
            }
            GenerationResult r = session.generate(ids, params, json ? null : (id, piece) -> {
                out.print(piece);
                out.flush();
            });
            if (json) {
                out.println(toJson(r, model.loadNanos()));
            } else {
                out.println();
            }
            out.flush();
            err.println();
            err.println("bitnet4j: stopped: " + describe(r));
            PerfReport.print(err, model.loadNanos(), r.timings());
        }
        return 0;
    }

    private String promptText() throws IOException {
        if (prompt != null && promptFile != null) {
            throw new IllegalArgumentException("give the prompt with -p or -f, not both");
        }
        if (prompt != null) {
            return prompt;
        }
        if (promptFile != null) {
            return Files.readString(promptFile, StandardCharsets.UTF_8);
        }
        if (stdin == System.in && System.console() != null && System.console().isTerminal()) {
            throw new IllegalArgumentException("no prompt: give -p TEXT, -f FILE, or pipe the prompt on stdin");
        }
        String s = new String(stdin.readAllBytes(), StandardCharsets.UTF_8);
        if (s.isEmpty()) {
            throw new IllegalArgumentException("no prompt: stdin was empty (give -p TEXT or -f FILE)");
        }
        return s;
    }

    /** Refuses up front a request that cannot fit, rather than stopping half-way. */
    static void checkFits(int promptTokens, int maxTokens, int contextSize) {
        if (promptTokens > contextSize) {
            throw new IllegalArgumentException("the prompt has " + promptTokens + " tokens, more than the context size "
                    + contextSize + "; raise -c");
        }
        if (maxTokens > 0 && (long) promptTokens + maxTokens > contextSize) {
            throw new IllegalArgumentException("the prompt (" + promptTokens + " tokens) plus -n " + maxTokens
                    + " exceeds the context size " + contextSize + "; raise -c or lower -n");
        }
    }

    private static String describe(GenerationResult r) {
        return switch (r.stopReason()) {
            case END_OF_GENERATION -> "end of generation token";
            case STOP_STRING -> "stop string";
            case MAX_TOKENS -> r.generatedIds().length + " tokens generated (-n)";
            case CONTEXT_FULL -> "context full (-c)";
            case CANCELLED -> "cancelled";
        };
    }

    static String toJson(GenerationResult r, long loadNanos) {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode o = mapper.createObjectNode();
        o.putPOJO("prompt_ids", Arrays.stream(r.promptIds()).boxed().toList());
        o.putPOJO("generated_ids", Arrays.stream(r.generatedIds()).boxed().toList());
        o.put("text", r.text());
        o.put("stop_reason", r.stopReason().name().toLowerCase(java.util.Locale.ROOT));
        Timings t = r.timings();
        ObjectNode tj = o.putObject("timings");
        tj.put("load_ms", loadNanos / 1e6);
        tj.put("prompt_n", t.promptTokens());
        tj.put("prompt_ms", t.promptMillis());
        rate(tj, "prompt_per_second", t.promptTokensPerSecond());
        tj.put("predicted_n", t.evalTokens());
        tj.put("predicted_ms", t.evalMillis());
        rate(tj, "predicted_per_second", t.evalTokensPerSecond());
        try {
            return mapper.writeValueAsString(o);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** JSON has no NaN: a rate over zero tokens is null. */
    private static void rate(ObjectNode o, String name, double v) {
        if (Double.isNaN(v)) {
            o.putNull(name);
        } else {
            o.put(name, v);
        }
    }
}
