package io.bitnet4j.cli;

import io.bitnet4j.convert.HfConverter;
import io.bitnet4j.tensor.GgmlType;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code bitnet4j convert <hf-dir> -o model.gguf --type i2_s}: a Hugging Face checkpoint to a GGUF file. */
@Command(name = "convert", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Convert a Hugging Face checkpoint folder (config.json, model.safetensors or shards with "
                + "model.safetensors.index.json, tokenizer.json or tokenizer.model, tokenizer_config.json) to GGUF.",
            "Models: BitNet-b1.58-2B-4T (packed or -bf16), 1bitLLM bitnet_b1_58-large/3B, Llama3-8B-1.58, "
                    + "Falcon3-*-1.58bit."})
final class ConvertCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "HF_DIR", description = "Hugging Face model folder.")
    Path hfDir;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE", description = "GGUF file to write.")
    Path output;

    @Option(names = "--type", paramLabel = "TYPE", defaultValue = "i2_s",
            description = "Linear weight type: i2_s, tq2_0, tq1_0, f16 (default: ${DEFAULT-VALUE}).")
    String type;

    @Option(names = "--embd-type", paramLabel = "TYPE", defaultValue = "f16",
            description = "Token embedding (and untied output) type: f16, q6_k, q8_0 (default: ${DEFAULT-VALUE}).")
    String embdType;

    @Option(names = "--tokenizer-pre", paramLabel = "NAME",
            description = "tokenizer.ggml.pre to write when the tokenizer.json pre-tokenizer is not recognised "
                    + "(llama.cpp's name, e.g. falcon3).")
    String tokenizerPre;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        long start = System.nanoTime();
        ProgressLine progress = new ProgressLine(err, "convert");
        HfConverter.Options options = new HfConverter.Options(typeNamed(type, "--type"),
                typeNamed(embdType, "--embd-type"), tokenizerPre);
        HfConverter.Summary s = HfConverter.convert(hfDir, output, options, progress);
        progress.finish();
        for (String note : s.notes()) {
            err.println("note: " + note);
        }
        PrintWriter out = spec.commandLine().getOut();
        out.printf("wrote %s: %s, %d tensors, %s, %.1f s%n", output, s.architecture(), s.tensorCount(),
                InfoCommand.bytes(s.fileSize()), (System.nanoTime() - start) / 1e9);
        out.flush();
        return 0;
    }

    private static GgmlType typeNamed(String name, String option) {
        GgmlType t = GgmlType.byName(name.strip());
        if (t == null) {
            throw new IllegalArgumentException(option + " '" + name + "' is not a ggml type name");
        }
        return t;
    }
}
