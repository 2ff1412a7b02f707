package io.bitnet4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bitnet4j.generate.BitNetModel;
import io.bitnet4j.generate.GenerationParams;
import io.bitnet4j.sampling.SamplerParams;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A long prompt joining the batch is evaluated a batch at a time between decode steps of the running sequences. */
class ChunkedPrefillTest {
    private static final int BATCH = 16;

    private static int[] prompt(int n) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = 3 + (i * 7) % 200;
        }
        return ids;
    }

    @Test
    void runningStreamsKeepDecodingWhileALongPromptIsEvaluated() throws Exception {
        try (BitNetModel model = BitNetModel.load(TestServer.synthModel(), 1)) {
            Metrics metrics = new Metrics();
            try (Scheduler scheduler = new Scheduler(model, 2, 2048, BATCH, 4, metrics)) {
                Job running = new Job(prompt(4), new GenerationParams(1500, SamplerParams.greedy(), List.of(), true));
                scheduler.submit(running);
                assertInstanceOf(Job.Text.class, running.take());

                int batches = 20;
                Job joining = new Job(prompt(BATCH * batches + 1), new GenerationParams(4, SamplerParams.greedy(),
                        List.of(), true));
                long stepsBefore = metrics.decodeSteps.get();
                scheduler.submit(joining);
                Job.Event first = joining.take();
                long steps = metrics.decodeSteps.get() - stepsBefore;
                assertInstanceOf(Job.Text.class, first);
                // one decode step of the running stream per batch of the joining prompt (all in one pass: ~1 step)
                assertTrue(steps >= batches - 2, "only " + steps + " decode steps while " + batches
                        + " batches of the prompt were evaluated");
                assertEquals(BATCH * batches + 1, metrics.promptTokensEvaluated.sum() - 4,
                        "each prompt token is evaluated once");
                running.cancel();
            }
        }
    }
}
