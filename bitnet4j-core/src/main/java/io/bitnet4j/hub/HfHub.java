package io.bitnet4j.hub;

import io.bitnet4j.json.Json;
import io.bitnet4j.json.JsonException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Downloads model files from the Hugging Face hub into {@link HfCache} (huggingface_hub's layout).
 *
 * <p>A file already in the cache for the revision is used without asking the hub, so a second run makes no network
 * request (delete the repo's cache folder to pick up a newer commit). Downloads go to {@code blobs/{etag}.incomplete}
 * and resume from its length with an HTTP Range request; LFS files (whose etag is their sha256) are verified before
 * they join a snapshot. Failed connections and 5xx answers are retried with exponential backoff.
 */
public final class HfHub {
    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";
    /** System property that overrides {@code HF_ENDPOINT} (tests point it at a local server). */
    public static final String ENDPOINT_PROPERTY = "bitnet4j.hf.endpoint";
    /** System property that overrides the cache folder chosen from the environment. */
    public static final String CACHE_PROPERTY = "bitnet4j.hf.cache";
    /** Preferred default file in a repo that holds several GGUF files (bitnet.cpp's name for its I2_S export). */
    public static final String PREFERRED_GGUF = "ggml-model-i2_s.gguf";

    private static final Pattern REPO_ID = Pattern.compile("(?:[A-Za-z0-9][A-Za-z0-9_.-]*/)?[A-Za-z0-9][A-Za-z0-9_.-]*");
    private static final Pattern REVISION = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]*");
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final int MAX_REDIRECTS = 10;

    /** Where and how to download; {@link #fromEnvironment()} reads what huggingface_hub reads. */
    public record Settings(URI endpoint, HfCache cache, String token, boolean offline, int maxAttempts,
            Duration firstRetryDelay) {
        public Settings {
            if (maxAttempts < 1) {
                throw new IllegalArgumentException("maxAttempts must be at least 1, got " + maxAttempts);
            }
        }

        public static Settings fromEnvironment() {
            return fromEnvironment(System.getenv(), System.getProperties());
        }

        /**
         * Endpoint: property {@value #ENDPOINT_PROPERTY}, else {@code HF_ENDPOINT}, else huggingface.co. Cache:
         * property {@value #CACHE_PROPERTY}, else {@link HfCache#defaultRoot}. Token: {@code HF_TOKEN}, else the
         * file {@code $HF_HOME/token} that {@code huggingface-cli login} writes. Offline: {@code HF_HUB_OFFLINE=1}.
         */
        public static Settings fromEnvironment(Map<String, String> env, Properties properties) {
            String endpoint = properties.getProperty(ENDPOINT_PROPERTY, env.getOrDefault("HF_ENDPOINT", DEFAULT_ENDPOINT));
            String cacheDir = properties.getProperty(CACHE_PROPERTY);
            HfCache cache = new HfCache(cacheDir != null ? Path.of(cacheDir) : HfCache.defaultRoot(env));
            String offline = env.getOrDefault("HF_HUB_OFFLINE", "").strip().toLowerCase(Locale.ROOT);
            return new Settings(URI.create(endpoint.replaceAll("/+$", "")), cache, token(env),
                    List.of("1", "on", "yes", "true").contains(offline), 5, Duration.ofSeconds(1));
        }

        private static String token(Map<String, String> env) {
            String token = env.get("HF_TOKEN");
            if (token != null && !token.isBlank()) {
                return token.strip();
            }
            String home = env.get("HF_HOME");
            Path file = home != null && !home.isBlank() ? Path.of(home, "token")
                    : Path.of(System.getProperty("user.home"), ".cache", "huggingface", "token");
            try {
                String saved = Files.readString(file).strip();
                return saved.isEmpty() ? null : saved;
            } catch (IOException e) {
                return null;
            }
        }

        public Settings withOffline(boolean offline) {
            return new Settings(endpoint, cache, token, offline, maxAttempts, firstRetryDelay);
        }
    }

    /** A parsed {@code org/name[:file]}; {@code file} is null when the repo's default GGUF file is meant. */
    public record RepoFile(String repo, String file) {
        public static RepoFile parse(String spec) {
            int colon = spec.indexOf(':');
            String repo = colon < 0 ? spec : spec.substring(0, colon);
            String file = colon < 0 ? null : spec.substring(colon + 1);
            checkRepo(repo);
            if (file != null) {
                checkFile(file);
            }
            return new RepoFile(repo, file);
        }
    }

    private final Settings settings;
    private final HfCache cache;
    private final DownloadProgress progress;
    private final HttpClient http;

    public HfHub(Settings settings, DownloadProgress progress) {
        this.settings = settings;
        this.cache = settings.cache();
        this.progress = progress;
        this.http = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NEVER) // followed by hand, so the token stays on the hub's host
                .connectTimeout(Duration.ofSeconds(20))
                .build();
    }

    public HfCache cache() {
        return cache;
    }

    /** The local path of {@code org/name[:file]} at {@code main}, downloading it (or the default GGUF) when needed. */
    public Path resolve(String spec) {
        RepoFile rf = RepoFile.parse(spec);
        String file = rf.file() != null ? rf.file() : defaultGgufFile(rf.repo(), "main");
        return download(rf.repo(), "main", file);
    }

    /**
     * The file to use when none was named: the repo's only {@code *.gguf}, or {@value #PREFERRED_GGUF} when there are
     * several and it is one of them. Looks in the cached snapshot first, and asks the hub only when none is there.
     */
    public String defaultGgufFile(String repo, String revision) {
        checkRepo(repo);
        List<String> cached = ggufFiles(cache.cachedFiles(repo, revision));
        if (!cached.isEmpty() || settings.offline()) {
            if (cached.isEmpty()) {
                throw new HubException("offline, and no GGUF file of " + repo + " is in the cache " + cache.root()
                        + "; download it once without --offline / HF_HUB_OFFLINE");
            }
            return chooseGguf(repo, cached);
        }
        List<String> listed = ggufFiles(listFiles(repo, revision).files());
        if (listed.isEmpty()) {
            throw new HubException(repo + " has no .gguf file; for a checkpoint of safetensors use "
                    + "'bitnet4j convert --hf-repo " + repo + " -o model.gguf'");
        }
        return chooseGguf(repo, listed);
    }

    private static List<String> ggufFiles(List<String> files) {
        return files.stream().filter(f -> f.toLowerCase(Locale.ROOT).endsWith(".gguf")).toList();
    }

    private static String chooseGguf(String repo, List<String> ggufs) {
        if (ggufs.size() == 1) {
            return ggufs.getFirst();
        }
        if (ggufs.contains(PREFERRED_GGUF)) {
            return PREFERRED_GGUF;
        }
        throw new HubException(repo + " has " + ggufs.size() + " GGUF files; name one as " + repo
                + ":FILE (or --hf-file FILE): " + String.join(", ", ggufs));
    }

    /** The files of a revision, as the hub lists them ({@code GET /api/models/{repo}}), and its commit if given. */
    public record Listing(String commit, List<String> files) {}

    public Listing listFiles(String repo, String revision) {
        checkRepo(repo);
        checkRevision(revision);
        if (settings.offline()) {
            throw new HubException("offline: cannot list the files of " + repo);
        }
        String path = "/api/models/" + repo + ("main".equals(revision) ? "" : "/revision/" + encode(revision));
        URI uri = URI.create(settings.endpoint() + path);
        String body = withRetries(uri, () -> {
            HttpResponse<String> r = follow(uri, "GET", -1, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            checkStatus(r, repo, null, revision);
            return r.body();
        });
        try {
            if (!(Json.parse(body) instanceof Map<?, ?> info) || !(info.get("siblings") instanceof List<?> siblings)) {
                throw new HubException("the hub's listing of " + repo + " has no 'siblings' array");
            }
            List<String> files = new ArrayList<>();
            for (Object s : siblings) {
                if (s instanceof Map<?, ?> m && m.get("rfilename") instanceof String name) {
                    files.add(name);
                }
            }
            String commit = info.get("sha") instanceof String sha && isCommitHash(sha) ? sha : null;
            return new Listing(commit, List.copyOf(files));
        } catch (JsonException e) {
            throw new HubException("the hub's listing of " + repo + " is not valid JSON: " + e.getMessage(), e);
        }
    }

    /**
     * Downloads the files of a revision that {@code wanted} accepts and returns the snapshot folder holding them.
     * Offline, returns the cached snapshot folder as it is.
     */
    public Path downloadSnapshot(String repo, String revision, Predicate<String> wanted) {
        checkRepo(repo);
        checkRevision(revision);
        if (settings.offline()) {
            Optional<String> commit = cache.commitOf(repo, revision);
            if (commit.isEmpty() || !Files.isDirectory(cache.snapshotDir(repo, commit.get()))) {
                throw new HubException("offline, and " + repo + " (" + revision + ") is not in the cache "
                        + cache.root() + "; download it once without --offline / HF_HUB_OFFLINE");
            }
            return cache.snapshotDir(repo, commit.get());
        }
        Listing listing = listFiles(repo, revision);
        List<String> files = listing.files().stream().filter(wanted).toList();
        if (files.isEmpty()) {
            throw new HubException(repo + " has none of the files needed; it lists: " + String.join(", ", listing.files()));
        }
        String at = listing.commit() != null ? listing.commit() : revision;
        String commit = null;
        for (String file : files) {
            commit = fetch(repo, at, file).commit();
        }
        try {
            cache.writeRef(repo, revision, commit);
        } catch (IOException e) {
            throw new HubException("cannot write the cache ref of " + repo + ": " + e.getMessage(), e);
        }
        return cache.snapshotDir(repo, commit);
    }

    /** The local path of one file of a revision: the cached one, else downloaded (and verified) into the cache. */
    public Path download(String repo, String revision, String file) {
        checkRepo(repo);
        checkRevision(revision);
        checkFile(file);
        return fetch(repo, revision, file).path();
    }

    /** A file in the cache and the commit of the snapshot it is in. */
    private record Fetched(String commit, Path path) {}

    private Fetched fetch(String repo, String revision, String file) {
        Optional<Path> cached = cache.cachedFile(repo, revision, file);
        if (cached.isPresent()) {
            progress.done(file);
            return new Fetched(cache.commitOf(repo, revision).orElseThrow(), cached.get());
        }
        if (settings.offline()) {
            throw new HubException("offline, and " + repo + "/" + file + " is not in the cache " + cache.root()
                    + "; download it once without --offline / HF_HUB_OFFLINE");
        }
        URI uri = URI.create(settings.endpoint() + "/" + repo + "/resolve/" + encode(revision) + "/" + encodePath(file));
        FileMetadata meta = withRetries(uri, () -> metadata(uri, repo, file, revision));
        try {
            if (!Files.isRegularFile(cache.blob(repo, meta.etag()))) {
                fetchBlob(repo, file, meta);
            }
            Path linked = cache.linkSnapshot(repo, meta.commit(), file, meta.etag());
            cache.writeRef(repo, revision, meta.commit());
            progress.done(file);
            return new Fetched(meta.commit(), linked);
        } catch (IOException e) {
            throw new HubException("cannot write " + file + " into the cache " + cache.root() + ": " + e.getMessage(), e);
        }
    }

    /** What the hub says about a file before its bytes are fetched. */
    private record FileMetadata(String commit, String etag, long size, URI location) {}

    private FileMetadata metadata(URI uri, String repo, String file, String revision) throws IOException,
            InterruptedException {
        HttpResponse<Void> r = send(uri, "HEAD", -1, HttpResponse.BodyHandlers.discarding());
        for (int hop = 0; isRedirect(r.statusCode()) && r.headers().firstValue("X-Repo-Commit").isEmpty(); hop++) {
            if (hop == MAX_REDIRECTS) {
                throw new HubException("more than " + MAX_REDIRECTS + " redirects from " + uri);
            }
            uri = redirectTarget(uri, r); // a renamed repo answers with a redirect to its new name
            r = send(uri, "HEAD", -1, HttpResponse.BodyHandlers.discarding());
        }
        checkStatus(r, repo, file, revision);
        HttpHeaders headers = r.headers();
        String commit = headers.firstValue("X-Repo-Commit").orElse(null);
        String etag = headers.firstValue("X-Linked-Etag").or(() -> headers.firstValue("ETag"))
                .map(HfHub::normalizeEtag).orElse(null);
        if (commit == null || !isCommitHash(commit) || etag == null || etag.isEmpty() || !isSafeName(etag)) {
            throw new HubException("the hub's answer for " + repo + "/" + file
                    + " lacks a commit hash (X-Repo-Commit) or an ETag; is " + settings.endpoint() + " a Hugging Face hub?");
        }
        long size = headers.firstValue("X-Linked-Size").or(() -> headers.firstValue("Content-Length"))
                .map(HfHub::parseSize).orElse(-1L);
        URI location = isRedirect(r.statusCode()) ? redirectTarget(uri, r) : uri;
        return new FileMetadata(commit, etag, size, location);
    }

    /** Fetches the file's bytes into {@code blobs/{etag}}, resuming a partial download and verifying its sha256. */
    private void fetchBlob(String repo, String file, FileMetadata meta) throws IOException {
        Path part = cache.incomplete(repo, meta.etag());
        Files.createDirectories(part.getParent());
        withRetries(meta.location(), () -> {
            fetchInto(part, repo, file, meta);
            return null;
        });
        long got = Files.size(part);
        if (meta.size() >= 0 && got != meta.size()) {
            Files.deleteIfExists(part);
            throw new HubException(repo + "/" + file + ": got " + got + " bytes, the hub said " + meta.size()
                    + "; the partial file was deleted, run again to download it afresh");
        }
        if (SHA256.matcher(meta.etag()).matches()) {
            String actual = sha256(part);
            if (!actual.equals(meta.etag())) {
                Files.deleteIfExists(part);
                throw new HubException(repo + "/" + file + " is corrupt: its sha256 is " + actual + " but the hub says "
                        + meta.etag() + "; the download was deleted, run again to retry");
            }
        }
        Files.move(part, cache.blob(repo, meta.etag()), StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
    }

    private void fetchInto(Path part, String repo, String file, FileMetadata meta) throws IOException,
            InterruptedException {
        long have = Files.exists(part) ? Files.size(part) : 0;
        if (meta.size() >= 0 && have == meta.size()) {
            return; // an earlier attempt got every byte
        }
        if (meta.size() >= 0 && have > meta.size()) {
            Files.delete(part);
            have = 0;
        }
        HttpResponse<InputStream> r = follow(meta.location(), "GET", have, HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream body = r.body()) {
            if (r.statusCode() == 416) {
                Files.delete(part); // the partial file does not fit the file on the hub: start over
                throw new IOException("the server refused to resume at byte " + have);
            }
            checkStatus(r, repo, file, null);
            boolean resumed = r.statusCode() == 206 && rangeStart(r) == have;
            if (!resumed) {
                if (r.statusCode() == 206) {
                    throw new IOException("the server answered a different range than asked for");
                }
                have = 0; // the server ignored the Range header: start over
            }
            long total = meta.size() >= 0 ? meta.size()
                    : r.headers().firstValueAsLong("Content-Length").orElse(-1L) + (resumed ? have : 0);
            try (FileChannel out = FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                out.truncate(have);
                out.position(have);
                byte[] buffer = new byte[1 << 20];
                progress.update(file, have, total);
                for (int n; (n = body.read(buffer)) > 0; ) {
                    out.write(ByteBuffer.wrap(buffer, 0, n));
                    have += n;
                    progress.update(file, have, total);
                }
            }
        }
    }

    private static long rangeStart(HttpResponse<?> r) {
        // Content-Range: bytes START-END/TOTAL
        String range = r.headers().firstValue("Content-Range").orElse("");
        Matcher m = Pattern.compile("bytes (\\d+)-").matcher(range);
        return m.lookingAt() ? Long.parseLong(m.group(1)) : -1;
    }

    /** Sends a request, following redirects by hand; the token goes only to the hub's own host. */
    private <T> HttpResponse<T> follow(URI uri, String method, long rangeStart, HttpResponse.BodyHandler<T> handler)
            throws IOException, InterruptedException {
        for (int hop = 0; ; hop++) {
            HttpResponse<T> r = send(uri, method, rangeStart, handler);
            if (!isRedirect(r.statusCode())) {
                return r;
            }
            if (hop == MAX_REDIRECTS) {
                throw new HubException("more than " + MAX_REDIRECTS + " redirects from " + uri);
            }
            if (r.body() instanceof InputStream in) {
                in.close();
            }
            uri = redirectTarget(uri, r);
        }
    }

    private <T> HttpResponse<T> send(URI uri, String method, long rangeStart, HttpResponse.BodyHandler<T> handler)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri)
                .method(method, HttpRequest.BodyPublishers.noBody())
                .header("User-Agent", "bitnet4j")
                .timeout(Duration.ofSeconds(60)); // until the headers arrive
        if (rangeStart > 0) {
            b.header("Range", "bytes=" + rangeStart + "-");
        }
        if (settings.token() != null && sameHost(uri, settings.endpoint())) {
            b.header("Authorization", "Bearer " + settings.token());
        }
        return http.send(b.build(), handler);
    }

    private static boolean sameHost(URI a, URI b) {
        return a.getHost() != null && a.getHost().equalsIgnoreCase(b.getHost()) && a.getPort() == b.getPort();
    }

    private static boolean isRedirect(int status) {
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    }

    private static URI redirectTarget(URI from, HttpResponse<?> r) {
        String location = r.headers().firstValue("Location")
                .orElseThrow(() -> new HubException("redirect without a Location from " + from));
        return from.resolve(location);
    }

    private void checkStatus(HttpResponse<?> r, String repo, String file, String revision) {
        int status = r.statusCode();
        if (status < 400) {
            return;
        }
        String code = r.headers().firstValue("X-Error-Code").orElse("");
        String what = file == null ? repo : repo + "/" + file;
        String tokenHint = settings.token() == null
                ? "set HF_TOKEN to a token with read access (and accept the model's terms on its page)"
                : "the HF_TOKEN sent may not read it (accept the model's terms on its page, check the token)";
        if (status == 401 || status == 403 || code.equals("GatedRepo")) {
            String kind = code.equals("RepoNotFound") ? "not found, or private or gated" : "access denied, gated or private";
            throw new HubException(what + ": " + kind + " (HTTP " + status + "): " + tokenHint);
        }
        if (status == 404) {
            switch (code) {
                case "EntryNotFound" -> throw new HubException("file not found: " + repo + " has no " + file);
                case "RevisionNotFound" -> throw new HubException(repo + " has no revision " + revision);
                case "RepoNotFound" -> throw new HubException("repository not found: " + repo);
                default -> throw new HubException("not found on the hub (HTTP 404): " + what
                        + " — check the repository name and the file name");
            }
        }
        if (status >= 500 || status == 429) {
            throw new RetryableStatus(status);
        }
        throw new HubException(what + ": the hub answered HTTP " + status);
    }

    /** A server-side failure worth retrying. */
    private static final class RetryableStatus extends RuntimeException {
        RetryableStatus(int status) {
            super("HTTP " + status, null, false, false);
        }
    }

    private interface NetworkStep<T> {
        T run() throws IOException, InterruptedException;
    }

    private <T> T withRetries(URI uri, NetworkStep<T> step) {
        for (int attempt = 1; ; attempt++) {
            Exception failure;
            try {
                return step.run();
            } catch (HubException e) {
                throw e;
            } catch (IOException | RetryableStatus e) {
                failure = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HubException("interrupted while downloading from " + uri.getHost(), e);
            }
            if (attempt == settings.maxAttempts()) {
                throw new HubException("cannot download from " + settings.endpoint() + " after " + attempt
                        + " attempts: " + describe(failure) + " (with --offline or HF_HUB_OFFLINE=1, only the cache "
                        + "is used)", failure);
            }
            try {
                Thread.sleep(settings.firstRetryDelay().multipliedBy(1L << (attempt - 1)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HubException("interrupted while downloading from " + uri.getHost(), e);
            }
        }
    }

    private static String describe(Exception e) {
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
    }

    static boolean isCommitHash(String revision) {
        return COMMIT.matcher(revision).matches();
    }

    /** ETags come quoted, and weak ones with a {@code W/} prefix. */
    static String normalizeEtag(String etag) {
        String e = etag.strip();
        if (e.startsWith("W/")) {
            e = e.substring(2);
        }
        return e.replace("\"", "");
    }

    private static boolean isSafeName(String etag) {
        return etag.matches("[A-Za-z0-9_.-]+") && !etag.startsWith(".");
    }

    private static long parseSize(String value) {
        try {
            return Long.parseLong(value.strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 20];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private static void checkRepo(String repo) {
        if (repo == null || !REPO_ID.matcher(repo).matches() || repo.contains("..")) {
            throw new IllegalArgumentException("'" + repo + "' is not a Hugging Face repository id (org/name)");
        }
    }

    private static void checkRevision(String revision) {
        if (!REVISION.matcher(revision).matches() || revision.contains("..")) {
            throw new IllegalArgumentException("'" + revision + "' is not a revision name");
        }
    }

    private static void checkFile(String file) {
        boolean bad = file.isEmpty() || file.startsWith("/") || file.contains("\\") || file.contains("\0");
        for (String segment : file.split("/", -1)) {
            bad |= segment.isEmpty() || segment.equals(".") || segment.equals("..");
        }
        if (bad) {
            throw new IllegalArgumentException("'" + file + "' is not a file path inside a repository");
        }
    }

    private static String encode(String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String encodePath(String file) {
        return String.join("/", Arrays.stream(file.split("/")).map(HfHub::encode).toList());
    }
}
