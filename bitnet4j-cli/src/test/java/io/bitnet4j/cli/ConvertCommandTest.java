package io.bitnet4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bitnet4j.convert.TinyCheckpoint;
import io.bitnet4j.gguf.GgufFile;
import io.bitnet4j.tensor.GgmlType;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConvertCommandTest {
    @TempDir
    Path dir;

    /** convert writes a loadable GGUF of the requested types, with a progress line on stderr, then info reads it. */
    @Test
    void convertsACheckpointFolder() {
        Path hf = TinyCheckpoint.create(TinyCheckpoint.Kind.BITNET_2B4T_PACKED, 3).writeHf(dir.resolve("BitNet-tiny"));
        Path out = dir.resolve("tiny.gguf");
        CliRun run = CliRun.of("convert", hf.toString(), "-o", out.toString(), "--type", "tq1_0", "--embd-type", "q8_0");
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().startsWith("wrote " + out + ": bitnet-b1.58, 24 tensors"), run.out());
        assertTrue(run.err().contains("convert: 100%  24/24 tensors"), run.err());
        try (GgufFile f = GgufFile.open(out)) {
            assertEquals("BitNet-tiny", f.metadata().getString("general.name"));
            assertEquals(GgmlType.TQ1_0, f.tensorInfo("blk.1.ffn_down.weight").type());
            assertEquals(GgmlType.Q8_0, f.tensorInfo("token_embd.weight").type());
            assertEquals(GgmlType.F32, f.tensorInfo("blk.0.attn_sub_norm.weight").type());
        }
        CliRun info = CliRun.of("info", out.toString());
        assertEquals(0, info.exitCode(), info.err());
    }

    @Test
    void badInputIsOneClearLine() throws Exception {
        Path hf = TinyCheckpoint.create(TinyCheckpoint.Kind.LLAMA_F16, 3).writeHf(dir.resolve("m"));
        Path out = dir.resolve("o.gguf");
        CliRun wrongType = CliRun.of("convert", hf.toString(), "-o", out.toString(), "--type", "q4_0");
        assertEquals(1, wrongType.exitCode());
        assertEquals("error: --type q4_0 is not a type convert writes (use one of i2_s, tq2_0, tq1_0, f16)",
                wrongType.err().strip());

        Files.writeString(hf.resolve("config.json"), "{\"architectures\": [\"LlamaForCausalLM\"], ");
        CliRun badConfig = CliRun.of("convert", hf.toString(), "-o", out.toString());
        assertEquals(1, badConfig.exitCode());
        assertTrue(badConfig.err().startsWith("error: " + hf.resolve("config.json") + ": invalid JSON"), badConfig.err());
        assertFalse(badConfig.err().contains("\tat "), badConfig.err());

        CliRun missing = CliRun.of("convert", dir.resolve("nowhere").toString(), "-o", out.toString());
        assertEquals(1, missing.exitCode());
        assertTrue(missing.err().contains("is not a directory"), missing.err());
        assertFalse(Files.exists(out));
    }
}
