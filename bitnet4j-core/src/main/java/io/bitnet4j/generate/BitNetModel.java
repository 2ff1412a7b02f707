package io.bitnet4j.generate;

import io.bitnet4j.chat.ChatMessage;
import io.bitnet4j.chat.ChatTemplate;
import io.bitnet4j.model.ForwardPass;
import io.bitnet4j.model.KvCache;
import io.bitnet4j.model.Model;
import io.bitnet4j.model.ModelConfig;
import io.bitnet4j.model.WorkerPool;
import io.bitnet4j.tensor.RepackCache;
import io.bitnet4j.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * The library's entry point: a model file loaded once (weights stay memory-mapped), with its tokenizer, chat template
 * and a pool of compute threads. Open any number of independent {@link Session}s on it.
 *
 * <pre>{@code
 * try (BitNetModel model = BitNetModel.load(Path.of("ggml-model-i2_s.gguf"))) {
 *     Session s = model.newSession();
 *     s.generate("The capital of France is", GenerationParams.greedy(32), (id, text) -> System.out.print(text));
 * }
 * }</pre>
 */
public final class BitNetModel implements AutoCloseable {
    /** Context size used when none is asked for and the model's own is larger: keeps the KV cache modest. */
    public static final int DEFAULT_CONTEXT_CAP = 4096;
    /**
     * Prompt tokens evaluated per forward pass: llama.cpp's micro-batch, so that a long prompt is cut where the
     * reference engines cut it (a batch and a single token take different attention arithmetic).
     */
    public static final int DEFAULT_BATCH = 512;

    private final Model model;
    private final Tokenizer tokenizer;
    private volatile ChatTemplate chatTemplate;
    private final WorkerPool pool;
    private final ReentrantLock computeLock = new ReentrantLock();
    private final long loadNanos;
    private final RepackCache.Result repack;
    /** The pass that decodes one token of several sessions at once; guarded by computeLock, grown on demand. */
    private ForwardPass batchPass;

    private BitNetModel(Model model, Tokenizer tokenizer, ChatTemplate chatTemplate, WorkerPool pool, long loadNanos,
            RepackCache.Result repack) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.chatTemplate = chatTemplate;
        this.pool = pool;
        this.loadNanos = loadNanos;
        this.repack = repack;
    }

    /** Loads a GGUF model with one compute thread per available processor. */
    public static BitNetModel load(Path path) {
        return load(path, Runtime.getRuntime().availableProcessors());
    }

    /**
     * Loads a GGUF model with {@code threads} compute threads. The ternary weights are repacked for the lookup
     * kernel, or taken from the {@linkplain RepackCache#fromEnvironment() repack cache} where an earlier load left
     * them.
     */
    public static BitNetModel load(Path path, int threads) {
        return load(path, threads, RepackCache.fromEnvironment());
    }

    /** Like {@link #load(Path, int)}, with the repack cache given ({@code Optional.empty()}: none). */
    public static BitNetModel load(Path path, int threads, Optional<RepackCache> repackCache) {
        long t0 = System.nanoTime();
        Model m = Model.load(path);
        try {
            Tokenizer tok = Tokenizer.fromGguf(m.file().metadata());
            ChatTemplate tmpl = ChatTemplate.detect(
                    m.file().metadata().findString("tokenizer.chat_template").orElse(null),
                    m.config().archName(), text -> tok.tokenId(text).isPresent());
            WorkerPool pool = new WorkerPool(threads);
            RepackCache.Result repack = m.prepareWeights(pool, repackCache);
            return new BitNetModel(m, tok, tmpl, pool, System.nanoTime() - t0, repack);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    public ModelConfig config() {
        return model.config();
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public ChatTemplate chatTemplate() {
        return chatTemplate;
    }

    /**
     * Replaces the chat template found in the file (e.g. with one the user named, or a Jinja renderer of the file's
     * own template). Affects prompts rendered from now on.
     */
    public void useChatTemplate(ChatTemplate template) {
        if (template == null) {
            throw new IllegalArgumentException("chat template must not be null");
        }
        this.chatTemplate = template;
    }

    public Model model() {
        return model;
    }

    public int threads() {
        return pool.threads();
    }

    /** The compute threads' synchronisation figures so far (see {@link WorkerPool#stats}). */
    public WorkerPool.Stats poolStats() {
        return pool.stats();
    }

    /** Whether the repacked ternary weights were mapped from the repack cache or written to it by this load. */
    public RepackCache.Result repack() {
        return repack;
    }

    /** Time {@link #load} took (mapping, metadata, tokenizer, repacking or mapping the repacked weights). */
    public long loadNanos() {
        return loadNanos;
    }

    /** The model's context length, capped at {@link #DEFAULT_CONTEXT_CAP}. */
    public int defaultContextSize() {
        return Math.min(model.config().contextLength(), DEFAULT_CONTEXT_CAP);
    }

    public Session newSession() {
        return newSession(defaultContextSize());
    }

    public Session newSession(int contextSize) {
        return newSession(contextSize, DEFAULT_BATCH);
    }

    public Session newSession(int contextSize, int batchSize) {
        if (contextSize < 1) {
            throw new IllegalArgumentException("context size must be positive, got " + contextSize);
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        }
        return new Session(this, contextSize, Math.min(batchSize, contextSize));
    }

    /** Tokenizes text the way a prompt is: BOS as the model's metadata says, special tokens recognised. */
    public int[] encode(String text) {
        return tokenizer.encode(text, tokenizer.addBosByDefault(), true);
    }

    /** The chat prompt for these messages, ending with the assistant's turn header. */
    public String chatPrompt(List<ChatMessage> messages) {
        return chatTemplate.render(messages, true);
    }

    ForwardPass newForwardPass(int batchSize, int contextSize) {
        return model.newForwardPass(pool, batchSize, contextSize);
    }

    /** One token for each cache in one pass over the weights (see {@link ForwardPass#forwardEach}). */
    void decodeEach(KvCache[] caches, int[] ids, float[][] out) {
        int context = 0;
        for (KvCache c : caches) {
            context = Math.max(context, c.capacity());
        }
        int maxContext = context;
        compute(() -> {
            if (batchPass == null || batchPass.maxBatch() < caches.length || batchPass.maxContext() < maxContext) {
                int rows = Math.max(caches.length, batchPass == null ? 0 : batchPass.maxBatch());
                int ctx = Math.max(maxContext, batchPass == null ? 0 : batchPass.maxContext());
                batchPass = model.newForwardPass(pool, rows, ctx);
            }
            batchPass.forwardEach(caches, ids, caches.length, out);
            return null;
        });
    }

    /** Runs one forward pass on the shared threads; sessions take turns. */
    <T> T compute(Supplier<T> work) {
        computeLock.lock();
        try {
            return work.get();
        } finally {
            computeLock.unlock();
        }
    }

    @Override
    public void close() {
        pool.close();
        model.close();
    }
}
