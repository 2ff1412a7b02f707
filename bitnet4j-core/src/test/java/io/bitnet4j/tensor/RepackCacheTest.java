package io.bitnet4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.bitnet4j.model.ForwardPass;
import io.bitnet4j.model.KvCache;
import io.bitnet4j.model.Model;
import io.bitnet4j.model.WorkerPool;
import io.bitnet4j.synth.SynthModel;
import io.bitnet4j.synth.SynthOptions;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The repack cache: a second load takes the repacked weights from the file the first one wrote and decodes exactly
 * as a load without a cache; a cache file that no longer fits its model, or is damaged, is never used.
 */
class RepackCacheTest {
    @TempDir
    Path dir;
    Path cacheDir;
    RepackCache cache;
    Path model;
    static final int[] PROMPT = {1, 5, 9, 2, 7};

    @BeforeEach
    void setUp() {
        assumeTrue(TernaryLut.ENABLED, "no lookup kernel on this CPU (needs 512-bit vectors): nothing is repacked");
        cacheDir = dir.resolve("cache");
        cache = new RepackCache(cacheDir, 0);
        model = dir.resolve("m.gguf");
        write(model, 3);
    }

    private static void write(Path file, long seed) {
        SynthModel.write(SynthOptions.builder().layout("tiny").type("i2_s").embdType("f16").layers(2).hidden(256)
                .heads(4).kvHeads(2).ff(512).vocab(600).seed(seed).build(), file);
    }

    /** Loads the model with {@code threads} threads (through {@code c} if present) and decodes the prompt. */
    private record Run(boolean fromCache, float[] logits) {}

    private static Run run(Path file, int threads, Optional<RepackCache> c) {
        try (Model m = Model.load(file); WorkerPool pool = new WorkerPool(threads)) {
            boolean hit = m.prepareWeights(pool, c).fromCache();
            ForwardPass fp = m.newForwardPass(pool, 8, 16);
            KvCache kv = new KvCache(m.config(), 16);
            fp.forward(kv, PROMPT, 0, PROMPT.length - 1);
            float[] logits = fp.forward(kv, PROMPT, PROMPT.length - 1, 1).clone();
            return new Run(hit, logits);
        }
    }

    private List<Path> cacheFiles() throws IOException {
        try (Stream<Path> s = Files.list(cacheDir)) {
            return s.sorted().toList();
        }
    }

    @Test
    void secondLoadComesFromTheCacheAndDecodesTheSame() throws IOException {
        float[] plain = run(model, 2, Optional.empty()).logits();
        Run first = run(model, 2, Optional.of(cache));
        assertFalse(first.fromCache());
        assertArrayEquals(plain, first.logits());
        assertEquals(1, cacheFiles().size(), "one file, no temporary left: " + cacheFiles());
        assertTrue(cacheFiles().get(0).toString().endsWith("-t2.b4jlut"));

        Run second = run(model, 2, Optional.of(cache));
        assertTrue(second.fromCache());
        assertArrayEquals(plain, second.logits());

        // the layout depends on the thread count: one thread gets a file of its own
        Run one = run(model, 1, Optional.of(cache));
        assertFalse(one.fromCache());
        assertArrayEquals(plain, one.logits(), "any thread count gives the same logits");
        assertEquals(2, cacheFiles().size());
        assertTrue(run(model, 1, Optional.of(cache)).fromCache());
    }

    @Test
    void aModelFileChangedInPlaceIsRepacked() throws IOException {
        run(model, 2, Optional.of(cache));
        FileTime before = Files.getLastModifiedTime(model);
        write(model, 4); // other weights, same size; even with the old time stamp the checksums differ
        Files.setLastModifiedTime(model, before);
        float[] plain = run(model, 2, Optional.empty()).logits();
        Run after = run(model, 2, Optional.of(cache));
        assertFalse(after.fromCache());
        assertArrayEquals(plain, after.logits());
        assertTrue(run(model, 2, Optional.of(cache)).fromCache(), "the file written anew serves the next load");
    }

    @Test
    void aTruncatedOrOverwrittenCacheFileIsIgnoredAndWrittenAnew() throws IOException {
        float[] plain = run(model, 2, Optional.empty()).logits();
        run(model, 2, Optional.of(cache));
        Path file = cacheFiles().get(0);
        long size = Files.size(file);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(size / 2);
        }
        Run cut = run(model, 2, Optional.of(cache));
        assertFalse(cut.fromCache());
        assertArrayEquals(plain, cut.logits());
        assertEquals(size, Files.size(file));

        Files.write(file, new byte[(int) size]); // right size, no header
        Run zeros = run(model, 2, Optional.of(cache));
        assertFalse(zeros.fromCache());
        assertArrayEquals(plain, zeros.logits());
        assertTrue(run(model, 2, Optional.of(cache)).fromCache());
    }

    @Test
    void filesOfDeletedModelsAreRemovedWhenAnotherIsWritten() throws IOException {
        Path other = dir.resolve("other.gguf");
        write(other, 5);
        run(other, 2, Optional.of(cache));
        assertEquals(1, cacheFiles().size());
        assertEquals(Optional.of(other.toAbsolutePath()), RepackCache.sourceOf(cacheFiles().get(0)));
        Files.delete(other);
        run(model, 2, Optional.of(cache));
        List<Path> left = cacheFiles();
        assertEquals(1, left.size(), left.toString());
        assertEquals(Optional.of(model.toAbsolutePath()), RepackCache.sourceOf(left.get(0)));
    }

    @Test
    void anUnwritableDirectoryOnlyMeansNoCache() throws IOException {
        Path blocked = dir.resolve("blocked");
        Files.writeString(blocked, "a file where the directory should be");
        float[] plain = run(model, 2, Optional.empty()).logits();
        Run r = run(model, 2, Optional.of(new RepackCache(blocked.resolve("sub"), 0)));
        assertFalse(r.fromCache());
        assertArrayEquals(plain, r.logits());
    }

    @Test
    void smallModelsAreNotCached() throws IOException {
        run(model, 2, Optional.of(new RepackCache(cacheDir, RepackCache.DEFAULT_MIN_BYTES)));
        assertFalse(Files.exists(cacheDir) && !cacheFiles().isEmpty(), "nothing written for a tiny model");
    }

    @Test
    void systemPropertySwitchesOffOrMovesTheCache() {
        String old = System.getProperty("bitnet4j.repackCache");
        try {
            System.setProperty("bitnet4j.repackCache", "false");
            assertTrue(RepackCache.fromEnvironment().isEmpty());
            System.setProperty("bitnet4j.repackCache", cacheDir.toString());
            assertEquals(cacheDir, RepackCache.fromEnvironment().orElseThrow().directory());
        } finally {
            if (old == null) {
                System.clearProperty("bitnet4j.repackCache");
            } else {
                System.setProperty("bitnet4j.repackCache", old);
            }
        }
    }
}
