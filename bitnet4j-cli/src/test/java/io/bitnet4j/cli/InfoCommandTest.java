package io.bitnet4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InfoCommandTest {
    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void writeTinyModel() {
        model = dir.resolve("tiny.gguf");
        CliRun r = CliRun.of("synth", "--layout", "tiny", "-o", model.toString());
        assertEquals(0, r.exitCode(), r.err());
    }

    @Test
    void textListsMetadataAndTensors() throws Exception {
        CliRun r = CliRun.of("info", model.toString());
        assertEquals(0, r.exitCode(), r.err());
        String out = r.out();
        assertTrue(out.startsWith("file: " + model + " (" + Files.size(model) + " B, GGUF v3, alignment 32)"), out);
        assertTrue(out.contains("metadata: 23 keys"), out);
        assertTrue(out.matches("(?s).*\n  general\\.architecture +\"bitnet-b1\\.58\"\n.*"), out);
        assertTrue(out.matches("(?s).*\n  tokenizer\\.ggml\\.tokens +\\[string x 512\\] \"!\", .*"), out);
        assertTrue(out.contains("tensors: 24,"), out);
        // I2_S: 256*256/4 packed bytes + 32-byte scale trailer
        assertTrue(out.matches("(?s).*\n  blk\\.0\\.attn_q\\.weight +I2_S +\\[256, 256\\] +16,416\n.*"), out);
        assertTrue(out.matches("(?s).*\n  token_embd\\.weight +F16 +\\[256, 512\\] +262,144\n.*"), out);
    }

    @Test
    void jsonWithFullArrays() throws Exception {
        CliRun r = CliRun.of("info", "--json", "--full-arrays", model.toString());
        assertEquals(0, r.exitCode(), r.err());
        JsonNode root = new ObjectMapper().readTree(r.out());
        assertEquals(3, root.get("version").asInt());
        JsonNode tokens = root.get("metadata").get("tokenizer.ggml.tokens");
        assertEquals(512, tokens.size());
        assertEquals("<|begin_of_text|>", tokens.get(502).asText());
        assertEquals(24, root.get("tensors").size());
        long previousEnd = 0;
        for (JsonNode t : root.get("tensors")) {
            assertEquals(0, t.get("offset").asLong() % 32, "aligned offsets");
            assertTrue(t.get("offset").asLong() >= previousEnd);
            previousEnd = t.get("offset").asLong() + t.get("bytes").asLong();
        }
    }

    @Test
    void missingFileIsOneErrorLine() {
        CliRun r = CliRun.of("info", dir.resolve("nope.gguf").toString());
        assertEquals(1, r.exitCode());
        assertEquals("error: " + dir.resolve("nope.gguf") + ": no such file", r.err().strip());
    }

    @Test
    void notAGgufFile() throws Exception {
        Path text = dir.resolve("readme.gguf");
        Files.writeString(text, "hello, world");
        CliRun r = CliRun.of("info", text.toString());
        assertEquals(1, r.exitCode());
        assertEquals("error: readme.gguf: not a GGUF file (bad magic; expected the bytes 'GGUF' at offset 0)",
                r.err().strip());
    }

    @Test
    void truncatedFileSaysSo() throws Exception {
        byte[] bytes = Files.readAllBytes(model);
        Path cut = dir.resolve("cut.gguf");
        Files.write(cut, Arrays.copyOf(bytes, bytes.length - 100));
        CliRun r = CliRun.of("info", cut.toString());
        assertEquals(1, r.exitCode());
        assertTrue(r.err().startsWith("error: cut.gguf: tensor 'blk.1.ffn_down.weight' data ["), r.err());
        assertTrue(r.err().contains("the file is truncated or corrupt"), r.err());
    }
}
