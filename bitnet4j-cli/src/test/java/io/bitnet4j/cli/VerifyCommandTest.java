package io.bitnet4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bitnet4j.synth.ModelLayout;
import io.bitnet4j.synth.SynthModel;
import io.bitnet4j.synth.SynthOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code bitnet4j verify}: fast and reference kernels agree on tiny synth models of the ternary types. */
class VerifyCommandTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"i2_s", "tq2_0"})
    void everyPromptIsIdentical(String type) throws Exception {
        Path model = dir.resolve(type + ".gguf");
        SynthModel.write(SynthOptions.builder().layout(ModelLayout.TINY).type(type).seed(4).build(), model);
        Path prompts = dir.resolve("prompts.txt");
        Files.writeString(prompts, "The capital of France is\n\nOnce upon a time\n1, 2, 3,\n");
        CliRun r = CliRun.of("verify", "-m", model.toString(), "--prompts", prompts.toString(), "-n", "16", "-t", "2");
        assertEquals(0, r.exitCode(), r.err() + r.out());
        assertTrue(r.out().contains("3/3 prompts identical"), r.out());
        assertEquals(3, r.out().lines().filter(l -> l.contains("100.0%")).count(), r.out());
    }

    @Test
    void emptyPromptFileIsAClearError() throws Exception {
        Path model = dir.resolve("tiny.gguf");
        SynthModel.write(SynthOptions.builder().layout(ModelLayout.TINY).build(), model);
        Path prompts = dir.resolve("empty.txt");
        Files.writeString(prompts, "\n \n");
        CliRun r = CliRun.of("verify", "-m", model.toString(), "--prompts", prompts.toString());
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("no prompts in"), r.err());
    }
}
