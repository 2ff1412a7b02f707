package io.bitnet4j.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HfHubTest {
    private static final String REPO = "org/model";
    private static final byte[] GGUF = randomBytes(1_000_003, 1);
    private static final byte[] CONFIG = "{\"architectures\":[\"BitNetForCausalLM\"]}".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path cacheDir;
    private FakeHub hub;

    @BeforeEach
    void startHub() throws IOException {
        hub = new FakeHub();
        hub.addFile(REPO, "config.json", CONFIG, false);
        hub.addFile(REPO, "ggml-model-i2_s.gguf", GGUF, true);
    }

    @AfterEach
    void stopHub() {
        hub.close();
    }

    private static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private HfHub.Settings settings(String token, boolean offline) {
        return new HfHub.Settings(hub.endpoint(), new HfCache(cacheDir), token, offline, 3, Duration.ofMillis(5));
    }

    private HfHub client() {
        return new HfHub(settings(null, false), DownloadProgress.NONE);
    }

    private Path repoDir() {
        return cacheDir.resolve("models--org--model");
    }

    @Test
    void downloadsIntoTheHuggingFaceCacheLayout() throws IOException {
        Path gguf = client().resolve(REPO + ":ggml-model-i2_s.gguf");
        Path config = client().download(REPO, "main", "config.json");

        Path snapshot = repoDir().resolve("snapshots").resolve(FakeHub.COMMIT);
        assertEquals(snapshot.resolve("ggml-model-i2_s.gguf"), gguf);
        assertArrayEquals(GGUF, Files.readAllBytes(gguf));
        assertArrayEquals(CONFIG, Files.readAllBytes(config));
        assertEquals(FakeHub.COMMIT, Files.readString(repoDir().resolve("refs/main")));
        // blobs are named by the LFS sha256 and by the git blob sha1, as huggingface_hub names them
        assertArrayEquals(GGUF, Files.readAllBytes(repoDir().resolve("blobs").resolve(FakeHub.sha256(GGUF))));
        assertArrayEquals(CONFIG, Files.readAllBytes(repoDir().resolve("blobs").resolve(FakeHub.gitBlobSha1(CONFIG))));
        if (Files.isSymbolicLink(gguf)) {
            assertEquals(Path.of("../../blobs/" + FakeHub.sha256(GGUF)), Files.readSymbolicLink(gguf));
        }
        try (Stream<Path> blobs = Files.list(repoDir().resolve("blobs"))) {
            assertFalse(blobs.anyMatch(p -> p.toString().endsWith(".incomplete")));
        }
    }

    @Test
    void reportsProgressUpToTheFileSize() {
        long[] last = {-1, -1};
        new HfHub(settings(null, false), (file, done, total) -> {
            last[0] = done;
            last[1] = total;
        }).download(REPO, "main", "ggml-model-i2_s.gguf");
        assertEquals(GGUF.length, last[0]);
        assertEquals(GGUF.length, last[1]);
    }

    @Test
    void secondRunIsServedFromTheCacheWithoutAnyRequest() {
        Path first = client().resolve(REPO);
        int requests = hub.requests.get();
        Path again = client().resolve(REPO);
        Path named = client().resolve(REPO + ":ggml-model-i2_s.gguf");
        assertEquals(first, again);
        assertEquals(first, named);
        assertEquals(requests, hub.requests.get());
    }

    @Test
    void defaultFileIsTheOnlyGgufOrTheI2sOneAndAmbiguityListsTheCandidates() {
        hub.addFile("org/one", "model-q.gguf", CONFIG, true);
        hub.addFile("org/one", "README.md", CONFIG, false);
        hub.addFile("org/many", "a.gguf", CONFIG, true);
        hub.addFile("org/many", "b.gguf", GGUF, true);
        hub.addFile("org/none", "model.safetensors", CONFIG, true);
        hub.addFile(REPO, "ggml-model-tq2_0.gguf", CONFIG, true);

        assertEquals("model-q.gguf", client().defaultGgufFile("org/one", "main"));
        assertEquals("ggml-model-i2_s.gguf", client().defaultGgufFile(REPO, "main"));
        HubException many = assertThrows(HubException.class, () -> client().resolve("org/many"));
        assertTrue(many.getMessage().contains("a.gguf, b.gguf") && many.getMessage().contains("org/many:FILE"),
                many.getMessage());
        HubException none = assertThrows(HubException.class, () -> client().resolve("org/none"));
        assertTrue(none.getMessage().contains("convert --hf-repo"), none.getMessage());
    }

    @Test
    void resumesAfterTheConnectionDropsMidFile() throws IOException {
        hub.dropAfter = 300_000;
        Path gguf = client().download(REPO, "main", "ggml-model-i2_s.gguf");
        assertArrayEquals(GGUF, Files.readAllBytes(gguf));
        // one resumed request, from what had arrived: up to the 300000 bytes sent (a reset may lose some in flight)
        assertEquals(1, hub.ranges.size(), hub.ranges.toString());
        long from = Long.parseLong(hub.ranges.get(0).replaceAll("bytes=(\\d+)-", "$1"));
        assertTrue(from > 0 && from <= 300_000, hub.ranges.toString());
    }

    @Test
    void resumesAPartialFileLeftByAnEarlierRun() throws IOException {
        Path part = new HfCache(cacheDir).incomplete(REPO, FakeHub.sha256(GGUF));
        Files.createDirectories(part.getParent());
        Files.write(part, java.util.Arrays.copyOf(GGUF, 123_456));
        Path gguf = client().download(REPO, "main", "ggml-model-i2_s.gguf");
        assertArrayEquals(GGUF, Files.readAllBytes(gguf));
        assertEquals(List.of("bytes=123456-"), hub.ranges);
        assertFalse(Files.exists(part));
    }

    @Test
    void corruptFileIsDeletedAndReported() throws IOException {
        hub.corrupt = true;
        HubException e = assertThrows(HubException.class,
                () -> client().download(REPO, "main", "ggml-model-i2_s.gguf"));
        assertTrue(e.getMessage().contains("corrupt") && e.getMessage().contains(FakeHub.sha256(GGUF)), e.getMessage());
        assertFalse(Files.exists(repoDir().resolve("snapshots")) && hasFiles(repoDir().resolve("snapshots")));
        assertFalse(hasFiles(repoDir().resolve("blobs")));

        hub.corrupt = false; // the next run starts afresh and succeeds
        assertArrayEquals(GGUF, Files.readAllBytes(client().download(REPO, "main", "ggml-model-i2_s.gguf")));
    }

    private static boolean hasFiles(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return false;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            return files.anyMatch(p -> !Files.isDirectory(p));
        }
    }

    @Test
    void offlineUsesTheCacheAndSaysWhenAFileIsMissing() {
        Path downloaded = client().resolve(REPO);
        hub.close();
        int requests = hub.requests.get();
        HfHub offline = new HfHub(settings(null, true), DownloadProgress.NONE);

        assertEquals(downloaded, offline.resolve(REPO));
        assertEquals(downloaded, offline.resolve(REPO + ":ggml-model-i2_s.gguf"));
        HubException missing = assertThrows(HubException.class, () -> offline.resolve(REPO + ":config.json"));
        assertTrue(missing.getMessage().contains("offline") && missing.getMessage().contains("config.json"),
                missing.getMessage());
        HubException other = assertThrows(HubException.class, () -> offline.resolve("org/other"));
        assertTrue(other.getMessage().contains("offline"), other.getMessage());
        assertEquals(requests, hub.requests.get());
    }

    @Test
    void gatedRepoNeedsTheToken() throws IOException {
        hub.addFile("org/gated", "m.gguf", GGUF, true);
        hub.gate("org/gated");
        HubException e = assertThrows(HubException.class, () -> client().resolve("org/gated:m.gguf"));
        assertTrue(e.getMessage().contains("401") && e.getMessage().contains("HF_TOKEN"), e.getMessage());

        HfHub withToken = new HfHub(settings(FakeHub.TOKEN, false), DownloadProgress.NONE);
        assertArrayEquals(GGUF, Files.readAllBytes(withToken.resolve("org/gated")));
    }

    @Test
    void followsTheRedirectOfARenamedRepo() throws IOException {
        hub.rename("org/old-name", REPO);
        Path gguf = client().download("org/old-name", "main", "ggml-model-i2_s.gguf");
        assertArrayEquals(GGUF, Files.readAllBytes(gguf));
        assertTrue(gguf.startsWith(cacheDir.resolve("models--org--old-name")), gguf.toString());
    }

    @Test
    void missingRepoAndMissingFileAreNamed() {
        HubException file = assertThrows(HubException.class, () -> client().resolve(REPO + ":nope.gguf"));
        assertTrue(file.getMessage().contains("file not found") && file.getMessage().contains("nope.gguf"),
                file.getMessage());
        HubException repo = assertThrows(HubException.class, () -> client().resolve("org/absent:x.gguf"));
        assertTrue(repo.getMessage().contains("404") && repo.getMessage().contains("org/absent"), repo.getMessage());
        HubException listing = assertThrows(HubException.class, () -> client().resolve("org/absent"));
        assertTrue(listing.getMessage().contains("repository not found: org/absent"), listing.getMessage());
    }

    @Test
    void unreachableHubIsRetriedThenReported() {
        hub.close();
        long start = System.nanoTime();
        HubException e = assertThrows(HubException.class, () -> client().resolve(REPO + ":config.json"));
        assertTrue(e.getMessage().contains("after 3 attempts") && e.getMessage().contains("--offline"), e.getMessage());
        assertTrue(System.nanoTime() - start < 10_000_000_000L);
    }

    @Test
    void downloadsTheWantedFilesOfASnapshot() throws IOException {
        hub.addFile(REPO, "model.safetensors", GGUF, true);
        Path dir = client().downloadSnapshot(REPO, "main", f -> f.endsWith(".json") || f.endsWith(".safetensors"));
        assertEquals(repoDir().resolve("snapshots").resolve(FakeHub.COMMIT), dir);
        assertArrayEquals(CONFIG, Files.readAllBytes(dir.resolve("config.json")));
        assertArrayEquals(GGUF, Files.readAllBytes(dir.resolve("model.safetensors")));
        assertFalse(Files.exists(dir.resolve("ggml-model-i2_s.gguf")));
        HfHub offline = new HfHub(settings(null, true), DownloadProgress.NONE);
        assertEquals(dir, offline.downloadSnapshot(REPO, "main", f -> true));
    }

    @Test
    void specsAndPathsAreChecked() {
        assertEquals(new HfHub.RepoFile("org/name", "sub/m.gguf"), HfHub.RepoFile.parse("org/name:sub/m.gguf"));
        assertEquals(new HfHub.RepoFile("org/name", null), HfHub.RepoFile.parse("org/name"));
        for (String bad : List.of("org/../x", "../x", "a/b/c", "org/name:../../etc/passwd", "org/name:/abs",
                "org/name:", "")) {
            assertThrows(IllegalArgumentException.class, () -> HfHub.RepoFile.parse(bad), bad);
        }
    }

    @Test
    void settingsFollowHuggingFaceEnvironmentVariables() {
        Properties none = new Properties();
        Map<String, String> env = Map.of("HF_HOME", "/data/hf", "HF_TOKEN", "t", "HF_HUB_OFFLINE", "1",
                "HF_ENDPOINT", "https://mirror.example/");
        HfHub.Settings s = HfHub.Settings.fromEnvironment(env, none);
        assertEquals(Path.of("/data/hf/hub"), s.cache().root());
        assertEquals("t", s.token());
        assertTrue(s.offline());
        assertEquals("https://mirror.example", s.endpoint().toString());

        assertEquals(Path.of("/c"), HfHub.Settings.fromEnvironment(Map.of("HF_HUB_CACHE", "/c", "HF_HOME", "/h"),
                none).cache().root());
        Properties props = new Properties();
        props.setProperty(HfHub.ENDPOINT_PROPERTY, "http://127.0.0.1:1");
        props.setProperty(HfHub.CACHE_PROPERTY, "/tmp/x");
        HfHub.Settings overridden = HfHub.Settings.fromEnvironment(env, props);
        assertEquals("http://127.0.0.1:1", overridden.endpoint().toString());
        assertEquals(Path.of("/tmp/x"), overridden.cache().root());
        assertFalse(HfHub.Settings.fromEnvironment(Map.of("HF_HUB_OFFLINE", "0", "HF_HOME", "/h"), none).offline());
    }
}
