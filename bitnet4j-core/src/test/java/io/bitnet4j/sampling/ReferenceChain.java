package io.bitnet4j.sampling;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * The filtering stages of the sampler chain written the obvious way: sort the whole vocabulary, then cut, with
 * llama.cpp's float arithmetic. Slow, and the yardstick for {@link Sampler}'s partial selection.
 */
final class ReferenceChain {
    private ReferenceChain() {}

    /** Ids surviving top-k, top-p and min-p (penalties not included), best first. */
    static int[] survivors(SamplerParams p, float[] logits) {
        Integer[] order = IntStream.range(0, logits.length).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingDouble((Integer id) -> -logits[id]).thenComparingInt(id -> id));
        int count = logits.length;
        if (p.topK() > 0) {
            count = Math.min(p.topK(), count);
        }
        if (p.topP() < 1) {
            // llama.cpp's float softmax: summed in the candidates' current order, which is id order when no stage
            // sorted them before (top-k off) and best first after top-k
            float max = logits[order[0]];
            float sum = 0;
            if (p.topK() > 0) {
                for (int i = 0; i < count; i++) {
                    sum += (float) Math.exp(logits[order[i]] - max);
                }
            } else {
                for (float logit : logits) {
                    sum += (float) Math.exp(logit - max);
                }
            }
            float cumulative = 0;
            for (int i = 0; i < count; i++) {
                cumulative += (float) Math.exp(logits[order[i]] - max) / sum;
                if (cumulative >= p.topP()) {
                    count = i + 1;
                    break;
                }
            }
        }
        if (p.minP() > 0) {
            float minLogit = logits[order[0]] + (float) Math.log(p.minP());
            int kept = 1;
            while (kept < count && logits[order[kept]] >= minLogit) {
                kept++;
            }
            count = kept;
        }
        int[] ids = new int[count];
        for (int i = 0; i < count; i++) {
            ids[i] = order[i];
        }
        return ids;
    }
}
