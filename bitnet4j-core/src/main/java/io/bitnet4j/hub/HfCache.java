package io.bitnet4j.hub;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The huggingface_hub cache layout, so that files it downloaded are reused here and the other way round:
 * <pre>
 * {root}/models--{org}--{name}/refs/{revision}            the commit hash the revision pointed to
 * {root}/models--{org}--{name}/blobs/{etag}               file contents, named by sha256 (LFS) or git blob sha1
 * {root}/models--{org}--{name}/blobs/{etag}.incomplete    a download in progress, resumed from its length
 * {root}/models--{org}--{name}/snapshots/{commit}/{file}  a relative symlink to the blob (a copy where links fail)
 * </pre>
 */
public final class HfCache {
    private final Path root;

    public HfCache(Path root) {
        this.root = root;
    }

    /** The cache folder huggingface_hub uses: {@code $HF_HUB_CACHE}, else {@code $HF_HOME/hub}, else ~/.cache. */
    public static Path defaultRoot(Map<String, String> env) {
        String hubCache = env.get("HF_HUB_CACHE");
        if (hubCache != null && !hubCache.isBlank()) {
            return Path.of(hubCache);
        }
        String home = env.get("HF_HOME");
        if (home != null && !home.isBlank()) {
            return Path.of(home, "hub");
        }
        String xdg = env.get("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("huggingface").resolve("hub");
    }

    public Path root() {
        return root;
    }

    public Path repoDir(String repo) {
        return root.resolve("models--" + repo.replace("/", "--"));
    }

    public Path blob(String repo, String etag) {
        return repoDir(repo).resolve("blobs").resolve(etag);
    }

    public Path incomplete(String repo, String etag) {
        return repoDir(repo).resolve("blobs").resolve(etag + ".incomplete");
    }

    public Path snapshotDir(String repo, String commit) {
        return repoDir(repo).resolve("snapshots").resolve(commit);
    }

    /** The commit a revision resolves to: itself when it is a commit hash, else what {@code refs/} recorded. */
    public Optional<String> commitOf(String repo, String revision) {
        if (HfHub.isCommitHash(revision)) {
            return Optional.of(revision);
        }
        Path ref = repoDir(repo).resolve("refs").resolve(revision);
        try {
            String commit = Files.readString(ref, StandardCharsets.US_ASCII).strip();
            return HfHub.isCommitHash(commit) ? Optional.of(commit) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** A file of the revision's cached snapshot, when it is there. */
    public Optional<Path> cachedFile(String repo, String revision, String file) {
        return commitOf(repo, revision)
                .map(commit -> snapshotDir(repo, commit).resolve(file))
                .filter(Files::isRegularFile); // follows the link, so a dangling one does not count
    }

    /** The files of the revision's cached snapshot (paths relative to it, '/'-separated); empty when none. */
    public List<String> cachedFiles(String repo, String revision) {
        Optional<String> commit = commitOf(repo, revision);
        if (commit.isEmpty() || !Files.isDirectory(snapshotDir(repo, commit.get()))) {
            return List.of();
        }
        Path dir = snapshotDir(repo, commit.get());
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile)
                    .map(p -> dir.relativize(p).toString().replace('\\', '/'))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    void writeRef(String repo, String revision, String commit) throws IOException {
        if (revision.equals(commit)) {
            return;
        }
        Path ref = repoDir(repo).resolve("refs").resolve(revision);
        Files.createDirectories(ref.getParent());
        Files.writeString(ref, commit, StandardCharsets.US_ASCII);
    }

    /** Makes {@code snapshots/{commit}/{file}} point at the blob: a relative symlink, or a copy where none can be made. */
    Path linkSnapshot(String repo, String commit, String file, String etag) throws IOException {
        Path target = snapshotDir(repo, commit).resolve(file);
        Files.createDirectories(target.getParent());
        Path blob = blob(repo, etag);
        Files.deleteIfExists(target);
        try {
            Files.createSymbolicLink(target, target.getParent().relativize(blob));
        } catch (UnsupportedOperationException | IOException e) {
            Files.copy(blob, target, StandardCopyOption.REPLACE_EXISTING);
        }
        return target;
    }
}
