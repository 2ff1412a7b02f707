package io.bitnet4j.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SamplerTest {

    static final int LLAMA3_VOCAB = 128256;

    static SamplerParams params(float temperature, int topK, float topP, float minP, long seed) {
        return new SamplerParams(temperature, topK, topP, minP, 1.0f, 64, 0, 0, seed);
    }

    static float[] randomLogits(Random rnd, int n) {
        float[] logits = new float[n];
        for (int i = 0; i < n; i++) {
            logits[i] = (float) (rnd.nextGaussian() * 3);
        }
        return logits;
    }

    /** Logits whose softmax is exactly these probabilities (up to float rounding). */
    static float[] logitsOf(double... probabilities) {
        float[] logits = new float[probabilities.length];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) Math.log(probabilities[i]);
        }
        return logits;
    }

    static int[] sorted(int[] ids) {
        int[] copy = ids.clone();
        Arrays.sort(copy);
        return copy;
    }

    @Test
    void greedyIsArgmaxWithTiesToTheLowerId() {
        Sampler greedy = new Sampler(SamplerParams.greedy(), 6);
        assertEquals(3, greedy.sample(new float[] {0.1f, -2f, 1.5f, 4f, 3.9f, 4f}));
        assertEquals(1, greedy.sample(new float[] {0f, 7f, 7f, 7f, -1f, 6.99f}));
        // temperature <= 0 is greedy whatever the other settings
        Sampler cold = new Sampler(new SamplerParams(-1f, 40, 0.5f, 0.3f, 1.0f, 64, 0, 0, 1), 6);
        assertEquals(1, cold.sample(new float[] {0f, 7f, 7f, 7f, -1f, 6.99f}));
    }

    @Test
    void theCallersLogitsAreNotModified() {
        float[] logits = randomLogits(new Random(1), 1000);
        float[] copy = logits.clone();
        Sampler sampler = new Sampler(new SamplerParams(0.7f, 10, 0.9f, 0.05f, 1.3f, 64, 0.2f, 0.1f, 5), 1000);
        for (int i = 0; i < 100; i++) {
            sampler.accept(i);
        }
        sampler.sample(logits);
        assertArrayEquals(copy, logits);
    }

    @Test
    void aSeedReproducesTheSameTokens() {
        Random rnd = new Random(42);
        float[][] steps = new float[50][];
        for (int i = 0; i < steps.length; i++) {
            steps[i] = randomLogits(rnd, 5000);
        }
        SamplerParams p = SamplerParams.defaults().withSeed(1234);
        int[] first = run(new Sampler(p, 5000), steps);
        assertArrayEquals(first, run(new Sampler(p, 5000), steps));
        assertNotEquals(Arrays.toString(first), Arrays.toString(run(new Sampler(p.withSeed(1235), 5000), steps)));
        // reset() starts over: same random sequence, empty penalty window
        Sampler reused = new Sampler(p, 5000);
        run(reused, steps);
        reused.reset();
        assertArrayEquals(first, run(reused, steps));
    }

    static int[] run(Sampler sampler, float[][] steps) {
        int[] tokens = new int[steps.length];
        for (int i = 0; i < steps.length; i++) {
            tokens[i] = sampler.sample(steps[i]);
            sampler.accept(tokens[i]);
        }
        return tokens;
    }

    @Test
    void randomSeedIsDrawnAndReported() {
        Sampler a = new Sampler(SamplerParams.defaults(), 10);
        Sampler b = new Sampler(SamplerParams.defaults(), 10);
        assertNotEquals(a.seed(), b.seed()); // 2^-64 chance of a false failure
        assertEquals(77, new Sampler(SamplerParams.defaults().withSeed(77), 10).seed());
    }

    @Test
    void topKOfOneIsGreedy() {
        Random rnd = new Random(7);
        Sampler topOne = new Sampler(new SamplerParams(1.5f, 1, 0.95f, 0.05f, 1.0f, 64, 0, 0, 3), 3000);
        for (int i = 0; i < 200; i++) {
            float[] logits = randomLogits(rnd, 3000);
            logits[rnd.nextInt(3000)] = logits[rnd.nextInt(3000)]; // some ties
            assertEquals(Sampler.argmax(logits), topOne.sample(logits));
        }
    }

    @Test
    void topKKeepsTheKBestInOrder() {
        float[] logits = {0.5f, 3f, -1f, 3f, 2f, 9f};
        Sampler s = new Sampler(params(1f, 3, 1f, 0f, 1), logits.length);
        assertArrayEquals(new int[] {5, 1, 3}, s.survivors(logits)); // equal logits: lower id first
    }

    @Test
    void topPKeepsTheShortestPrefixReachingP() {
        // probabilities 0.5, 0.3, 0.15, 0.05 (shuffled over ids): cumulative 0.5, 0.8, 0.95, 1.0
        float[] logits = logitsOf(0.15, 0.5, 0.05, 0.3);
        assertArrayEquals(new int[] {1}, new Sampler(params(1f, 0, 0.4f, 0f, 1), 4).survivors(logits));
        assertArrayEquals(new int[] {1, 3}, new Sampler(params(1f, 0, 0.75f, 0f, 1), 4).survivors(logits));
        assertArrayEquals(new int[] {1, 3, 0}, new Sampler(params(1f, 0, 0.85f, 0f, 1), 4).survivors(logits));
        assertArrayEquals(new int[] {1, 3, 0, 2}, new Sampler(params(1f, 0, 0.99f, 0f, 1), 4).survivors(logits));
        // after top-k the probabilities are over the k survivors: 0.5/0.8 = 0.625, then 1.0
        assertArrayEquals(new int[] {1, 3}, new Sampler(params(1f, 2, 0.7f, 0f, 1), 4).survivors(logits));
        assertArrayEquals(new int[] {1}, new Sampler(params(1f, 2, 0.6f, 0f, 1), 4).survivors(logits));
    }

    @Test
    void minPKeepsTokensAtLeastPTimesTheBest() {
        // best 0.5: min-p 0.2 -> threshold 0.1 keeps 0.5, 0.3, 0.15; min-p 0.35 -> 0.175 keeps 0.5, 0.3
        float[] logits = logitsOf(0.15, 0.5, 0.05, 0.3);
        // without a sorting stage before it, min-p filters in id order
        assertArrayEquals(new int[] {0, 1, 3}, new Sampler(params(1f, 0, 1f, 0.2f, 1), 4).survivors(logits));
        assertArrayEquals(new int[] {1, 3}, new Sampler(params(1f, 0, 1f, 0.35f, 1), 4).survivors(logits));
        // after top-k the survivors stay best first
        assertArrayEquals(new int[] {1, 3, 0}, new Sampler(params(1f, 4, 1f, 0.2f, 1), 4).survivors(logits));
    }

    @Test
    void penaltiesFollowLlamaCppFormulas() {
        // llama_sampler_penalties_apply, per distinct token with count c in the window:
        //   logit <= 0 ? logit * repeat : logit / repeat;  then  -= c * frequency + presence
        float[] logits = {2f, -1f, 0.5f, 3f, 0f};
        Sampler s = new Sampler(new SamplerParams(0.8f, 40, 1f, 0f, 2.0f, 64, 0.1f, 0.5f, 1), 5);
        for (int token : new int[] {0, 1, 0, 4}) {
            s.accept(token);
        }
        float[] expected = {
            2f / 2f - (2 * 0.1f + 0.5f),  // token 0: positive, count 2 -> 0.3
            -1f * 2f - (1 * 0.1f + 0.5f), // token 1: negative, count 1 -> -2.6
            0.5f,                         // not in the window
            3f,                           // not in the window
            0f * 2f - (1 * 0.1f + 0.5f),  // token 4: zero counts as "<= 0" -> -0.6
        };
        assertArrayEquals(expected, s.penalized(logits), 1e-6f);
    }

    @Test
    void penaltiesOnlySeeTheLastNTokens() {
        Sampler s = new Sampler(new SamplerParams(0.8f, 40, 1f, 0f, 1.0f, 3, 1.0f, 0f, 1), 4);
        for (int token : new int[] {0, 0, 1, 2, 2}) { // window of 3: 1, 2, 2
            s.accept(token);
        }
        assertArrayEquals(new float[] {0f, -1f, -2f, 0f}, s.penalized(new float[4]));
        s.reset();
        assertArrayEquals(new float[4], s.penalized(new float[4]));
    }

    @Test
    void greedyAppliesPenaltiesFirst() {
        Sampler s = new Sampler(new SamplerParams(0f, 0, 1f, 0f, 1.0f, 64, 0f, 2.0f, 1), 3);
        float[] logits = {1f, 2f, 1.5f};
        assertEquals(1, s.sample(logits));
        s.accept(1);
        assertEquals(2, s.sample(logits)); // 2 - 2 = 0 < 1.5
    }

    @Test
    void drawsFollowTheTemperedDistribution() {
        // p = softmax(logits / T): with T = 0.5 the probabilities 0.4, 0.3, 0.2, 0.1 become proportional to their
        // squares 0.16, 0.09, 0.04, 0.01 (sum 0.3)
        float[] logits = logitsOf(0.4, 0.3, 0.2, 0.1);
        double[] expected = {0.16 / 0.3, 0.09 / 0.3, 0.04 / 0.3, 0.01 / 0.3};
        Sampler s = new Sampler(params(0.5f, 0, 1f, 0f, 2024), 4);
        int draws = 200_000;
        int[] counts = new int[4];
        for (int i = 0; i < draws; i++) {
            counts[s.sample(logits)]++;
        }
        for (int t = 0; t < 4; t++) {
            double sigma = Math.sqrt(expected[t] * (1 - expected[t]) / draws);
            double observed = counts[t] / (double) draws;
            assertTrue(Math.abs(observed - expected[t]) < 5 * sigma,
                    "token " + t + ": observed " + observed + ", expected " + expected[t] + " +- " + 5 * sigma);
        }
    }

    @Test
    void survivorsMatchAPlainFullSortReference() {
        Random rnd = new Random(99);
        int n = 3000;
        SamplerParams[] settings = {
            SamplerParams.defaults().withSeed(1),
            params(1f, 0, 0.9f, 0f, 1),     // top-p alone over the whole vocabulary
            params(1f, 0, 0.999f, 0f, 1),   // ... reaching far down the distribution
            params(1f, 0, 1f, 0.02f, 1),    // min-p alone
            params(1f, 0, 0.95f, 0.05f, 1), // llama.cpp's defaults with top-k off
            params(1f, 0, 0.5f, 0.001f, 1), // top-p cutting before min-p
            params(1f, 300, 0.98f, 0.01f, 1),
            params(1f, n, 1f, 0f, 1),       // top-k = vocabulary: everything, sorted
        };
        for (SamplerParams p : settings) {
            for (int trial = 0; trial < 20; trial++) {
                float[] logits = randomLogits(rnd, n);
                for (int i = 0; i < n; i++) {
                    if (trial % 3 == 1) {
                        logits[i] *= 0.1f; // flat distribution: top-p needs many tokens
                    } else if (trial % 3 == 2) {
                        logits[i] = Math.round(logits[i] * 2) / 2f; // many ties: lower ids must win them
                    }
                }
                int[] expected = ReferenceChain.survivors(p, logits);
                int[] actual = new Sampler(p, n).survivors(logits);
                assertArrayEquals(sorted(expected), sorted(actual), p + " trial " + trial);
            }
        }
    }

    @Test
    void badInputIsRejectedWithAClearMessage() {
        Sampler s = new Sampler(SamplerParams.greedy(), 10);
        assertEquals("expected 10 logits (the vocabulary size), got 3",
                assertThrows(IllegalArgumentException.class, () -> s.sample(new float[3])).getMessage());
        assertEquals("token id 10 outside the vocabulary [0, 10)",
                assertThrows(IllegalArgumentException.class, () -> s.accept(10)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Sampler(SamplerParams.greedy(), 0));
        assertThrows(IllegalArgumentException.class, () -> params(Float.NaN, 0, 1f, 0f, 1));
        assertThrows(IllegalArgumentException.class, () -> params(1f, -1, 1f, 0f, 1));
        assertThrows(IllegalArgumentException.class, () -> params(1f, 0, 1.5f, 0f, 1));
        assertThrows(IllegalArgumentException.class, () -> params(1f, 0, 1f, -0.1f, 1));
        assertThrows(IllegalArgumentException.class,
                () -> new SamplerParams(1f, 0, 1f, 0f, 0f, 64, 0, 0, 1));
        assertThrows(IllegalArgumentException.class,
                () -> new SamplerParams(1f, 0, 1f, 0f, 1f, -1, 0, 0, 1));
    }

    @Test
    void defaultsAreLlamaCpps() {
        assertEquals(new SamplerParams(0.8f, 40, 0.95f, 0.05f, 1.0f, 64, 0f, 0f, SamplerParams.RANDOM_SEED),
                SamplerParams.defaults());
    }

    /**
     * One step with llama.cpp's defaults over the Llama-3 vocabulary (128256 logits), penalties on: the median step
     * must stay under 2 ms. Also prints the figure with top-k off (top-p then ranks the whole vocabulary).
     */
    @Test
    void aStepOverTheLlama3VocabularyTakesUnderTwoMilliseconds() {
        SamplerParams defaults = new SamplerParams(0.8f, 40, 0.95f, 0.05f, 1.1f, 64, 0f, 0f, 11);
        double medianMs = medianStepMillis(defaults);
        double topKOffMs = medianStepMillis(new SamplerParams(0.8f, 0, 0.95f, 0.05f, 1.1f, 64, 0f, 0f, 11));
        System.out.printf("sampling step, 128256 logits: llama.cpp defaults + repeat penalty %.3f ms (median); "
                + "same with top-k off %.3f ms%n", medianMs, topKOffMs);
        assertTrue(medianMs < 2.0, "median step " + medianMs + " ms");
    }

    static double medianStepMillis(SamplerParams p) {
        Random rnd = new Random(5);
        float[][] steps = new float[16][];
        for (int i = 0; i < steps.length; i++) {
            steps[i] = randomLogits(rnd, LLAMA3_VOCAB);
        }
        Sampler sampler = new Sampler(p, LLAMA3_VOCAB);
        for (int i = 0; i < 64; i++) {
            sampler.accept(rnd.nextInt(LLAMA3_VOCAB));
        }
        for (int i = 0; i < 500; i++) { // warm-up: let the JIT compile the step
            sampler.accept(sampler.sample(steps[i % steps.length]));
        }
        long[] nanos = new long[200];
        for (int i = 0; i < nanos.length; i++) {
            long t0 = System.nanoTime();
            int token = sampler.sample(steps[i % steps.length]);
            nanos[i] = System.nanoTime() - t0;
            sampler.accept(token);
        }
        Arrays.sort(nanos);
        return nanos[nanos.length / 2] / 1e6;
    }
}
