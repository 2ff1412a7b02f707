package io.bitnet4j.cli;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Measures how fast {@code threads} threads can stream memory: each sums its share of a buffer far larger than
 * the caches, with full-width vector loads. Decode is bound by this figure, so it is the roofline for tokens/s.
 */
final class MemoryBandwidth {
    private static final VectorSpecies<Long> L = LongVector.SPECIES_PREFERRED;
    private static final long BUFFER_BYTES = 1L << 30;

    private MemoryBandwidth() {}

    /** Best of {@code rounds} full passes, in bytes per second. */
    static double measure(int threads, int rounds) {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buf = arena.allocate(BUFFER_BYTES, 64);
            buf.fill((byte) 1); // touch every page before timing
            double best = 0;
            for (int r = 0; r < rounds; r++) {
                long t0 = System.nanoTime();
                long sum = pass(buf, threads);
                long ns = System.nanoTime() - t0;
                if (sum == 42) {
                    System.out.print(""); // keeps the sum alive
                }
                best = Math.max(best, BUFFER_BYTES / (ns / 1e9));
            }
            return best;
        }
    }

    private static long pass(MemorySegment buf, int threads) {
        long share = BUFFER_BYTES / threads;
        long[] sums = new long[threads];
        List<Thread> workers = new ArrayList<>();
        for (int i = 1; i < threads; i++) {
            int index = i;
            workers.add(Thread.ofPlatform().start(() -> sums[index] = sum(buf.asSlice(index * share, share))));
        }
        sums[0] = sum(buf.asSlice(0, share));
        for (Thread w : workers) {
            try {
                w.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while measuring memory bandwidth", e);
            }
        }
        long total = 0;
        for (long s : sums) {
            total += s;
        }
        return total;
    }

    private static long sum(MemorySegment s) {
        LongVector a = LongVector.zero(L);
        LongVector b = LongVector.zero(L);
        long step = L.vectorByteSize();
        long i = 0;
        for (long end = s.byteSize() - 2 * step; i <= end; i += 2 * step) {
            a = a.add(LongVector.fromMemorySegment(L, s, i, ByteOrder.nativeOrder()));
            b = b.add(LongVector.fromMemorySegment(L, s, i + step, ByteOrder.nativeOrder()));
        }
        long total = a.add(b).reduceLanes(VectorOperators.ADD);
        for (; i < s.byteSize(); i += 8) {
            total += s.get(ValueLayout.JAVA_LONG_UNALIGNED, i);
        }
        return total;
    }
}
