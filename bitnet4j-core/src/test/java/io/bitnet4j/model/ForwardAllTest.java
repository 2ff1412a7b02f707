package io.bitnet4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.bitnet4j.synth.SynthModel;
import io.bitnet4j.synth.SynthOptions;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The logits of every position of a batch: row t is what {@link ForwardPass#forward} returns for tokens [0, t]. */
class ForwardAllTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"tiny, i2_s", "tiny, tq2_0", "falcon3-1b, tq1_0"})
    void everyRowIsTheLastRowOfTheShorterBatch(String layout, String type) {
        Path file = dir.resolve(layout + "-" + type + ".gguf");
        SynthModel.write(SynthOptions.builder().layout(layout).type(type).layers(2).hidden(256).heads(4).kvHeads(2)
                .ff(512).vocab(600).seed(5).build(), file);
        int[] tokens = {1, 50, 7, 300, 12, 9, 44};
        int n = tokens.length;
        try (Model model = Model.load(file); WorkerPool pool = new WorkerPool(2)) {
            int vocab = model.config().vocabSize();
            ForwardPass pass = model.newForwardPass(pool, 8, 16);
            KvCache cache = new KvCache(model.config(), 16);
            float[] all = new float[1 + n * vocab];
            pass.forwardAll(cache, tokens, 0, n, all, 1);
            assertEquals(n, cache.length());
            // row 0 alone would be a single token, which takes the non-batch attention arithmetic: start at 1
            for (int t = 1; t < n; t++) {
                float[] expected = pass.forward(new KvCache(model.config(), 16), tokens, 0, t + 1);
                assertArrayEquals(expected, Arrays.copyOfRange(all, 1 + t * vocab, 1 + (t + 1) * vocab), "row " + t);
            }
            float[] small = new float[n * vocab - 1];
            assertThrows(IndexOutOfBoundsException.class,
                    () -> pass.forwardAll(new KvCache(model.config(), 16), tokens, 0, n, small, 0));
        }
    }
}
