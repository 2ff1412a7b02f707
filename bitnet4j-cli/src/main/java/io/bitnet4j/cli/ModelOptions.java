package io.bitnet4j.cli;

import io.bitnet4j.chat.ChatTemplate;
import io.bitnet4j.chat.TemplateDetection;
import io.bitnet4j.generate.BitNetModel;
import io.bitnet4j.generate.Session;
import io.bitnet4j.tensor.RepackCache;
import io.bitnet4j.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Which model to load and how: shared by the commands that run one. */
final class ModelOptions {
    @Option(names = {"-m", "--model"}, paramLabel = "FILE",
            description = "GGUF model file. Without it, a built-in demo model (2B-4T layout, random weights) is used.")
    Path model;

    @Mixin
    HubOptions hub = new HubOptions();

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

    @Option(names = "--no-repack-cache",
            description = "Repack the ternary weights at every load instead of mapping the copy an earlier load "
                    + "saved (in $BITNET4J_CACHE/repacked, ~/.cache/bitnet4j/repacked by default; "
                    + "BITNET4J_REPACK_CACHE=off does the same).")
    boolean noRepackCache;

    @Option(names = "--tokenizer", paramLabel = "FILE",
            description = "With the demo model: a Hugging Face tokenizer.json to build its vocabulary from.")
    Path demoTokenizer;

    @Option(names = "--chat-template", paramLabel = "NAME",
            description = "Chat template to use instead of the model's: bitnet, llama3, falcon3 or chatml.")
    String chatTemplate;

    /** Loads the model (making the demo model first when none was given), telling the user which one on {@code err}. */
    BitNetModel load(PrintWriter err) {
        if (threads < 1) {
            throw new IllegalArgumentException("-t must be at least 1, got " + threads);
        }
        if (hub.requested() && model != null) {
            throw new IllegalArgumentException("give either -m or --hf-repo, not both");
        }
        Path path = hub.requested() ? hub.download(err) : model;
        if (path == null) {
            path = DemoModel.ensure(demoTokenizer, err);
        }
        if (chatTemplate != null) {
            ChatTemplate.named(chatTemplate); // an unknown name fails before the model is loaded
        }
        BitNetModel m = BitNetModel.load(path, threads,
                noRepackCache ? Optional.empty() : RepackCache.fromEnvironment());
        RepackCache.Result repack = m.repack();
        if (!repack.fromCache() && repack.file().isPresent()) {
            err.printf(Locale.ROOT, "bitnet4j: ternary weights repacked for %d thread(s) and saved as %s (%,d MB); "
                    + "later loads map them (--no-repack-cache: repack every time)%n", threads,
                    repack.file().get(), sizeMb(repack.file().get()));
        }
        try {
            chooseChatTemplate(m);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        return m;
    }

    private static long sizeMb(Path file) {
        try {
            return Files.size(file) >> 20;
        } catch (IOException e) {
            return 0;
        }
    }

    /**
     * The named template if one was asked for; else the built-in renderer when it recognises the file's template;
     * else the file's own Jinja template, rendered by Jinjava.
     */
    private void chooseChatTemplate(BitNetModel m) {
        if (chatTemplate != null) {
            m.useChatTemplate(ChatTemplate.named(chatTemplate));
            return;
        }
        String source = m.model().file().metadata().findString("tokenizer.chat_template").orElse(null);
        if (source == null) {
            return;
        }
        Tokenizer tok = m.tokenizer();
        TemplateDetection d = TemplateDetection.of(source, m.config().archName(), t -> tok.tokenId(t).isPresent());
        if (d.basis() != TemplateDetection.Basis.TEMPLATE_TEXT && d.basis() != TemplateDetection.Basis.NAME) {
            // BOS comes from tokenization, so the template must not add it again
            String eos = tok.eosId() >= 0 ? tok.tokenText(tok.eosId()) : "";
            m.useChatTemplate(new JinjaChatTemplate(source, "", eos));
        }
    }

    /** The model file's name, for display, before anything is loaded or downloaded; null for the demo model. */
    String modelFileName() {
        if (hub.requested()) {
            return hub.fileName();
        }
        return model != null ? model.getFileName().toString() : null;
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
