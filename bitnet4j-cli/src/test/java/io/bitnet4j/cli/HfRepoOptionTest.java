package io.bitnet4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.bitnet4j.convert.TinyCheckpoint;
import io.bitnet4j.hub.FakeHub;
import io.bitnet4j.hub.HfHub;
import io.bitnet4j.synth.ModelLayout;
import io.bitnet4j.synth.SynthModel;
import io.bitnet4j.synth.SynthOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code --hf-repo} on run and convert, against a fake hub on 127.0.0.1 (the endpoint and cache set by properties). */
class HfRepoOptionTest {
    @TempDir
    Path dir;
    private FakeHub hub;

    @BeforeEach
    void startHub() throws IOException {
        hub = new FakeHub();
        System.setProperty(HfHub.ENDPOINT_PROPERTY, hub.endpoint().toString());
        System.setProperty(HfHub.CACHE_PROPERTY, dir.resolve("cache").toString());
    }

    @AfterEach
    void stopHub() {
        hub.close();
        System.clearProperty(HfHub.ENDPOINT_PROPERTY);
        System.clearProperty(HfHub.CACHE_PROPERTY);
    }

    @Test
    void runDownloadsTheRepoGgufWithProgressThenWorksOffline() throws IOException {
        Path model = dir.resolve("tiny.gguf");
        SynthModel.write(SynthOptions.builder().layout(ModelLayout.TINY).seed(3).build(), model);
        hub.addFile("org/tiny", "ggml-model-i2_s.gguf", Files.readAllBytes(model), true);
        hub.addFile("org/tiny", "README.md", new byte[] {'#'}, false);

        CliRun online = CliRun.of("run", "--hf-repo", "org/tiny", "-p", "Hello", "-n", "4", "--temp", "0", "-t", "1");
        assertEquals(0, online.exitCode(), online.err());
        assertTrue(online.err().contains("download ggml-model-i2_s.gguf: 100%"), online.err());
        assertTrue(online.err().contains("MB/s"), online.err());
        CliRun local = CliRun.of("run", "-m", model.toString(), "-p", "Hello", "-n", "4", "--temp", "0", "-t", "1");
        assertEquals(local.out(), online.out());

        hub.close();
        CliRun offline = CliRun.of("run", "--hf-repo", "org/tiny:ggml-model-i2_s.gguf", "--offline", "-p", "Hello",
                "-n", "4", "--temp", "0", "-t", "1");
        assertEquals(0, offline.exitCode(), offline.err());
        assertEquals(local.out(), offline.out());
        assertFalse(offline.err().contains("download "), offline.err());

        CliRun bench = CliRun.of("bench", "--hf-repo", "org/tiny", "--offline", "-p", "8", "-n", "2", "-r", "1",
                "-t", "1", "--json");
        assertEquals(0, bench.exitCode(), bench.err());
        assertEquals("ggml-model-i2_s.gguf",
                new ObjectMapper().readTree(bench.out()).get(0).get("model_filename").asText());

        CliRun missing = CliRun.of("run", "--hf-repo", "org/tiny", "--hf-file", "other.gguf", "--offline", "-p", "x");
        assertEquals(1, missing.exitCode());
        assertTrue(missing.err().startsWith("error: offline, and org/tiny/other.gguf is not in the cache"),
                missing.err());
    }

    @Test
    void convertDownloadsTheCheckpointFilesAndWritesTheSameGgufAsFromAFolder() throws IOException {
        Path folder = TinyCheckpoint.create(TinyCheckpoint.Kind.BITNET_2B4T_PACKED, 3).writeHf(dir.resolve("BitNet-tiny"));
        try (Stream<Path> files = Files.list(folder)) {
            for (Path f : files.toList()) {
                String name = f.getFileName().toString();
                hub.addFile("org/BitNet-tiny", name, Files.readAllBytes(f), name.endsWith(".safetensors"));
            }
        }
        hub.addFile("org/BitNet-tiny", "ggml-model-i2_s.gguf", new byte[100], true); // not a checkpoint file

        Path fromHub = dir.resolve("hub.gguf");
        CliRun run = CliRun.of("convert", "--hf-repo", "org/BitNet-tiny", "-o", fromHub.toString());
        assertEquals(0, run.exitCode(), run.err());
        Path fromFolder = dir.resolve("folder.gguf");
        assertEquals(0, CliRun.of("convert", folder.toString(), "-o", fromFolder.toString()).exitCode());
        assertArrayEquals(Files.readAllBytes(fromFolder), Files.readAllBytes(fromHub));
        Path snapshot = dir.resolve("cache/models--org--BitNet-tiny/snapshots").resolve(FakeHub.COMMIT);
        assertFalse(Files.exists(snapshot.resolve("ggml-model-i2_s.gguf")));
    }

    /** serve names the model (for /v1/models) before it is downloaded: the file's name, else the repo's. */
    @Test
    void serveNamesTheModelAfterTheHubFile() {
        assertEquals("m.gguf", serveModelName("--hf-repo", "org/x:sub/m.gguf"));
        assertEquals("m.gguf", serveModelName("--hf-repo", "org/x", "--hf-file", "m.gguf"));
        assertEquals("BitNet-b1.58-2B-4T-gguf", serveModelName("--hf-repo", "microsoft/BitNet-b1.58-2B-4T-gguf"));
    }

    private static String serveModelName(String... args) {
        CommandLine cl = Main.commandLine();
        cl.parseArgs(Stream.concat(Stream.of("serve"), Stream.of(args)).toArray(String[]::new));
        return ((ServeCommand) cl.getSubcommands().get("serve").getCommand()).modelOptions.modelFileName();
    }

    @Test
    void badUseIsOneClearLine() {
        hub.addFile("org/gated", "m.gguf", new byte[10], true);
        hub.gate("org/gated");
        CliRun gated = CliRun.of("run", "--hf-repo", "org/gated", "-p", "x");
        assertEquals(1, gated.exitCode());
        assertTrue(gated.err().contains("HF_TOKEN") && !gated.err().contains("\tat "), gated.err());

        CliRun absent = CliRun.of("run", "--hf-repo", "org/absent:m.gguf", "-p", "x");
        assertEquals(1, absent.exitCode());
        assertTrue(absent.err().startsWith("error: not found on the hub (HTTP 404): org/absent/m.gguf"), absent.err());

        CliRun both = CliRun.of("run", "-m", "x.gguf", "--hf-repo", "org/gated", "-p", "x");
        assertEquals("error: give either -m or --hf-repo, not both", both.err().strip());
        CliRun fileAlone = CliRun.of("run", "--hf-file", "m.gguf", "-p", "x");
        assertEquals("error: --hf-file and --offline need --hf-repo", fileAlone.err().strip());
        CliRun convertBoth = CliRun.of("convert", "--hf-repo", "org/a", "-o", "x.gguf", dir.toString());
        assertEquals("error: give either HF_DIR or --hf-repo ORG/NAME", convertBoth.err().strip());
    }
}
