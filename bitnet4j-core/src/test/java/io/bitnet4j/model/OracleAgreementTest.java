package io.bitnet4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bitnet4j.testing.OracleCase;
import io.bitnet4j.testing.SharedTestData;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The forward pass against what bitnet.cpp (I2_S, per-token int8 activations) and llama.cpp (TQ1_0/TQ2_0, Q8_K
 * activations) computed on the same files: last-prompt-position logits, the top-5 logits of every generation step,
 * and 32 greedy tokens, all from the prompt token ids the engines used.
 */
class OracleAgreementTest {
    /**
     * The last-position logits (float32 .npy) must be bit-identical: the forward pass reproduces every rounding of
     * ggml's x86 kernels (see GgmlFloat, ReferenceEngine), and any non-zero difference means a kernel drifted.
     */
    static final float LAST_LOGITS_TOLERANCE = 0f;
    /**
     * The per-step top-5 logits in cases.jsonl are printed with 6 decimals, so they carry up to 5e-7 of rounding;
     * 1e-6 leaves room for that and nothing else (the observed maximum is 4.8e-7).
     */
    static final float TOP5_TOLERANCE = 1e-6f;

    static Stream<OracleCase> cases() {
        Path root = SharedTestData.require("oracle");
        return Stream.of("bitnetcpp-i2s-tiny", "llamacpp-tq-tiny")
                .flatMap(folder -> OracleCase.load(root.resolve(folder)).stream());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesReferenceEngine(OracleCase oc) {
        try (Model model = Model.load(oc.modelPath()); WorkerPool pool = new WorkerPool(2)) {
            int steps = oc.greedyIds().length;
            int ctx = oc.promptIds().length + steps;
            ForwardPass fp = model.newForwardPass(pool, 64, ctx);
            KvCache cache = new KvCache(model.config(), ctx);

            float[] logits = fp.forward(cache, oc.promptIds(), 0, oc.promptIds().length);
            float lastDiff = Float.NaN;
            float[] expected = oc.lastLogits();
            if (expected != null) {
                lastDiff = maxAbsDiff(expected, logits);
                assertTrue(lastDiff <= LAST_LOGITS_TOLERANCE, "last-position logits differ by " + lastDiff);
                assertEquals(topK(expected, 10).length, 10);
                assertArrayEquals(topK(expected, 10), topK(logits, 10), "top-10 at the last prompt position");
            }
            int[] generated = new int[steps];
            float topDiff = 0;
            for (int s = 0; s < steps; s++) {
                int[] top = topK(logits, 5);
                for (int j = 0; j < 5; j++) {
                    topDiff = Math.max(topDiff, Math.abs(logits[oc.top5Ids()[s][j]] - oc.top5Logits()[s][j]));
                }
                assertArrayEquals(oc.top5Ids()[s], top, "top-5 ids at generation step " + s);
                generated[s] = top[0];
                if (s + 1 < steps) {
                    logits = fp.forward(cache, generated, s, 1);
                }
            }
            assertArrayEquals(oc.greedyIds(), generated, "greedy continuation");
            assertTrue(topDiff <= TOP5_TOLERANCE, "top-5 logits differ by up to " + topDiff);
            System.out.printf("oracle %s p%d: greedy %d/%d tokens identical, last-logits max|diff| %s, top-5 max|diff| %.2e%n",
                    oc.model(), oc.indexInModel(), steps, steps, Float.isNaN(lastDiff) ? "n/a" : String.format("%.2e", lastDiff), topDiff);
        }
    }

    static float maxAbsDiff(float[] a, float[] b) {
        float m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    /** Indices of the k largest values, best first, ties to the lower index (as the oracle's argmax). */
    static int[] topK(float[] v, int k) {
        int[] best = new int[k];
        java.util.Arrays.fill(best, -1);
        for (int i = 0; i < v.length; i++) {
            for (int j = 0; j < k; j++) {
                if (best[j] < 0 || v[i] > v[best[j]]) {
                    System.arraycopy(best, j, best, j + 1, k - j - 1);
                    best[j] = i;
                    break;
                }
            }
        }
        return best;
    }

}
