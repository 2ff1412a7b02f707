package io.bitnet4j.cli;

import io.bitnet4j.synth.SynthModel;
import io.bitnet4j.synth.SynthOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The model {@code run} and {@code chat} use when no {@code -m} is given: {@code synth}'s BitNet-b1.58-2B-4T layout
 * (I2_S weights, F16 embedding — the official file's types) with random weights, made once into a cache directory.
 * It shows the real architecture at real speed without a download; its text is gibberish.
 */
final class DemoModel {
    private DemoModel() {}

    /** The demo model's path, made first if needed; tells the user on {@code err} what it is. */
    static Path ensure(Path tokenizerJson, PrintWriter err) {
        Path tokenizer = tokenizerJson != null ? tokenizerJson : sharedLlama3Tokenizer();
        if (tokenizer != null && !Files.isRegularFile(tokenizer)) {
            throw new IllegalArgumentException("no such tokenizer file: " + tokenizer);
        }
        Path file = cacheDir().resolve("demo-2b4t-i2_s-" + vocabTag(tokenizer) + ".gguf");
        if (!Files.isRegularFile(file)) {
            make(file, tokenizer, err);
        }
        err.println("bitnet4j: no -m given, using the built-in demo model " + file);
        err.println("bitnet4j: it has the BitNet-b1.58-2B-4T layout with RANDOM weights: the text is gibberish, the speed"
                + " is real. For real text: -m ggml-model-i2_s.gguf (microsoft/BitNet-b1.58-2B-4T-gguf).");
        err.flush();
        return file;
    }

    private static void make(Path file, Path tokenizer, PrintWriter err) {
        err.println("bitnet4j: making the demo model once (2B-4T layout, " + (tokenizer == null
                ? "synthetic byte-level vocabulary" : "vocabulary from " + tokenizer) + ") into " + file.getParent());
        err.flush();
        try {
            Files.createDirectories(file.getParent());
            Path tmp = Files.createTempFile(file.getParent(), file.getFileName().toString(), ".part");
            try {
                ProgressLine progress = new ProgressLine(err, "bitnet4j: writing the demo model");
                SynthModel.write(SynthOptions.demo(tokenizer), tmp, progress);
                progress.finish();
                try {
                    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the demo model into " + file.getParent() + ": " + e.getMessage()
                    + " (set BITNET4J_CACHE to a writable directory)", e);
        }
    }

    /** $BITNET4J_CACHE, else $XDG_CACHE_HOME/bitnet4j, else ~/.cache/bitnet4j. */
    static Path cacheDir() {
        String own = System.getenv("BITNET4J_CACHE");
        if (own != null && !own.isBlank()) {
            return Path.of(own);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) {
            return Path.of(xdg, "bitnet4j");
        }
        return Path.of(System.getProperty("user.home"), ".cache", "bitnet4j");
    }

    /**
     * The Llama-3 tokenizer of the project's shared test data, when a checkout has it beside it
     * ($BITNET4J_SHARED, or ../shared next to the checkout the launcher runs from); null otherwise.
     */
    static Path sharedLlama3Tokenizer() {
        String shared = System.getenv("BITNET4J_SHARED");
        String home = System.getenv("BITNET4J_HOME");
        Path root = shared != null && !shared.isBlank() ? Path.of(shared)
                : home != null && !home.isBlank() ? Path.of(home).resolveSibling("shared") : null;
        if (root == null) {
            return null;
        }
        Path p = root.resolve("testdata").resolve("llama3-tokenizer").resolve("tokenizer.json");
        return Files.isRegularFile(p) ? p : null;
    }

    /** Names the vocabulary in the file name, so a different tokenizer makes a different demo file. */
    private static String vocabTag(Path tokenizer) {
        if (tokenizer == null) {
            return "synthvocab";
        }
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(tokenizer));
            return "vocab" + HexFormat.of().formatHex(digest, 0, 6);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + tokenizer + ": " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
