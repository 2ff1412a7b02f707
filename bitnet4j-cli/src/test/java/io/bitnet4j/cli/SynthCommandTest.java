package io.bitnet4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SynthCommandTest {
    @TempDir
    Path dir;

    /** synth, then info --json: the file describes the layout's architecture with the requested shape. */
    @ParameterizedTest
    @CsvSource({"2b4t, bitnet-b1.58, 13", "bitnet-large, bitnet, 13", "bitnet-3b, bitnet, 13",
        "llama3-8b-1.58, llama, 12", "falcon3-1b, llama, 12", "tiny, bitnet-b1.58, 13"})
    void synthThenInfoJsonRoundTrip(String layout, String arch, int tensors) throws Exception {
        Path file = dir.resolve(layout + ".gguf");
        CliRun synth = CliRun.of("synth", "--layout", layout, "--layers", "1", "--hidden", "256", "--heads", "4",
                "--kv-heads", "2", "--ff", "512", "--vocab", "1024", "--type", "tq2_0", "-o", file.toString());
        assertEquals(0, synth.exitCode(), synth.err());
        assertTrue(synth.out().startsWith("wrote " + file + ": layout " + layout + ", " + tensors + " tensors"),
                synth.out());
        assertTrue(synth.err().contains("synth: 100%  " + tensors + "/" + tensors + " tensors"), synth.err());

        CliRun info = CliRun.of("info", "--json", file.toString());
        assertEquals(0, info.exitCode(), info.err());
        JsonNode root = new ObjectMapper().readTree(info.out());
        assertEquals(Files.size(file), root.get("file_size").asLong());
        JsonNode meta = root.get("metadata");
        assertEquals(arch, meta.get("general.architecture").asText());
        assertEquals(1, meta.get(arch + ".block_count").asInt());
        assertEquals(256, meta.get(arch + ".embedding_length").asInt());
        assertEquals(2, meta.get(arch + ".attention.head_count_kv").asInt());
        assertEquals(37, meta.get("general.file_type").asInt(), "mostly TQ2_0");
        assertEquals(1024, meta.get("tokenizer.ggml.tokens").get("length").asInt());
        List<String> names = new ArrayList<>();
        for (JsonNode t : root.get("tensors")) {
            names.add(t.get("name").asText());
            if (t.get("name").asText().equals("blk.0.ffn_down.weight")) {
                assertEquals("TQ2_0", t.get("type").asText());
                assertEquals("[512,256]", t.get("shape").toString());
                assertEquals(512 * 256 / 256 * 66, t.get("bytes").asLong());
            }
        }
        assertEquals(tensors, names.size());
        assertEquals(arch.equals("llama"), names.contains("output.weight"));
        assertEquals(!arch.equals("llama"), names.contains("blk.0.ffn_sub_norm.weight"));
    }

    @Test
    void sameSeedSameFile() throws Exception {
        Path a = dir.resolve("a.gguf");
        Path b = dir.resolve("b.gguf");
        assertEquals(0, CliRun.of("synth", "--seed", "5", "-o", a.toString()).exitCode());
        assertEquals(0, CliRun.of("synth", "--seed", "5", "-o", b.toString()).exitCode());
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
    }

    @Test
    void fallbacksArePrintedAsNotes() {
        CliRun r = CliRun.of("synth", "--layout", "bitnet-3b", "--layers", "1", "--hidden", "256", "--heads", "4",
                "--ff", "8640", "--vocab", "1024", "-o", dir.resolve("3b.gguf").toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.err().contains("note: blk.*.ffn_down.weight: row length 8640 is not a multiple of I2_S's block "
                + "of 128; written as Q8_0"), r.err());
    }

    @Test
    void badOptionsPrintOneErrorLine() {
        String out = dir.resolve("x.gguf").toString();
        assertError("error: unknown layout 'nope' (known: 2b4t, bitnet-large, bitnet-3b, llama3-8b-1.58, falcon3-1b, tiny)",
                "synth", "--layout", "nope", "-o", out);
        assertError("error: --type q4_0 is not a linear weight type synth writes (use one of i2_s, tq1_0, tq2_0, f16, f32)",
                "synth", "--type", "q4_0", "-o", out);
        assertError("error: --hidden 256 is not a multiple of --heads 3", "synth", "--heads", "3", "-o", out);
        assertError("error: no such file: " + dir.resolve("missing.json"),
                "synth", "--tokenizer", dir.resolve("missing.json").toString(), "-o", out);
        assertFalse(Files.exists(dir.resolve("x.gguf")), "no file is left behind after an error");
        CliRun noOutput = CliRun.of("synth", "--layout", "tiny");
        assertEquals(2, noOutput.exitCode());
        assertTrue(noOutput.err().contains("Missing required option: '--output=FILE'"), noOutput.err());
    }

    private static void assertError(String line, String... args) {
        CliRun r = CliRun.of(args);
        assertEquals(1, r.exitCode(), r.out());
        assertEquals(line, r.err().strip());
    }
}
