package io.bitnet4j.model;

import io.bitnet4j.gguf.GgufFile;
import io.bitnet4j.tensor.RepackCache;
import io.bitnet4j.tensor.WeightMatrix;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** A model file opened for inference: its mapping, hyper-parameters and weight views. Share it between sessions. */
public final class Model implements AutoCloseable {
    private final GgufFile file;
    private final ModelConfig config;
    private final ModelWeights weights;

    private Model(GgufFile file, ModelConfig config, ModelWeights weights) {
        this.file = file;
        this.config = config;
        this.weights = weights;
    }

    public static Model load(Path path) {
        GgufFile f = GgufFile.open(path);
        try {
            return of(f);
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
    }

    /** Builds a model over an already opened file; closing the model closes the file. */
    public static Model of(GgufFile f) {
        long vocab = f.tensorInfo("token_embd.weight").rowCount();
        ModelConfig c = ModelConfig.fromGguf(f.metadata(), (int) vocab);
        return new Model(f, c, ModelWeights.load(f, c));
    }

    public GgufFile file() {
        return file;
    }

    public ModelConfig config() {
        return config;
    }

    public ModelWeights weights() {
        return weights;
    }

    /**
     * Does the weights' load-time work ({@link WeightMatrix#prepare}) on the pool's threads, unless {@code cache}
     * holds it from an earlier load of this file with as many threads; a new cache file keeps what was done. Says
     * which cache file serves the weights, if any.
     */
    public RepackCache.Result prepareWeights(WorkerPool pool, Optional<RepackCache> cache) {
        List<WeightMatrix> all = weights.matrices();
        RepackCache.Binding binding = cache.isPresent() && file.path() != null
                ? cache.get().bind(file.path(), all, pool.threads()) : null;
        if (binding == null || !binding.fromCache()) {
            pool.run((index, count) -> {
                for (WeightMatrix w : all) {
                    w.prepare(index, count);
                }
            });
        }
        return binding == null ? RepackCache.Result.NOT_CACHED : binding.commit();
    }

    /** A forward pass with its own buffers, for one sequence at a time. */
    public ForwardPass newForwardPass(WorkerPool pool, int maxBatch, int contextSize) {
        return new ForwardPass(config, weights, pool, maxBatch, contextSize);
    }

    @Override
    public void close() {
        file.close();
    }
}
