package io.bitnet4j.synth;

import io.bitnet4j.gguf.GgufValue;
import io.bitnet4j.gguf.GgufWriter;
import io.bitnet4j.tensor.GgmlType;
import io.bitnet4j.tensor.Quantize;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * Writes a synthetic model: the tensor names, shapes, types and metadata of a real layout, with random weights.
 *
 * <p>Linear weights are ternary × one scale per tensor. The ternary values come from a counter-based generator
 * keyed by (seed, tensor name, position), so they do not depend on the output type, the thread count or the number
 * of layers: the same seed in I2_S, TQ1_0, TQ2_0, F16 or F32 gives the same weights (the scale is a float16 value,
 * so every one of those types holds it exactly). Tensors are generated in parallel chunks straight into the bytes
 * the file holds; I2_S codes are packed directly, the 2B-4T layout is written in seconds.
 */
public final class SynthModel {
    private SynthModel() {}

    /** What was written. {@code notes} lists tensors stored in another type than asked (row length). */
    public record Summary(Path file, long fileSize, int tensorCount, long parameters, List<String> notes) {}

    /** Called after each tensor is generated, on the writing thread. */
    public interface Progress {
        void tensorDone(int done, int count, long bytesDone, long bytesTotal, String name);
    }

    /** Ternary values packed per 8-byte word: 32 two-bit codes (0 = -1, 1 = 0, 2 = +1). */
    private static final int CODES_PER_WORD = 32;
    /** Values generated per parallel task. */
    private static final int CHUNK_VALUES = 1 << 20;
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;
    /** Embedding values are uniform in ±EMBD_AMPLITUDE: logits of a unit-RMS hidden state stay O(1). */
    private static final float EMBD_AMPLITUDE = 0.05f;
    /** Norm weights are uniform in 1 ± NORM_SPREAD. */
    private static final float NORM_SPREAD = 0.1f;

    /** One tensor to generate. */
    record Plan(String name, Kind kind, GgmlType type, long[] shape) {
        long rowLength() {
            return shape[0];
        }

        long rows() {
            return shape.length == 1 ? 1 : shape[1];
        }

        long byteSize() {
            return type.byteSize(rowLength(), rows());
        }
    }

    enum Kind { TERNARY, EMBEDDING, NORM }

    public static Summary write(SynthOptions options, Path out) {
        return write(options, out, null);
    }

    public static Summary write(SynthOptions options, Path out, Progress progress) {
        Path parent = out.toAbsolutePath().getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            throw new IllegalArgumentException("cannot write " + out + ": directory " + parent + " does not exist");
        }
        SynthVocab vocab = vocabulary(options);
        ModelLayout layout = options.layout().with(null, null, null, null, null, vocab.size());
        Set<String> notes = new LinkedHashSet<>();
        List<Plan> plans = plan(layout, options, notes);

        GgufWriter writer = new GgufWriter();
        metadata(layout, options, vocab).forEach(writer::put);
        long total = plans.stream().mapToLong(Plan::byteSize).sum();
        long largest = plans.stream().mapToLong(Plan::byteSize).max().orElse(0);
        long parameters = plans.stream().mapToLong(p -> p.rowLength() * p.rows()).sum();
        // One buffer, reused: the writer asks for each tensor's bytes only after it has written the previous one.
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buffer = arena.allocate(largest, 64);
            long[] done = {0};
            for (int i = 0; i < plans.size(); i++) {
                Plan p = plans.get(i);
                int index = i;
                writer.addTensor(p.name(), p.type(), p.shape(), () -> {
                    MemorySegment dst = buffer.asSlice(0, p.byteSize());
                    generate(p, options.seed(), dst);
                    done[0] += p.byteSize();
                    if (progress != null) {
                        progress.tensorDone(index + 1, plans.size(), done[0], total, p.name());
                    }
                    return dst.asByteBuffer();
                });
            }
            writer.write(out);
        }
        long size;
        try {
            size = Files.size(out);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return new Summary(out, size, plans.size(), parameters, List.copyOf(notes));
    }

    private static SynthVocab vocabulary(SynthOptions o) {
        if (o.tokenizer() != null) {
            return SynthVocab.fromHuggingFace(o.tokenizer(), o.vocabFromTokenizer() ? 0 : o.layout().vocab());
        }
        return switch (o.layout().vocabKind()) {
            case BPE -> SynthVocab.syntheticBpe(o.layout().vocab());
            case SENTENCEPIECE -> SynthVocab.syntheticSentencePiece(o.layout().vocab());
        };
    }

    /** The tensors in the order bitnet.cpp's converter writes them. */
    static List<Plan> plan(ModelLayout l, SynthOptions o, Set<String> notes) {
        List<Plan> plans = new ArrayList<>();
        long dim = l.hidden();
        plans.add(new Plan("token_embd.weight", Kind.EMBEDDING, storedType(o.embdType(), dim, "token_embd.weight", notes),
                new long[] {dim, l.vocab()}));
        plans.add(new Plan("output_norm.weight", Kind.NORM, GgmlType.F32, new long[] {dim}));
        if (!l.tiedOutput()) {
            plans.add(new Plan("output.weight", Kind.EMBEDDING, storedType(o.embdType(), dim, "output.weight", notes),
                    new long[] {dim, l.vocab()}));
        }
        long q = (long) l.heads() * l.headDim();
        long kv = l.kvDim();
        long ff = l.ff();
        for (int b = 0; b < l.layers(); b++) {
            String p = "blk." + b + ".";
            plans.add(new Plan(p + "attn_norm.weight", Kind.NORM, GgmlType.F32, new long[] {dim}));
            plans.add(ternary(p + "attn_q.weight", dim, q, o, notes));
            plans.add(ternary(p + "attn_k.weight", dim, kv, o, notes));
            plans.add(ternary(p + "attn_v.weight", dim, kv, o, notes));
            if (l.subNorms()) {
                plans.add(new Plan(p + "attn_sub_norm.weight", Kind.NORM, GgmlType.F32, new long[] {q}));
            }
            plans.add(ternary(p + "attn_output.weight", q, dim, o, notes));
            plans.add(new Plan(p + "ffn_norm.weight", Kind.NORM, GgmlType.F32, new long[] {dim}));
            plans.add(ternary(p + "ffn_gate.weight", dim, ff, o, notes));
            plans.add(ternary(p + "ffn_up.weight", dim, ff, o, notes));
            if (l.subNorms()) {
                plans.add(new Plan(p + "ffn_sub_norm.weight", Kind.NORM, GgmlType.F32, new long[] {ff}));
            }
            plans.add(ternary(p + "ffn_down.weight", ff, dim, o, notes));
        }
        return plans;
    }

    private static Plan ternary(String name, long in, long out, SynthOptions o, Set<String> notes) {
        return new Plan(name, Kind.TERNARY, storedType(o.type(), in, name, notes), new long[] {in, out});
    }

    /**
     * The requested type, or — like llama.cpp's quantizer — Q8_0 (then F16) when the row length is not a multiple
     * of the requested type's block, e.g. the 3B's FFN width 8640 for I2_S's 128-value blocks. A fallback is
     * recorded in {@code notes} (one line per tensor name, layer numbers folded to {@code blk.*}).
     */
    public static GgmlType storedType(GgmlType requested, long rowLength, String name, Set<String> notes) {
        GgmlType t = rowLength % requested.blockSize == 0 ? requested
                : rowLength % GgmlType.Q8_0.blockSize == 0 ? GgmlType.Q8_0 : GgmlType.F16;
        if (t != requested) {
            notes.add(name.replaceFirst("^blk\\.\\d+\\.", "blk.*.") + ": row length " + rowLength
                    + " is not a multiple of " + requested + "'s block of " + requested.blockSize + "; written as " + t);
        }
        return t;
    }

    static Map<String, GgufValue> metadata(ModelLayout l, SynthOptions o, SynthVocab vocab) {
        return metadata(l, l.modelName() + "-synthetic", o.type(), o.embdType(), vocab);
    }

    /**
     * The metadata keys, types and order of the reference converters (bitnet.cpp's; llama.cpp's for "bitnet") for a
     * model of layout {@code l} named {@code name} whose linear weights are {@code type} and embedding {@code embdType}.
     */
    public static Map<String, GgufValue> metadata(ModelLayout l, String name, GgmlType type, GgmlType embdType,
            SynthVocab vocab) {
        String a = l.architecture();
        boolean llamaCppBitnet = a.equals("bitnet");
        Map<String, GgufValue> m = new LinkedHashMap<>();
        m.put("general.architecture", GgufValue.string(a));
        if (llamaCppBitnet) {
            m.put("general.type", GgufValue.string("model"));
        }
        m.put("general.name", GgufValue.string(name));
        m.put(a + ".block_count", GgufValue.uint32(l.layers()));
        m.put(a + ".context_length", GgufValue.uint32(l.contextLength()));
        m.put(a + ".embedding_length", GgufValue.uint32(l.hidden()));
        m.put(a + ".feed_forward_length", GgufValue.uint32(l.ff()));
        m.put(a + ".attention.head_count", GgufValue.uint32(l.heads()));
        m.put(a + ".attention.head_count_kv", GgufValue.uint32(l.kvHeads()));
        m.put(a + ".rope.freq_base", GgufValue.float32(l.ropeFreqBase()));
        m.put(a + ".attention.layer_norm_rms_epsilon", GgufValue.float32(l.rmsEps()));
        GgufValue fileType = GgufValue.uint32(fileType(type));
        if (llamaCppBitnet) {
            m.put(a + ".rope.scaling.type", GgufValue.string("linear"));
            m.put(a + ".rope.scaling.factor", GgufValue.float32(1.0f));
        } else {
            m.put("general.file_type", fileType);
            m.put(a + ".vocab_size", GgufValue.uint32(vocab.size()));
            m.put(a + ".rope.dimension_count", GgufValue.uint32(l.headDim()));
        }
        m.putAll(vocab.metadata());
        if (isQuantized(type) || isQuantized(embdType)) {
            m.put("general.quantization_version", GgufValue.uint32(2));
        }
        if (llamaCppBitnet) {
            m.put("general.file_type", fileType);
        }
        return m;
    }

    private static boolean isQuantized(GgmlType t) {
        return t != GgmlType.F32 && t != GgmlType.F16;
    }

    /** llama.cpp's llama_ftype for a "mostly <type>" file (40 is bitnet.cpp's MOSTLY_I2_S). */
    static int fileType(GgmlType t) {
        return switch (t) {
            case F32 -> 0;
            case F16 -> 1;
            case TQ1_0 -> 36;
            case TQ2_0 -> 37;
            case I2_S -> 40;
            default -> throw new IllegalArgumentException("no file type for " + t);
        };
    }

    /** Fills {@code dst} with the tensor's bytes. */
    static void generate(Plan p, long seed, MemorySegment dst) {
        long key = tensorKey(seed, p.name());
        if (p.kind() == Kind.TERNARY && p.type() == GgmlType.I2_S) {
            packI2s(key, p.rowLength() * p.rows(), ternaryScale(key, p.rowLength()), dst);
            return;
        }
        long rowLength = p.rowLength();
        long rowBytes = p.type().byteSize(rowLength, 1);
        int rowsPerChunk = (int) Math.max(1, CHUNK_VALUES / rowLength);
        int chunks = (int) ((p.rows() + rowsPerChunk - 1) / rowsPerChunk);
        float scale = p.kind() == Kind.TERNARY ? ternaryScale(key, rowLength) : 0f;
        IntStream.range(0, chunks).parallel().forEach(c -> {
            long firstRow = (long) c * rowsPerChunk;
            int rows = (int) Math.min(rowsPerChunk, p.rows() - firstRow);
            float[] values = new float[Math.toIntExact(rows * rowLength)];
            long first = firstRow * rowLength;
            for (int i = 0; i < values.length; i++) {
                long g = first + i;
                values[i] = switch (p.kind()) {
                    case TERNARY -> (ternaryCode(key, g) - 1) * scale;
                    case EMBEDDING -> uniform(key, g) * EMBD_AMPLITUDE;
                    case NORM -> 1f + uniform(key, g) * NORM_SPREAD;
                };
            }
            byte[] bytes = Quantize.encode(p.type(), values, (int) rowLength);
            MemorySegment.copy(MemorySegment.ofArray(bytes), 0, dst, firstRow * rowBytes, bytes.length);
        });
    }

    /**
     * Writes I2_S bytes directly: byte j of 128-value block b holds values 128b+j, +32, +64, +96 in bits 7..6, 5..4,
     * 3..2, 1..0 (FORMATS.md). Value 128b+32q+j is code j of word 4b+q, so each output long (8 bytes of a block) is
     * four 16-bit slices of the block's words, spread to one code per byte.
     */
    static void packI2s(long key, long n, float scale, MemorySegment dst) {
        long blocks = n / 128;
        long blocksPerChunk = CHUNK_VALUES / 128;
        int chunks = (int) ((blocks + blocksPerChunk - 1) / blocksPerChunk);
        IntStream.range(0, chunks).parallel().forEach(c -> {
            long end = Math.min(blocks, (c + 1) * blocksPerChunk);
            for (long b = c * blocksPerChunk; b < end; b++) {
                long w0 = codeWord(key, 4 * b);
                long w1 = codeWord(key, 4 * b + 1);
                long w2 = codeWord(key, 4 * b + 2);
                long w3 = codeWord(key, 4 * b + 3);
                for (int part = 0; part < 4; part++) {
                    int shift = 16 * part;
                    long bytes = spread(w0 >>> shift) << 6 | spread(w1 >>> shift) << 4
                            | spread(w2 >>> shift) << 2 | spread(w3 >>> shift);
                    dst.set(LE_LONG, 32 * b + 8 * part, bytes);
                }
            }
        });
        dst.set(LE_FLOAT, n / 4, scale);
        dst.asSlice(n / 4 + 4, GgmlType.I2S_TRAILER_BYTES - 4).fill((byte) 0);
    }

    /** The low 8 two-bit fields of {@code x}, one per byte (bits 0..1). */
    private static long spread(long x) {
        return Long.expand(x & 0xFFFF, 0x0303030303030303L);
    }

    /** Ternary code (0, 1, 2 = -1, 0, +1) of value {@code g}. */
    static int ternaryCode(long key, long g) {
        return (int) (codeWord(key, g / CODES_PER_WORD) >>> (2 * (g % CODES_PER_WORD))) & 3;
    }

    /**
     * 32 ternary codes from random bits: a 2-bit field of 3 becomes 1, so P(-1) = P(+1) = 1/4 and P(0) = 1/2 —
     * about the share of zeros in trained BitNet weights.
     */
    static long codeWord(long key, long word) {
        long r = random(key, word);
        return r ^ ((r & (r >>> 1) & 0x5555555555555555L) << 1);
    }

    /** Uniform in [-1, 1). */
    private static float uniform(long key, long g) {
        return (random(key, g) >>> 40) * 0x1.0p-23f - 1f;
    }

    /**
     * The tensor's scale: (0.5 .. 1.5) / sqrt(row length), so a matmul of a unit-RMS input stays O(1); rounded to
     * float16 so that TQ1_0/TQ2_0 (whose block scale is float16) and F16 hold the weights exactly.
     */
    static float ternaryScale(long key, long rowLength) {
        float s = (1f + 0.5f * uniform(key, -1)) / (float) Math.sqrt(rowLength);
        return Float.float16ToFloat(Float.floatToFloat16(s));
    }

    /** A counter-based generator: the {@code counter}-th 64-bit value of the stream {@code key}. */
    static long random(long key, long counter) {
        return mix(key + counter * GOLDEN);
    }

    static long tensorKey(long seed, String name) {
        long h = 0xcbf29ce484222325L; // FNV-1a of the name
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        return mix(mix(seed) ^ h);
    }

    /** SplitMix64's finaliser. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
