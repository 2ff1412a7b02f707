package io.bitnet4j.cli;

import io.bitnet4j.convert.HfConverter;
import io.bitnet4j.hub.HfHub;
import io.bitnet4j.tensor.GgmlType;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Set;
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
    @Parameters(index = "0", arity = "0..1", paramLabel = "HF_DIR",
            description = "Hugging Face model folder (or use --hf-repo).")
    Path hfDir;

    @Option(names = "--hf-repo", paramLabel = "ORG/NAME",
            description = "Download the checkpoint's files from the Hugging Face hub into its cache and convert them.")
    String hfRepo;

    @Option(names = "--offline", description = "With --hf-repo: use the local cache only (also HF_HUB_OFFLINE=1).")
    boolean offline;

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
        Path source = checkpointFolder(err);
        long start = System.nanoTime();
        ProgressLine progress = new ProgressLine(err, "convert");
        HfConverter.Options options = new HfConverter.Options(typeNamed(type, "--type"),
                typeNamed(embdType, "--embd-type"), tokenizerPre);
        HfConverter.Summary s = HfConverter.convert(source, output, options, progress);
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

    /** HF_DIR, or the snapshot folder of --hf-repo with the files a conversion reads downloaded into it. */
    private Path checkpointFolder(PrintWriter err) {
        if ((hfDir == null) == (hfRepo == null)) {
            throw new IllegalArgumentException("give either HF_DIR or --hf-repo ORG/NAME");
        }
        if (hfRepo == null) {
            if (offline) {
                throw new IllegalArgumentException("--offline needs --hf-repo");
            }
            return hfDir;
        }
        HfHub.RepoFile rf = HfHub.RepoFile.parse(hfRepo.strip());
        if (rf.file() != null) {
            throw new IllegalArgumentException("convert downloads a whole checkpoint: give --hf-repo ORG/NAME without :FILE");
        }
        return HubOptions.client(offline, err).downloadSnapshot(rf.repo(), "main", ConvertCommand::isCheckpointFile);
    }

    /** The files a conversion reads: configuration, tokenizer and weights (top level only). */
    static boolean isCheckpointFile(String file) {
        return !file.contains("/") && (CHECKPOINT_FILES.contains(file) || file.endsWith(".safetensors"));
    }

    private static final Set<String> CHECKPOINT_FILES = Set.of("config.json", "generation_config.json",
            "tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json",
            "model.safetensors.index.json", "added_tokens.json");

    private static GgmlType typeNamed(String name, String option) {
        GgmlType t = GgmlType.byName(name.strip());
        if (t == null) {
            throw new IllegalArgumentException(option + " '" + name + "' is not a ggml type name");
        }
        return t;
    }
}
