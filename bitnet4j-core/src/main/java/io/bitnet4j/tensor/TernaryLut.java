package io.bitnet4j.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Table-lookup decode kernel for ternary weights (T-MAC's idea, on AVX-512's 32-lane word permute). Three ternary
 * weights have 27 combinations, so one 5-bit index names them, and for three activations the 27 possible partial sums
 * {@code Σ w_k q_k} fit one 32-entry int16 table: a product of one token becomes table lookups and adds, 3 weights a
 * lane, 96 weights a lookup, with no multiply and no unpacking beyond a shift.
 *
 * <p>The lookups need the weights in another order, repacked from I2_S (at load, on the model's threads): rows in
 * blocks of {@link #ROWS} (four vectors of {@link #LANES} int16 lanes, one row a lane), and per block one int16 word
 * per row per 9 columns, the block's four vectors of a word side by side so that the four share its table loads.
 * With W words per row (the columns padded to 9W with zero weights) and G = 3W groups, group g is columns g, g+G,
 * g+2G and word w holds groups w, w+W, w+2W in bits 0-4, 5-9 and 10-14, each as {@code 9c_0 + 3c_1 + c_2} of the
 * I2_S codes c = w + 1; spreading groups and words that way makes repacking whole-vector steps. The blocks are
 * stored in {@linkplain #offset shares}, one per compute thread, each share one sequential run. That is 16 bits per 9
 * weights, 11% less to stream than I2_S. The permute reads only the low 5 bits of a lane, so shifting the word is all
 * the unpacking there is.
 *
 * <p>Exact: every table entry and every int16 partial sum stays within int16 (sums are widened to int32 every
 * {@link #FLUSH_WORDS} words), so the row sum is the exact integer {@code Σ(c-1)q = Σcq - Σq}, which is what
 * bitnet.cpp's epilogue computes in float without rounding (both sums are integers below 2^24).
 */
final class TernaryLut {
    static final VectorSpecies<Short> S16 = ShortVector.SPECIES_512;
    /** As many int16 lanes as {@link #F32} has floats. */
    private static final VectorSpecies<Short> S16_HALF = ShortVector.SPECIES_256;
    static final VectorSpecies<Integer> S32 = IntVector.SPECIES_512;
    static final VectorSpecies<Float> F32 = FloatVector.SPECIES_512;
    /** Int16 lanes of a 512-bit vector: the rows one lookup serves. */
    static final int LANES = 32;
    /**
     * Rows per block: four vectors of lanes, each word's three tables loaded once for all four. With one vector per
     * table load the kernel needed 1.65 ns per 64 bytes of weights in L2 and streamed from memory at 70-87% of a
     * plain read; with four, 1.14 ns and 95-97% (same process, alternating, one thread).
     */
    static final int ROWS = 4 * LANES;
    /** Columns per word: three groups of three. */
    static final int WORD_COLS = 9;
    /** Entries per table (27 used). */
    static final int TABLE = 32;
    /**
     * |table entry| <= 3 * 128 = 384; a word adds three entries, so 28 words (84 entries, at most 32256) fit int16.
     */
    static final int FLUSH_WORDS = 28;
    /**
     * Words per column chunk: the kernel takes all its rows through one chunk of columns before the next, so that
     * chunk's tables (84 of 64 bytes) stay in L1 while the weights stream past; with the tables of a whole row
     * (up to 150 KB) coming from L2 instead, decode ran at about half the speed.
     */
    static final int CHUNK_WORDS = FLUSH_WORDS;
    /** The kernel needs 32 int16 lanes and a word permute: AVX-512 (BW) hardware with 512-bit vectors enabled. */
    static final boolean SUPPORTED = ShortVector.SPECIES_PREFERRED.length() >= LANES;
    /** Supported and not switched off with {@code -Dbitnet4j.ternaryLut=false} (to compare with the I2_S kernel). */
    static final boolean ENABLED = SUPPORTED && !"false".equals(System.getProperty("bitnet4j.ternaryLut"));

    private static final byte UNPACKED = 0;
    private static final byte PACKED = 1;
    /** A block holding the unused code 3, which bitnet.cpp multiplies as 3: it keeps the I2_S kernel. */
    private static final byte I2S_ONLY = 2;

    private final I2sMatrix source;
    final int in;
    final int out;
    /** Words per row: ceil(in / 9). */
    final int words;
    /** Row blocks (the last one padded with rows of zero weights). */
    final int blocks;
    /**
     * Per row block: unpacked, packed, or I2_S only. A block is packed by the thread that first multiplies it (row
     * slices are whole blocks), so loading stays a mapping and the repacking is spread over the threads.
     */
    private final byte[] state;
    /** Blocks per share of the layout ({@link #offset}); 0 until the first block is packed. */
    private volatile int shareBlocks;
    private volatile MemorySegment packed;
    private final java.util.concurrent.atomic.AtomicInteger packedBlocks = new java.util.concurrent.atomic.AtomicInteger();

    private TernaryLut(I2sMatrix source) {
        this.source = source;
        this.in = source.in;
        this.out = source.out;
        this.words = (in + WORD_COLS - 1) / WORD_COLS;
        this.blocks = (out + ROWS - 1) / ROWS;
        this.state = new byte[blocks];
    }

    /** The lookup form of {@code m}, packed as it is used; null where the kernel cannot run. */
    static TernaryLut of(I2sMatrix m) {
        // partial sums are added up in float, exact only below 2^24
        return ENABLED && (long) m.in * 3 * 128 < 1 << 24 ? new TernaryLut(m) : null;
    }

    /** The I2_S matrix this is the lookup form of. */
    I2sMatrix source() {
        return source;
    }

    /** Bytes of the repacked weights once every block is packed. */
    long packedBytes() {
        return (long) blocks * words * ROWS * 2;
    }

    private MemorySegment packed() {
        MemorySegment p = packed;
        if (p == null) {
            synchronized (this) {
                p = packed;
                if (p == null) {
                    packed = p = PackedMemory.allocate(packedBytes());
                }
            }
        }
        return p;
    }

    /**
     * Packs into {@code target} ({@link #packedBytes} long, e.g. a slice of a cache file's mapping) rather than
     * memory of its own. Only before anything is packed.
     */
    synchronized void packInto(MemorySegment target) {
        if (packed != null || target.byteSize() != packedBytes()) {
            throw new IllegalStateException("packInto: " + (packed != null ? "already packed"
                    : target.byteSize() + " bytes given, " + packedBytes() + " needed"));
        }
        packed = target;
    }

    /** Per row block: whether it was packed (see {@link #adopt}); a copy. */
    byte[] blockStates() {
        return state.clone();
    }

    /** Blocks per share of the layout, 0 if no layout is fixed yet. */
    int layoutShareBlocks() {
        return shareBlocks;
    }

    /**
     * Takes over a layout packed before, by a matrix of the same weights ({@link #blockStates},
     * {@link #layoutShareBlocks}, the packed bytes): nothing is left to pack, and the I2_S bytes are read only for
     * blocks that were not packed.
     */
    synchronized void adopt(MemorySegment p, byte[] states, int share) {
        if (packed != null || p.byteSize() != packedBytes() || states.length != blocks || share < 1) {
            throw new IllegalStateException("adopt: a layout of another shape");
        }
        for (byte s : states) {
            if (s != PACKED && s != I2S_ONLY) {
                throw new IllegalStateException("adopt: a block of state " + s);
            }
        }
        System.arraycopy(states, 0, state, 0, blocks);
        shareBlocks = share;
        packed = p;
    }

    /**
     * Packs share {@code index} of {@code count} of the row blocks; the first call fixes the layout's shares at
     * {@code count}, the threads that will multiply the matrix.
     */
    void prepare(int index, int count) {
        shareBlocks(count);
        Scratch scratch = new Scratch();
        for (int b = (int) ((long) blocks * index / count); b < (long) blocks * (index + 1) / count; b++) {
            ready(b, scratch);
        }
    }

    /** Work arrays of {@link #packBlock}, reused over a thread's blocks (per block they would be 23 KB of garbage). */
    private final class Scratch {
        final byte[] codes = new byte[9 * words + B32.length()]; // column order, then padding of code 1 (weight 0)
        final byte[] index = new byte[3 * words + B32.length()];
        final short[] rowWords = new short[words + S16.length()];
        final short[] block = new short[words * ROWS]; // word-major: block[w * ROWS + lane]
    }

    /** Whether row block {@code b} goes through the lookup kernel (packing it first if need be). */
    boolean ready(int b) {
        return state[b] == UNPACKED ? ready(b, new Scratch()) : state[b] == PACKED;
    }

    private boolean ready(int b, Scratch scratch) {
        if (state[b] == UNPACKED) {
            boolean ok = packBlock(b, scratch);
            state[b] = ok ? PACKED : I2S_ONLY;
            if (ok && packedBlocks.incrementAndGet() == blocks && source.data.isMapped()) {
                // nothing reads the I2_S bytes any more: give their pages back (they stay in the page cache and
                // come back on a read), so the process holds the repacked weights instead of both forms
                source.data.unload();
            }
        }
        return state[b] == PACKED;
    }

    /**
     * The blocks per share, fixed by the first caller: {@code ceil(blocks / threads)}, which is how the forward pass
     * deals a matrix to its threads for one token (one unit per thread). Packing without {@link #prepare} gives one
     * share of every block.
     */
    private synchronized int shareBlocks(int threads) {
        if (shareBlocks == 0) {
            shareBlocks = (blocks + threads - 1) / threads;
        }
        return shareBlocks;
    }

    /** The blocks per share, fixed at one share if nothing fixed it before. */
    private int shareBlocks() {
        int share = shareBlocks;
        return share != 0 ? share : shareBlocks(1);
    }

    /**
     * Byte offset of word {@code w} of row block {@code b}. The blocks go in shares of {@link #shareBlocks}, one
     * after the other; within a share, column chunks of {@link #CHUNK_WORDS} words, each holding every block's words
     * of that chunk in turn. So a thread taking its share chunk by chunk reads one sequential run. (With one layout
     * for all threads, each thread read its blocks of a chunk and jumped over the other's: the kernel then took
     * 4.1-5.3 ns per 64 bytes where one run of the same blocks took 3.7-3.9.)
     */
    long offset(int b, int w) {
        int share = shareBlocks();
        int first = b / share * share;
        int shareSize = Math.min(share, blocks - first);
        int chunkStart = w / CHUNK_WORDS * CHUNK_WORDS;
        int chunkWords = Math.min(CHUNK_WORDS, words - chunkStart);
        return ((long) first * words + (long) chunkStart * shareSize + (long) (b - first) * chunkWords
                + (w - chunkStart)) * ROWS * 2;
    }

    /** Groups of three columns per table set of a row of {@code in} values (padded to whole words). */
    static int groups(int in) {
        return (in + WORD_COLS - 1) / WORD_COLS * 3;
    }

    /** Repacks row block b from the I2_S data; false (and nothing written) if one of its codes is 3. */
    private boolean packBlock(int b, Scratch scratch) {
        int groups = 3 * words;
        byte[] codes = scratch.codes;
        byte[] index = scratch.index;
        short[] rowWords = scratch.rowWords;
        short[] block = scratch.block;
        for (int lane = 0; lane < ROWS; lane++) {
            int r = b * ROWS + lane;
            if (r >= out) {
                java.util.Arrays.fill(codes, (byte) 1); // padding rows weigh 0
            } else if (!decodeRow(source, r, codes)) {
                return false;
            }
            // group g = columns g, g+G, g+2G; word w = groups w, w+W, w+2W: both are whole-vector steps
            for (int g = 0; g < groups; g += B32.length()) {
                ByteVector.fromArray(B32, codes, g).mul((byte) 9)
                        .add(ByteVector.fromArray(B32, codes, g + groups).mul((byte) 3))
                        .add(ByteVector.fromArray(B32, codes, g + 2 * groups))
                        .intoArray(index, g);
            }
            for (int w = 0; w < words; w += S16.length()) {
                ((ShortVector) ByteVector.fromArray(B32, index, w).convertShape(VectorOperators.B2S, S16, 0))
                        .or(((ShortVector) ByteVector.fromArray(B32, index, w + words)
                                .convertShape(VectorOperators.B2S, S16, 0)).lanewise(VectorOperators.LSHL, 5))
                        .or(((ShortVector) ByteVector.fromArray(B32, index, w + 2 * words)
                                .convertShape(VectorOperators.B2S, S16, 0)).lanewise(VectorOperators.LSHL, 10))
                        .intoArray(rowWords, w);
            }
            for (int w = 0; w < words; w++) {
                block[w * ROWS + lane] = rowWords[w];
            }
        }
        MemorySegment p = packed();
        for (int w0 = 0; w0 < words; w0 += CHUNK_WORDS) {
            int n = Math.min(CHUNK_WORDS, words - w0) * ROWS;
            MemorySegment.copy(block, w0 * ROWS, p, ValueLayout.JAVA_SHORT_UNALIGNED, offset(b, w0), n);
        }
        return true;
    }

    private static final VectorSpecies<Byte> B32 = ByteVector.SPECIES_256;

    /**
     * Row r's I2_S codes into {@code codes} in column order (padding columns get code 1, weight 0); false if a code
     * is 3. A block's 32 bytes hold its four 32-column planes in bit pairs 7-6, 5-4, 3-2, 1-0.
     */
    private static boolean decodeRow(I2sMatrix m, int r, byte[] codes) {
        long rowOffset = (long) r * (m.in / 4);
        ByteVector bad = ByteVector.zero(B32);
        for (int b = 0; b < m.in / I2sMatrix.BLOCK; b++) {
            ByteVector v = ByteVector.fromMemorySegment(B32, m.data, rowOffset + (long) b * I2sMatrix.BLOCK_BYTES,
                    ByteOrder.LITTLE_ENDIAN);
            for (int k = 0; k < 4; k++) {
                ByteVector c = v.lanewise(VectorOperators.LSHR, 6 - 2 * k).and((byte) 3);
                bad = bad.or(c.and(c.lanewise(VectorOperators.LSHR, 1))); // 3 is the only code with both bits set
                c.intoArray(codes, I2sMatrix.BLOCK * b + 32 * k);
            }
        }
        java.util.Arrays.fill(codes, m.in, codes.length, (byte) 1);
        return bad.reduceLanes(VectorOperators.OR) == 0;
    }

    /**
     * The tables for one row of int8 activations {@code q[offset .. offset+in)}, in the order the kernel reads them:
     * slot {@code 3w + j} is group {@code g = w + jW}, columns {@code g, g+G, g+2G} (q = 0 past the row's end), and
     * {@code tables[TABLE*(3w+j) + 9c_0 + 3c_1 + c_2] = Σ_k (c_k - 1) q_(g+kG)}.
     */
    static void buildTables(byte[] q, int offset, int in, short[] tables) {
        buildTables(q, offset, in, 0, (in + WORD_COLS - 1) / WORD_COLS, tables, 0);
    }

    /** The tables of words {@code wordFrom .. wordFrom+wordCount} only, from {@code tables[tablesOffset]} on. */
    static void buildTables(byte[] q, int offset, int in, int wordFrom, int wordCount, short[] tables,
            int tablesOffset) {
        int words = (in + WORD_COLS - 1) / WORD_COLS;
        int groups = 3 * words;
        for (int w = wordFrom; w < wordFrom + wordCount; w++) {
            for (int j = 0; j < 3; j++) {
                int g = w + j * words;
                short a0 = g < in ? q[offset + g] : 0;
                short a1 = g + groups < in ? q[offset + g + groups] : 0;
                short a2 = g + 2 * groups < in ? q[offset + g + 2 * groups] : 0;
                WEIGHT0.mul(a0).add(WEIGHT1.mul(a1)).add(WEIGHT2.mul(a2))
                        .intoArray(tables, tablesOffset + TABLE * (3 * (w - wordFrom) + j));
            }
        }
    }

    /** Lane e of WEIGHT_k: weight k (-1, 0, 1) of combination e = 9c_0 + 3c_1 + c_2; 0 past the 27 combinations. */
    private static final ShortVector WEIGHT0 = combinationWeights(0);
    private static final ShortVector WEIGHT1 = combinationWeights(1);
    private static final ShortVector WEIGHT2 = combinationWeights(2);

    private static ShortVector combinationWeights(int k) {
        short[] w = new short[TABLE];
        for (int e = 0; e < 27; e++) {
            int c = k == 0 ? e / 9 : k == 1 ? e / 3 % 3 : e % 3;
            w[e] = (short) (c - 1);
        }
        return ShortVector.fromArray(S16, w, 0);
    }

    /**
     * The index of the three weights of row {@code row}, group {@code g}, read back from the packed layout (whose
     * block must be {@link #ready}).
     */
    int index(int row, int g) {
        int w = g / 3;
        long at = offset(row / ROWS, w) + row % ROWS * 2;
        return (packed().get(ValueLayout.JAVA_SHORT_UNALIGNED, at) >> (5 * (g % 3))) & 31;
    }

    /** Scalar reference: Σ (w q) of one row, by table lookups, one group at a time. */
    int dotReference(int row, short[] tables) {
        int sum = 0;
        for (int g = 0; g < 3 * words; g++) {
            sum += tables[TABLE * g + index(row, g)];
        }
        return sum;
    }

    /**
     * Rows {@code rowFrom..rowTo} ({@code rowFrom} a multiple of {@link #ROWS}) times one token whose tables are
     * {@code tables}: {@code out[r] = (float) Σ(w q) / actScale * weightScale}, as bitnet.cpp's epilogue, for the
     * rows of blocks that are {@link #ready}; the caller computes the others. Each column chunk's integer partial sums
     * are added up in {@code out} itself: floats hold integers below 2^24 exactly.
     */
    void matVec(short[] tables, float actScale, float weightScale, float[] out, int rowFrom, int rowTo) {
        int blockFrom = rowFrom / ROWS;
        int blockTo = (rowTo + ROWS - 1) / ROWS;
        MemorySegment p = readyBlocks(blockFrom, blockTo);
        short[] part = PARTIAL_SUMS.get();
        java.util.Arrays.fill(out, rowFrom, rowTo, 0f);
        int share = shareBlocks();
        for (int s = blockFrom; s < blockTo; s = (s / share + 1) * share) { // share by share: one run each
            int sEnd = Math.min(blockTo, (s / share + 1) * share);
            for (int w0 = 0; w0 < words; w0 += CHUNK_WORDS) {
                int chunkWords = Math.min(CHUNK_WORDS, words - w0);
                for (int b = s; b < sEnd; b++) {
                    if (state[b] != PACKED) {
                        continue;
                    }
                    lookUpBlock(p, offset(b, w0), tables, 3 * w0 * TABLE, chunkWords, part);
                    addPartials(part, 1, out, 0, 0, b * ROWS, rowTo);
                }
            }
        }
        for (int r = rowFrom; r < rowTo; r++) {
            out[r] = out[r] / actScale * weightScale;
        }
    }

    /**
     * One block's sums over one chunk of {@code words} words at {@code at}, whose tables start at
     * {@code tables[t]}, into {@code part[0 .. ROWS)}. Its own small method, so that C2 compiles the hot loop alike
     * in every run (inlined into matVec with its cold paths, the loop came out 1.5-2x slower in some runs).
     */
    private static void lookUpBlock(MemorySegment p, long at, short[] tables, int t, int words, short[] part) {
        // one accumulator per vector of the block (an array of vectors would be boxed)
        ShortVector acc0 = ShortVector.zero(S16);
        ShortVector acc1 = acc0;
        ShortVector acc2 = acc0;
        ShortVector acc3 = acc0;
        for (int w = 0; w < words; w++, at += ROWS * 2, t += 3 * TABLE) {
            ShortVector t0 = ShortVector.fromArray(S16, tables, t);
            ShortVector t1 = ShortVector.fromArray(S16, tables, t + TABLE);
            ShortVector t2 = ShortVector.fromArray(S16, tables, t + 2 * TABLE);
            // the lookups written out: a helper taking vectors, when C2 does not inline it, boxes them
            ShortVector i0 = ShortVector.fromMemorySegment(S16, p, at, ByteOrder.LITTLE_ENDIAN);
            ShortVector i1 = ShortVector.fromMemorySegment(S16, p, at + 2 * LANES, ByteOrder.LITTLE_ENDIAN);
            ShortVector i2 = ShortVector.fromMemorySegment(S16, p, at + 4 * LANES, ByteOrder.LITTLE_ENDIAN);
            ShortVector i3 = ShortVector.fromMemorySegment(S16, p, at + 6 * LANES, ByteOrder.LITTLE_ENDIAN);
            acc0 = acc0.add(i0.selectFrom(t0)).add(i0.lanewise(VectorOperators.LSHR, 5).selectFrom(t1))
                    .add(i0.lanewise(VectorOperators.LSHR, 10).selectFrom(t2));
            acc1 = acc1.add(i1.selectFrom(t0)).add(i1.lanewise(VectorOperators.LSHR, 5).selectFrom(t1))
                    .add(i1.lanewise(VectorOperators.LSHR, 10).selectFrom(t2));
            acc2 = acc2.add(i2.selectFrom(t0)).add(i2.lanewise(VectorOperators.LSHR, 5).selectFrom(t1))
                    .add(i2.lanewise(VectorOperators.LSHR, 10).selectFrom(t2));
            acc3 = acc3.add(i3.selectFrom(t0)).add(i3.lanewise(VectorOperators.LSHR, 5).selectFrom(t1))
                    .add(i3.lanewise(VectorOperators.LSHR, 10).selectFrom(t2));
        }
        acc0.intoArray(part, 0);
        acc1.intoArray(part, LANES);
        acc2.intoArray(part, 2 * LANES);
        acc3.intoArray(part, 3 * LANES);
    }

    /** Packs what is not yet packed of blocks {@code blockFrom..blockTo}; returns the packed weights. */
    private MemorySegment readyBlocks(int blockFrom, int blockTo) {
        for (int b = blockFrom; b < blockTo; b++) {
            ready(b);
        }
        return packed();
    }

    /** Tokens per pass of the batch kernel: each word of weights is loaded once for all of them. */
    static final int TOKENS = 4;
    /** Per thread: one column chunk's tables for {@link #TOKENS} tokens (21 KB, L1-resident). */
    private static final ThreadLocal<short[]> CHUNK_TABLES =
            ThreadLocal.withInitial(() -> new short[TOKENS * 3 * CHUNK_WORDS * TABLE]);
    /** Per thread: one block's partial sums of a chunk, per token (handed over in an array: see addPartials). */
    private static final ThreadLocal<short[]> PARTIAL_SUMS = ThreadLocal.withInitial(() -> new short[TOKENS * ROWS]);

    /**
     * Rows {@code rowFrom..rowTo} ({@code rowFrom} a multiple of {@link #ROWS}) times every prepared token of
     * {@code x} (prompt evaluation, batched decoding): {@link #matVec}'s arithmetic, {@link #TOKENS} tokens per
     * pass, so each word of weights serves all of them; the tables are built per column chunk as they are needed.
     * Rows of blocks that are not {@link #ready} are left for the caller.
     */
    void matMulTokens(Activations x, float weightScale, float[] out, int outStride, int rowFrom, int rowTo) {
        int blockFrom = rowFrom / ROWS;
        int blockTo = (rowTo + ROWS - 1) / ROWS;
        MemorySegment p = readyBlocks(blockFrom, blockTo);
        short[] tab = CHUNK_TABLES.get();
        short[] part = PARTIAL_SUMS.get();
        int perToken = 3 * CHUNK_WORDS * TABLE;
        int n = x.rows();
        for (int t = 0; t < n; t++) {
            java.util.Arrays.fill(out, t * outStride + rowFrom, t * outStride + rowTo, 0f);
        }
        for (int t0 = 0; t0 < n; t0 += TOKENS) {
            int last = Math.min(TOKENS, n - t0) - 1; // tokens past the last repeat it and are not written
            for (int w0 = 0; w0 < words; w0 += CHUNK_WORDS) {
                int chunkWords = Math.min(CHUNK_WORDS, words - w0);
                for (int k = 0; k < TOKENS; k++) {
                    buildTables(x.q, (t0 + Math.min(k, last)) * in, in, w0, chunkWords, tab, k * perToken);
                }
                for (int b = blockFrom; b < blockTo; b++) {
                    if (state[b] != PACKED) {
                        continue;
                    }
                    long base = offset(b, w0);
                    for (int v = 0; v < ROWS / LANES; v += 2) {
                        lookUpTokens(p, base + (long) v * LANES * 2, tab, perToken, chunkWords, part, v * LANES);
                    }
                    addPartials(part, last + 1, out, t0 * outStride, outStride, b * ROWS, rowTo);
                }
            }
        }
        for (int t = 0; t < n; t++) {
            float actScale = x.scales[t];
            for (int r = t * outStride + rowFrom; r < t * outStride + rowTo; r++) {
                out[r] = out[r] / actScale * weightScale;
            }
        }
    }

    /**
     * Two vectors of a block (at {@code at}, the next {@link #LANES} rows right after) times {@link #TOKENS} tokens
     * over one chunk of {@code words} words, the tokens' tables {@code perToken} apart in {@code tables}: token k's
     * sums into {@code part[k*ROWS + o ..]} (first vector) and {@code part[k*ROWS + o + LANES ..]} (second). Each
     * table is loaded once for both vectors and each word shifted once for all the tokens; like
     * {@link #lookUpBlock}, a method of its own. (One vector per call, each table loaded for each vector, ran
     * pp128 at 51-54 tokens/s on one thread where this runs 68-71; all four vectors per call, 56-66: with 16
     * accumulators, 12 index vectors and 3 tables the registers run out.)
     */
    private static void lookUpTokens(MemorySegment p, long at, short[] tables, int perToken, int words, short[] part,
            int o) {
        // one accumulator per token and vector, spelled out: an array of vectors would be boxed
        ShortVector acc0 = ShortVector.zero(S16);
        ShortVector acc1 = acc0;
        ShortVector acc2 = acc0;
        ShortVector acc3 = acc0;
        ShortVector bcc0 = acc0;
        ShortVector bcc1 = acc0;
        ShortVector bcc2 = acc0;
        ShortVector bcc3 = acc0;
        for (int w = 0, s0 = 0; w < words; w++, at += ROWS * 2, s0 += 3 * TABLE) {
            ShortVector i0 = ShortVector.fromMemorySegment(S16, p, at, ByteOrder.LITTLE_ENDIAN);
            ShortVector j0 = ShortVector.fromMemorySegment(S16, p, at + 2 * LANES, ByteOrder.LITTLE_ENDIAN);
            ShortVector i1 = i0.lanewise(VectorOperators.LSHR, 5);
            ShortVector j1 = j0.lanewise(VectorOperators.LSHR, 5);
            ShortVector i2 = i0.lanewise(VectorOperators.LSHR, 10);
            ShortVector j2 = j0.lanewise(VectorOperators.LSHR, 10);
            int s1 = s0 + perToken;
            int s2 = s1 + perToken;
            int s3 = s2 + perToken;
            ShortVector t0 = ShortVector.fromArray(S16, tables, s0);
            ShortVector t1 = ShortVector.fromArray(S16, tables, s0 + TABLE);
            ShortVector t2 = ShortVector.fromArray(S16, tables, s0 + 2 * TABLE);
            acc0 = acc0.add(i0.selectFrom(t0).add(i1.selectFrom(t1)).add(i2.selectFrom(t2)));
            bcc0 = bcc0.add(j0.selectFrom(t0).add(j1.selectFrom(t1)).add(j2.selectFrom(t2)));
            t0 = ShortVector.fromArray(S16, tables, s1);
            t1 = ShortVector.fromArray(S16, tables, s1 + TABLE);
            t2 = ShortVector.fromArray(S16, tables, s1 + 2 * TABLE);
            acc1 = acc1.add(i0.selectFrom(t0).add(i1.selectFrom(t1)).add(i2.selectFrom(t2)));
            bcc1 = bcc1.add(j0.selectFrom(t0).add(j1.selectFrom(t1)).add(j2.selectFrom(t2)));
            t0 = ShortVector.fromArray(S16, tables, s2);
            t1 = ShortVector.fromArray(S16, tables, s2 + TABLE);
            t2 = ShortVector.fromArray(S16, tables, s2 + 2 * TABLE);
            acc2 = acc2.add(i0.selectFrom(t0).add(i1.selectFrom(t1)).add(i2.selectFrom(t2)));
            bcc2 = bcc2.add(j0.selectFrom(t0).add(j1.selectFrom(t1)).add(j2.selectFrom(t2)));
            t0 = ShortVector.fromArray(S16, tables, s3);
            t1 = ShortVector.fromArray(S16, tables, s3 + TABLE);
            t2 = ShortVector.fromArray(S16, tables, s3 + 2 * TABLE);
            acc3 = acc3.add(i0.selectFrom(t0).add(i1.selectFrom(t1)).add(i2.selectFrom(t2)));
            bcc3 = bcc3.add(j0.selectFrom(t0).add(j1.selectFrom(t1)).add(j2.selectFrom(t2)));
        }
        acc0.intoArray(part, o);
        acc1.intoArray(part, ROWS + o);
        acc2.intoArray(part, 2 * ROWS + o);
        acc3.intoArray(part, 3 * ROWS + o);
        bcc0.intoArray(part, o + LANES);
        bcc1.intoArray(part, ROWS + o + LANES);
        bcc2.intoArray(part, 2 * ROWS + o + LANES);
        bcc3.intoArray(part, 3 * ROWS + o + LANES);
    }

    /**
     * {@code out[o + t*stride + r + k] += part[t*ROWS + k]} for {@code tokens} tokens and the block's rows below
     * {@code rowTo}. The sums come in an array, not as vectors: a helper that takes vectors and is not inlined gets
     * them boxed, one allocation per call.
     */
    private static void addPartials(short[] part, int tokens, float[] out, int o, int stride, int r, int rowTo) {
        for (int t = 0; t < tokens; t++) {
            int end = o + t * stride + rowTo;
            for (int k = 0; k < ROWS; k += F32.length()) {
                int at = o + t * stride + r + k;
                if (at >= end) {
                    break;
                }
                // 16 sums at a time from a 256-bit load: a part number other than a constant 0 in convertShape can
                // leave C2's code on the library's allocating fallback
                FloatVector v = (FloatVector) ShortVector.fromArray(S16_HALF, part, t * ROWS + k)
                        .convertShape(VectorOperators.S2I, S32, 0).convert(VectorOperators.I2F, 0);
                if (at + F32.length() <= end) {
                    FloatVector.fromArray(F32, out, at).add(v).intoArray(out, at);
                } else {
                    VectorMask<Float> m = VectorMask.fromLong(F32, (1L << (end - at)) - 1);
                    FloatVector.fromArray(F32, out, at, m).add(v).intoArray(out, at, m);
                }
            }
        }
    }
}
