package io.bitnet4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.bitnet4j.synth.ModelLayout;
import io.bitnet4j.synth.SynthModel;
import io.bitnet4j.synth.SynthOptions;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Decoding several sequences in one pass gives each exactly the logits it gets when decoded alone. */
class ForwardEachTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} {1} {2}")
    @CsvSource({"tiny, i2_s, f16", "tiny, tq2_0, q6_k", "bitnet-large, tq1_0, q8_0", "falcon3-1b, i2_s, f16"})
    void rowsMatchSingleSequenceDecoding(String layout, String type, String embd) {
        Path file = dir.resolve(layout + "-" + type + ".gguf");
        SynthModel.write(SynthOptions.builder().layout(layout).type(type).embdType(embd).layers(2).hidden(256)
                .heads(4).kvHeads(2).ff(512).vocab(600).seed(11).build(), file);
        int[][] prompts = {{1, 2, 3}, {4, 5, 6, 7, 8, 9}, {10}};
        int[] next = {20, 21, 22};
        try (Model model = Model.load(file); WorkerPool pool = new WorkerPool(2)) {
            int vocab = model.config().vocabSize();
            float[][] alone = new float[prompts.length][];
            KvCache[] caches = new KvCache[prompts.length];
            for (int i = 0; i < prompts.length; i++) {
                ForwardPass fp = model.newForwardPass(pool, 8, 32);
                KvCache own = new KvCache(model.config(), 32);
                fp.forward(own, prompts[i], 0, prompts[i].length);
                alone[i] = fp.forward(own, next, i, 1).clone();
                caches[i] = new KvCache(model.config(), 32);
                fp.forward(caches[i], prompts[i], 0, prompts[i].length);
            }
            ForwardPass batch = model.newForwardPass(pool, 4, 32);
            float[][] out = new float[prompts.length][vocab];
            batch.forwardEach(caches, next, prompts.length, out);
            for (int i = 0; i < prompts.length; i++) {
                assertArrayEquals(alone[i], out[i], "sequence " + i);
                assertEquals(prompts[i].length + 1, caches[i].length());
            }
            KvCache[] twice = {caches[0], caches[0]};
            assertThrows(IllegalArgumentException.class, () -> batch.forwardEach(twice, next, 2, out));
        }
    }
}
