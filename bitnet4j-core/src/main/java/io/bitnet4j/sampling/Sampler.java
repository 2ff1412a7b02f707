package io.bitnet4j.sampling;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Picks the next token from a step's logits with llama.cpp's default sampler chain (common/sampling.cpp):
 * penalties → top-k → top-p → min-p → temperature → a weighted random draw. Each stage has llama.cpp's formula and
 * its "off" value ({@link SamplerParams}); a temperature {@code <= 0} returns the argmax of the penalized logits
 * (ties to the lower id) — the stages between cannot change the argmax.
 *
 * <p>Random numbers come from {@link SplittableRandom} (the SplitMix64 algorithm, specified by the JDK and the same
 * on every JVM) seeded with {@link #seed()}: a given seed, parameter set and logits sequence always yields the same
 * tokens. They are not llama.cpp's tokens for the same seed, which uses {@code std::mt19937}.
 *
 * <p>One step allocates nothing: all buffers are sized to the vocabulary up front. Top-k is a partial selection
 * (a bounded heap), so the common case (k = 40 of 128k) is one pass over the logits rather than a sort; top-p with
 * top-k off sorts only the tokens that can make its cut. Not thread-safe: one sampler per generation.
 */
public final class Sampler {

    /** Buckets of the probability-mass histogram top-p uses when top-k is off (1/8 wide: 64 below the best). */
    private static final int MASS_BUCKETS = 512;

    private final SamplerParams params;
    private final int vocabSize;
    private final long seed;
    private SplittableRandom random;

    /** This step's logits: the caller's, copied, then penalized. */
    private final float[] logits;
    /** Ids of the tokens still in the running; ordered best first whenever a stage sorted them. */
    private final int[] candidates;
    /** Unnormalized probabilities of the candidates, in candidate order, for the final draw. */
    private final float[] weights;
    /** Top-p without top-k: probability mass by distance below the best logit, and (logit, id) sort keys. */
    private final float[] massBelowBest = new float[MASS_BUCKETS];
    private final long[] sortKeys;

    /** The last {@code repeatLastN} accepted tokens as a ring buffer (null when penalties are off). */
    private final int[] recent;
    private int recentStart;
    private int recentCount;
    /** How often each token occurs in {@link #recent}. */
    private final int[] countInRecent;
    /** {@code penalizedAt[t] == step} once token t has been penalized in this step: each token only once. */
    private final int[] penalizedAt;
    private int step;

    public Sampler(SamplerParams params, int vocabSize) {
        if (vocabSize <= 0) {
            throw new IllegalArgumentException("vocabulary size must be positive, got " + vocabSize);
        }
        this.params = params;
        this.vocabSize = vocabSize;
        this.seed = params.seed() == SamplerParams.RANDOM_SEED ? ThreadLocalRandom.current().nextLong() : params.seed();
        this.random = new SplittableRandom(seed);
        this.logits = new float[vocabSize];
        this.candidates = new int[vocabSize];
        this.weights = new float[vocabSize];
        this.sortKeys = new long[vocabSize];
        boolean penalties = params.penalizes();
        this.recent = penalties ? new int[params.repeatLastN()] : null;
        this.countInRecent = penalties ? new int[vocabSize] : null;
        this.penalizedAt = penalties ? new int[vocabSize] : null;
    }

    public SamplerParams params() {
        return params;
    }

    /** The seed in use: the parameters' seed, or the one drawn for {@link SamplerParams#RANDOM_SEED}. */
    public long seed() {
        return seed;
    }

    /** The next token for these logits (one per vocabulary entry). The array is not modified. */
    public int sample(float[] stepLogits) {
        if (stepLogits.length != vocabSize) {
            throw new IllegalArgumentException(
                    "expected " + vocabSize + " logits (the vocabulary size), got " + stepLogits.length);
        }
        System.arraycopy(stepLogits, 0, logits, 0, vocabSize);
        if (recent != null) {
            applyPenalties();
        }
        if (params.temperature() <= 0) {
            return argmax(logits);
        }
        return draw(filterCandidates());
    }

    /** Records a token of the sequence (prompt tokens too), for the repetition penalties. */
    public void accept(int token) {
        if (token < 0 || token >= vocabSize) {
            throw new IllegalArgumentException("token id " + token + " outside the vocabulary [0, " + vocabSize + ")");
        }
        if (recent == null) {
            return;
        }
        if (recentCount == recent.length) {
            countInRecent[recent[recentStart]]--;
            recent[recentStart] = token;
            recentStart = (recentStart + 1) % recent.length;
        } else {
            recent[(recentStart + recentCount) % recent.length] = token;
            recentCount++;
        }
        countInRecent[token]++;
    }

    /** Forgets the accepted tokens and restarts the random sequence from the seed. */
    public void reset() {
        if (recent != null) {
            for (int i = 0; i < recentCount; i++) {
                countInRecent[recent[(recentStart + i) % recent.length]] = 0;
            }
            recentStart = 0;
            recentCount = 0;
        }
        random = new SplittableRandom(seed);
    }

    /** The penalty stage alone, on a copy: what {@link #sample} feeds to the later stages. */
    float[] penalized(float[] stepLogits) {
        System.arraycopy(stepLogits, 0, logits, 0, vocabSize);
        if (recent != null) {
            applyPenalties();
        }
        return logits.clone();
    }

    /** The ids that survive penalties, top-k, top-p and min-p, in the order the draw walks them. */
    int[] survivors(float[] stepLogits) {
        System.arraycopy(stepLogits, 0, logits, 0, vocabSize);
        if (recent != null) {
            applyPenalties();
        }
        return Arrays.copyOf(candidates, filterCandidates());
    }

    /**
     * llama.cpp's {@code llama_sampler_penalties_apply}: for each distinct token with count c in the window, a
     * logit {@code <= 0} is multiplied by the repeat penalty and a positive one divided by it, then
     * {@code c * frequency + presence} is subtracted.
     */
    private void applyPenalties() {
        step++;
        float repeat = params.repeatPenalty();
        for (int i = 0; i < recentCount; i++) {
            int token = recent[(recentStart + i) % recent.length];
            if (penalizedAt[token] == step) {
                continue;
            }
            penalizedAt[token] = step;
            int count = countInRecent[token];
            float logit = logits[token];
            logit = logit <= 0 ? logit * repeat : logit / repeat;
            logits[token] = logit - (count * params.frequencyPenalty() + params.presencePenalty());
        }
    }

    /**
     * Top-k, top-p, min-p over {@link #logits}, leaving the survivors in {@code candidates[0..count)}.
     *
     * @return count
     */
    private int filterCandidates() {
        int count = vocabSize;
        boolean selected = false; // whether candidates[0..count) holds the survivors, best first
        if (params.topK() > 0) {
            count = Math.min(params.topK(), vocabSize);
            selectBest(count);
            selected = true;
        }
        if (params.topP() < 1.0f) {
            count = selected ? topPOfSelected(count) : topPOfAll();
            selected = true;
        }
        if (params.minP() > 0.0f) {
            if (selected) {
                count = minPOfSelected(count);
            } else {
                count = minPOfAll();
                selected = true;
            }
        }
        if (!selected) {
            for (int id = 0; id < vocabSize; id++) {
                candidates[id] = id;
            }
        }
        return count;
    }

    /**
     * Top-p on the sorted candidates: the shortest prefix whose softmax probabilities (over the candidates) sum to at
     * least p. Float arithmetic as in llama.cpp, so borderline cut-offs fall the same way.
     */
    private int topPOfSelected(int count) {
        float max = logits[candidates[0]];
        float sum = 0;
        for (int i = 0; i < count; i++) {
            sum += (float) Math.exp(logits[candidates[i]] - max);
        }
        float cumulative = 0;
        for (int i = 0; i < count; i++) {
            cumulative += (float) Math.exp(logits[candidates[i]] - max) / sum;
            if (cumulative >= params.topP()) {
                return i + 1;
            }
        }
        return count;
    }

    /**
     * Top-p over the whole vocabulary (top-k off). The probabilities are over all tokens, but only a best-first
     * prefix is needed. A histogram of the probability mass by distance below the best logit shows which tokens can
     * be in that prefix; only those are sorted. (llama.cpp sorts the best 256, then everything if they fall short.)
     * The result may extend past min-p's cut, which {@link #minPOfSelected} applies next.
     */
    private int topPOfAll() {
        float max = Float.NEGATIVE_INFINITY;
        for (int id = 0; id < vocabSize; id++) {
            max = Math.max(max, logits[id]);
        }
        float sum = 0;
        Arrays.fill(massBelowBest, 0);
        for (int id = 0; id < vocabSize; id++) {
            float w = (float) Math.exp(logits[id] - max);
            sum += w;
            massBelowBest[bucketBelowBest(max, logits[id])] += w;
        }
        // the bucket where the cumulative mass reaches p, plus one for float rounding in the exact walk below
        double target = params.topP() * (double) sum;
        double cumulativeMass = 0;
        int lastBucket = 0;
        while (lastBucket < MASS_BUCKETS - 1 && cumulativeMass + massBelowBest[lastBucket] < target) {
            cumulativeMass += massBelowBest[lastBucket++];
        }
        // min-p comes next and keeps only tokens within -log(min-p) of the best: none below need ranking. (Both
        // stages cut a best-first prefix, so the chain keeps the shorter of the two.)
        int minPBucket = params.minP() > 0
                ? bucketBelowBest(max, max + (float) Math.log(params.minP()))
                : MASS_BUCKETS - 1;
        lastBucket = Math.min(minPBucket, lastBucket + 1);
        while (true) {
            int count = sortBucketsUpTo(max, lastBucket);
            float cumulative = 0;
            for (int i = 0; i < count; i++) {
                cumulative += (float) Math.exp(logits[candidates[i]] - max) / sum;
                if (cumulative >= params.topP()) {
                    return i + 1;
                }
            }
            if (lastBucket == minPBucket) {
                return count; // all that min-p can keep (or, min-p off, p not reached through float rounding)
            }
            lastBucket = minPBucket;
        }
    }

    /** Histogram bucket of a logit: how far below the best one, in steps of 1/8 (beyond 64, the last bucket). */
    private static int bucketBelowBest(float max, float logit) {
        return (int) Math.min(MASS_BUCKETS - 1, (max - logit) * 8f); // NaN-free: -inf logits land in the last bucket
    }

    /**
     * Puts the ids whose logits fall in buckets {@code 0..lastBucket} into {@code candidates}, best first (ties: lower
     * id first), by sorting (logit, id) packed into longs.
     *
     * @return how many
     */
    private int sortBucketsUpTo(float max, int lastBucket) {
        int count = 0;
        for (int id = 0; id < vocabSize; id++) {
            if (bucketBelowBest(max, logits[id]) <= lastBucket) {
                // descending logit = ascending complement of its order-preserving int form; then ascending id
                int bits = Float.floatToIntBits(logits[id]);
                int ordered = bits ^ ((bits >> 31) & 0x7fffffff);
                sortKeys[count++] = ((long) ~ordered << 32) | id;
            }
        }
        Arrays.sort(sortKeys, 0, count);
        for (int i = 0; i < count; i++) {
            candidates[i] = (int) sortKeys[i];
        }
        return count;
    }

    /** Min-p on sorted candidates: keep those with logit >= best + log(p), i.e. probability >= p * best's. */
    private int minPOfSelected(int count) {
        float minLogit = logits[candidates[0]] + (float) Math.log(params.minP());
        int kept = 1; // the best always stays
        while (kept < count && logits[candidates[kept]] >= minLogit) {
            kept++;
        }
        return kept;
    }

    /** Min-p over the whole vocabulary: a filter, no sort needed; survivors stay in id order. */
    private int minPOfAll() {
        float max = Float.NEGATIVE_INFINITY;
        for (int id = 0; id < vocabSize; id++) {
            max = Math.max(max, logits[id]);
        }
        float minLogit = max + (float) Math.log(params.minP());
        int kept = 0;
        for (int id = 0; id < vocabSize; id++) {
            if (logits[id] >= minLogit) {
                candidates[kept++] = id;
            }
        }
        return kept;
    }

    /**
     * Temperature, then a draw proportional to {@code exp(logit / T)} over the candidates, walked in candidate order
     * against one uniform number (llama.cpp's {@code llama_sampler_dist_apply}).
     */
    private int draw(int count) {
        if (count == 1) {
            return candidates[0];
        }
        float temperature = params.temperature();
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < count; i++) {
            max = Math.max(max, logits[candidates[i]] / temperature);
        }
        double total = 0;
        for (int i = 0; i < count; i++) {
            float w = (float) Math.exp(logits[candidates[i]] / temperature - max);
            weights[i] = w;
            total += w;
        }
        double target = total * random.nextDouble();
        double cumulative = 0;
        for (int i = 0; i < count; i++) {
            cumulative += weights[i];
            if (cumulative >= target) {
                return candidates[i];
            }
        }
        return candidates[count - 1]; // only reachable through rounding
    }

    /** The highest logit's id; ties go to the lower id. */
    static int argmax(float[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }

    /**
     * Puts the ids of the {@code k} best logits into {@code candidates[0..k)}, best first (ties: lower id first).
     * A bounded min-heap whose root is the worst kept token: most logits lose one comparison against the root and
     * cost nothing more, so for small k this is one pass over the vocabulary.
     */
    private void selectBest(int k) {
        int[] heap = candidates;
        for (int id = 0; id < k; id++) {
            heap[id] = id;
            siftUp(heap, id);
        }
        for (int id = k; id < vocabSize; id++) {
            if (better(id, heap[0])) {
                heap[0] = id;
                siftDown(heap, 0, k);
            }
        }
        // heap sort: moving the worst to the end each time leaves the array best first
        for (int end = k - 1; end > 0; end--) {
            int worst = heap[0];
            heap[0] = heap[end];
            heap[end] = worst;
            siftDown(heap, 0, end);
        }
    }

    /** Whether token a ranks before token b: higher logit, or the same logit and a lower id. */
    private boolean better(int a, int b) {
        float la = logits[a];
        float lb = logits[b];
        return la > lb || (la == lb && a < b);
    }

    private void siftUp(int[] heap, int i) {
        int item = heap[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (!better(heap[parent], item)) {
                break;
            }
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = item;
    }

    private void siftDown(int[] heap, int i, int size) {
        int item = heap[i];
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) {
                break;
            }
            if (child + 1 < size && better(heap[child], heap[child + 1])) {
                child++; // the worse of the two children
            }
            if (!better(item, heap[child])) {
                break;
            }
            heap[i] = heap[child];
            i = child;
        }
        heap[i] = item;
    }
}
