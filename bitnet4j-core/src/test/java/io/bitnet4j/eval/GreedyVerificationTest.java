package io.bitnet4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bitnet4j.generate.BitNetModel;
import io.bitnet4j.synth.ModelLayout;
import io.bitnet4j.synth.SynthModel;
import io.bitnet4j.synth.SynthOptions;
import io.bitnet4j.tensor.GgmlType;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The fast kernels are bit-exact to the scalar references, so greedy decoding must agree token for token. */
class GreedyVerificationTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"I2_S", "TQ2_0"})
    void fastAndReferencePathsDecodeTheSameTokens(GgmlType type) {
        Path file = dir.resolve(type + ".gguf");
        SynthModel.write(SynthOptions.builder().layout(ModelLayout.TINY).type(type).seed(3).build(), file);
        try (BitNetModel model = BitNetModel.load(file, 2);
                GreedyVerification v = new GreedyVerification(model, 128, 4, 2)) {
            for (String prompt : new String[] {"The capital of France is", "1 2 3", "Once upon a time, in a land"}) {
                GreedyVerification.Result r = v.compare(prompt, 24);
                assertTrue(r.fast().length > 0);
                assertTrue(r.identical(), type + " diverges on \"" + prompt + "\" at " + r.firstDivergence());
                assertEquals(1.0, r.matchRate());
            }
            var tooLong = assertThrows(IllegalArgumentException.class, () -> v.compare("x".repeat(200), 10));
            assertTrue(tooLong.getMessage().contains("exceeds the context of 128"), tooLong.getMessage());
        }
    }

    @Test
    void resultReportsTheFirstDivergenceAndTheMatchRate() {
        var r = new GreedyVerification.Result("p", 3, new int[] {5, 6, 7, 8}, new int[] {5, 6, 9, 8});
        assertEquals(2, r.firstDivergence());
        assertEquals(0.75, r.matchRate());
        var shorter = new GreedyVerification.Result("p", 3, new int[] {5, 6}, new int[] {5, 6, 1, 2});
        assertEquals(2, shorter.firstDivergence());
        assertEquals(0.5, shorter.matchRate());
        assertEquals(-1, new GreedyVerification.Result("p", 3, new int[] {1}, new int[] {1}).firstDivergence());
    }
}
