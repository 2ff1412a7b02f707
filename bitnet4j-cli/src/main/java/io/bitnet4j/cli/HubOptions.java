package io.bitnet4j.cli;

import io.bitnet4j.hub.HfHub;
import java.io.PrintWriter;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --hf-repo org/name[:file]}, {@code --hf-file} and {@code --offline}: a model from the Hugging Face hub. */
final class HubOptions {
    @Option(names = "--hf-repo", paramLabel = "ORG/NAME[:FILE]",
            description = "Download the model from the Hugging Face hub into its cache ($HF_HUB_CACHE, "
                    + "$HF_HOME/hub or ~/.cache/huggingface/hub, shared with huggingface_hub). Without FILE: the "
                    + "repo's only .gguf file, or " + HfHub.PREFERRED_GGUF + ". Private or gated repos: set HF_TOKEN.")
    String hfRepo;

    @Option(names = "--hf-file", paramLabel = "FILE", description = "With --hf-repo: the file of the repo to use.")
    String hfFile;

    @Option(names = "--offline", description = "With --hf-repo: use the local cache only, never the network "
            + "(also HF_HUB_OFFLINE=1).")
    boolean offline;

    /** Whether --hf-repo was given; fails when --hf-file or --offline came without it. */
    boolean requested() {
        if (hfRepo == null && (hfFile != null || offline)) {
            throw new IllegalArgumentException("--hf-file and --offline need --hf-repo");
        }
        return hfRepo != null;
    }

    /** The name the model file will have, without downloading anything (for display). */
    String fileName() {
        HfHub.RepoFile rf = repoFile();
        return rf.file() != null ? Path.of(rf.file()).getFileName().toString() : rf.repo().replaceAll(".*/", "");
    }

    /** The model file in the local cache, downloaded first when it is not there yet. */
    Path download(PrintWriter err) {
        HfHub.RepoFile rf = repoFile();
        HfHub hub = client(offline, err);
        String file = rf.file() != null ? rf.file() : hub.defaultGgufFile(rf.repo(), "main");
        Path path = hub.download(rf.repo(), "main", file);
        err.println("model: " + rf.repo() + "/" + file + " (" + path + ")");
        err.flush();
        return path;
    }

    private HfHub.RepoFile repoFile() {
        HfHub.RepoFile rf = HfHub.RepoFile.parse(hfRepo.strip());
        if (hfFile == null) {
            return rf;
        }
        if (rf.file() != null) {
            throw new IllegalArgumentException("give the file either in --hf-repo " + hfRepo + " or in --hf-file, not both");
        }
        return HfHub.RepoFile.parse(rf.repo() + ":" + hfFile.strip());
    }

    /** A hub client configured from the environment, showing download progress on {@code err}. */
    static HfHub client(boolean offline, PrintWriter err) {
        HfHub.Settings settings = HfHub.Settings.fromEnvironment();
        return new HfHub(offline ? settings.withOffline(true) : settings, new DownloadProgressLine(err));
    }
}
