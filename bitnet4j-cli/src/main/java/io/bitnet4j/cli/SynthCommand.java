package io.bitnet4j.cli;

import io.bitnet4j.synth.ModelLayout;
import io.bitnet4j.synth.SynthModel;
import io.bitnet4j.synth.SynthOptions;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code bitnet4j synth --layout 2b4t -o model.gguf}: a model with a real layout and random ternary weights. */
@Command(name = "synth", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Write a model with the tensor names, shapes, types and metadata of a real layout and random "
                + "ternary weights (for demos and tests).",
            "Layouts: 2b4t (BitNet-b1.58-2B-4T), bitnet-large, bitnet-3b (1bitLLM), llama3-8b-1.58, falcon3-1b, tiny."})
final class SynthCommand implements Callable<Integer> {
    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE", description = "GGUF file to write.")
    Path output;

    @Option(names = "--layout", paramLabel = "NAME", defaultValue = "tiny",
            description = "Named layout (default: ${DEFAULT-VALUE}); the shape options below override it.")
    String layout;

    @Option(names = "--type", paramLabel = "TYPE", defaultValue = "i2_s",
            description = "Linear weight type: i2_s, tq1_0, tq2_0, f16, f32 (default: ${DEFAULT-VALUE}).")
    String type;

    @Option(names = "--embd-type", paramLabel = "TYPE", defaultValue = "f16",
            description = "Token embedding (and untied output) type: f16, q6_k, q8_0 (default: ${DEFAULT-VALUE}).")
    String embdType;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "42", description = "Weight seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--tokenizer", paramLabel = "tokenizer.json",
            description = "Build the real vocabulary from a Hugging Face tokenizer.json (and the tokenizer_config.json "
                    + "beside it); the vocabulary size follows it unless --vocab is given.")
    Path tokenizer;

    @Option(names = "--layers", paramLabel = "N", description = "Number of layers.")
    Integer layers;

    @Option(names = "--hidden", paramLabel = "N", description = "Hidden (embedding) size.")
    Integer hidden;

    @Option(names = "--heads", paramLabel = "N", description = "Attention heads.")
    Integer heads;

    @Option(names = "--kv-heads", paramLabel = "N", description = "Key/value heads.")
    Integer kvHeads;

    @Option(names = "--ff", paramLabel = "N", description = "Feed-forward size.")
    Integer ff;

    @Option(names = "--vocab", paramLabel = "N", description = "Vocabulary size.")
    Integer vocab;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        SynthOptions options = SynthOptions.builder()
                .layout(ModelLayout.byName(layout))
                .type(type).embdType(embdType).seed(seed).tokenizer(tokenizer)
                .layers(layers).hidden(hidden).heads(heads).kvHeads(kvHeads).ff(ff).vocab(vocab)
                .build();
        PrintWriter err = spec.commandLine().getErr();
        long start = System.nanoTime();
        ProgressLine progress = new ProgressLine(err, "synth");
        SynthModel.Summary s = SynthModel.write(options, output, progress);
        progress.finish();
        for (String note : s.notes()) {
            err.println("note: " + note);
        }
        PrintWriter out = spec.commandLine().getOut();
        out.printf("wrote %s: layout %s, %d tensors, %,d parameters, %s, %.1f s%n", output,
                options.layout().name(), s.tensorCount(), s.parameters(), InfoCommand.bytes(s.fileSize()),
                (System.nanoTime() - start) / 1e9);
        out.flush();
        return 0;
    }
}
