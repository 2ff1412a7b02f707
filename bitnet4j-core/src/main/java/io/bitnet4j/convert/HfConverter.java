package io.bitnet4j.convert;

import io.bitnet4j.convert.HfConfig.Family;
import io.bitnet4j.convert.SafetensorsFile.Dtype;
import io.bitnet4j.convert.SafetensorsFile.Tensor;
import io.bitnet4j.gguf.GgufWriter;
import io.bitnet4j.synth.ModelLayout;
import io.bitnet4j.synth.SynthModel;
import io.bitnet4j.synth.SynthOptions;
import io.bitnet4j.synth.SynthVocab;
import io.bitnet4j.tensor.GgmlType;
import io.bitnet4j.tensor.Quantize;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * Converts a Hugging Face checkpoint (safetensors + config.json + tokenizer) to a GGUF file with the tensor names,
 * types, metadata and vocabulary of the reference converters (bitnet.cpp's {@code convert-hf-to-gguf-bitnet.py}).
 *
 * <p>Linear weights come in three forms, each turned into float values and then encoded with {@link Quantize}, so the
 * output type (I2_S, TQ2_0, TQ1_0, F16) decides only the encoding:
 * <ul>
 *   <li>packed: uint8 (or int8) holding four ternary codes per byte along the output dimension (transformers'
 *       {@code pack_weights}: row {@code k*R + i} in bits {@code 2k..2k+1} of packed row {@code i}, code = t + 1)
 *       with a {@code weight_scale}, applied as {@link HfConfig.WeightScale} says;
 *   <li>float master weights of the BitNet families: absmean ternarisation as BitNet trains, {@code s = 1 /
 *       max(mean|W|, 1e-5)}, {@code w = round(clamp(W*s, -1, 1)) / s}, rounded back to the source dtype;
 *   <li>float weights of the llama family (already ternary-valued): as stored.
 * </ul>
 * For the llama family Q and K rows are permuted as llama.cpp's converter does, so that its "normal" RoPE (pairs
 * 2i, 2i+1) computes what Hugging Face's rotate-half RoPE computes.
 */
public final class HfConverter {
    private HfConverter() {}

    /** The linear weight types {@code convert} writes. */
    public static final Set<GgmlType> TYPES = EnumSet.of(GgmlType.I2_S, GgmlType.TQ2_0, GgmlType.TQ1_0, GgmlType.F16);

    /**
     * What to write.
     *
     * @param type         linear weight type: I2_S, TQ2_0, TQ1_0 or F16
     * @param embdType     token embedding (and untied output) type: F16, Q6_K or Q8_0
     * @param tokenizerPre {@code tokenizer.ggml.pre} to write for a tokenizer.json whose pre-tokenizer bitnet4j does
     *                     not recognise; null to recognise it
     */
    public record Options(GgmlType type, GgmlType embdType, String tokenizerPre) {
        public Options {
            if (!TYPES.contains(type)) {
                throw new IllegalArgumentException("--type " + type.name().toLowerCase() + " is not a type convert "
                        + "writes (use one of i2_s, tq2_0, tq1_0, f16)");
            }
            if (!SynthOptions.EMBEDDING_TYPES.contains(embdType)) {
                throw new IllegalArgumentException("--embd-type " + embdType.name().toLowerCase() + " is not an "
                        + "embedding type convert writes (use one of f16, q6_k, q8_0)");
            }
        }

        /** {@code type} for the linear weights, F16 for the embedding (as in the official 2B-4T file). */
        public static Options of(GgmlType type) {
            return new Options(type, GgmlType.F16, null);
        }
    }

    /** What was written; {@code notes} lists tensors stored in another type than asked (row length). */
    public record Summary(Path file, long fileSize, int tensorCount, String architecture, List<String> notes) {}

    /** Values processed per parallel task. */
    private static final int CHUNK_VALUES = 1 << 20;
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** One GGUF tensor and where its values come from. */
    private record Plan(String name, GgmlType type, long rowLength, long rows, Rows source) {
        long byteSize() {
            return type.byteSize(rowLength, rows);
        }

        long[] shape() {
            return rows == 1 ? new long[] {rowLength} : new long[] {rowLength, rows};
        }
    }

    /** Produces rows of a tensor's values in GGUF order (a row = one output feature). */
    interface Rows {
        void row(long r, float[] dst, int off);
    }

    /**
     * Converts the checkpoint in {@code hfDir} to {@code out}.
     *
     * @param progress called after each tensor is written, or null
     */
    public static Summary convert(Path hfDir, Path out, Options options, SynthModel.Progress progress) {
        GgmlType type = options.type();
        GgmlType embdType = options.embdType();
        try (HfCheckpoint ckpt = HfCheckpoint.open(hfDir)) {
            HfConfig c = ckpt.config();
            SynthVocab vocab = HfVocabulary.read(hfDir, c.vocab(), options.tokenizerPre());
            Set<String> notes = new LinkedHashSet<>();
            List<Plan> plans = plan(ckpt, type, embdType, notes);
            boolean tied = plans.stream().noneMatch(p -> p.name().equals("output.weight"));
            ModelLayout layout = new ModelLayout("hf", c.family().ggufArchitecture, modelName(hfDir), c.hidden(),
                    c.layers(), c.heads(), c.kvHeads(), c.ff(), vocab.size(), c.contextLength(), c.ropeTheta(),
                    c.rmsEps(), tied, ModelLayout.VocabKind.BPE);
            GgufWriter writer = new GgufWriter();
            SynthModel.metadata(layout, layout.modelName(), type, embdType, vocab).forEach(writer::put);
            write(writer, plans, out, progress);
            return new Summary(out, Files.size(out), plans.size(), layout.architecture(), List.copyOf(notes));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * {@code general.name}: the folder's name, as bitnet.cpp's convert-hf-to-gguf-bitnet.py writes it; for a
     * Hugging Face cache snapshot ({@code models--org--name/snapshots/<commit>}) the repository's name.
     */
    static String modelName(Path hfDir) {
        Path dir = hfDir.toAbsolutePath().normalize();
        Path parent = dir.getParent();
        Path repo = parent == null ? null : parent.getParent();
        if (parent != null && repo != null && repo.getFileName() != null
                && parent.getFileName().toString().equals("snapshots")
                && repo.getFileName().toString().startsWith("models--")) {
            String r = repo.getFileName().toString();
            return r.substring(r.lastIndexOf("--") + 2);
        }
        return dir.getFileName() == null ? "model" : dir.getFileName().toString();
    }

    private static void write(GgufWriter writer, List<Plan> plans, Path out, SynthModel.Progress progress) {
        long total = plans.stream().mapToLong(Plan::byteSize).sum();
        long largest = plans.stream().mapToLong(Plan::byteSize).max().orElse(0);
        // One buffer, reused: the writer asks for each tensor's bytes only after it has written the previous one.
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buffer = arena.allocate(Math.max(1, largest), 64);
            long[] done = {0};
            for (int i = 0; i < plans.size(); i++) {
                Plan p = plans.get(i);
                int index = i;
                writer.addTensor(p.name(), p.type(), p.shape(), () -> {
                    MemorySegment dst = buffer.asSlice(0, p.byteSize());
                    encode(p, dst);
                    done[0] += p.byteSize();
                    if (progress != null) {
                        progress.tensorDone(index + 1, plans.size(), done[0], total, p.name());
                    }
                    return dst.asByteBuffer();
                });
            }
            writer.write(out);
        }
    }

    /**
     * Encodes the tensor in parallel chunks of whole rows. I2_S has one scale per tensor (its absmax) after the
     * packed codes; a chunk's codes do not depend on the scale (only on each value's sign), so the chunks' codes are
     * kept and the tensor's scale is written once at the end.
     */
    private static void encode(Plan p, MemorySegment dst) {
        int rowLength = Math.toIntExact(p.rowLength());
        int rowsPerChunk = Math.max(1, CHUNK_VALUES / rowLength);
        int chunks = (int) ((p.rows() + rowsPerChunk - 1) / rowsPerChunk);
        float[] absMax = new float[chunks];
        boolean i2s = p.type() == GgmlType.I2_S;
        long rowBytes = i2s ? rowLength / 4 : p.type().byteSize(rowLength, 1);
        IntStream.range(0, chunks).parallel().forEach(chunk -> {
            long first = (long) chunk * rowsPerChunk;
            int rows = (int) Math.min(rowsPerChunk, p.rows() - first);
            float[] values = new float[rows * rowLength];
            for (int r = 0; r < rows; r++) {
                p.source().row(first + r, values, r * rowLength);
            }
            float max = 0;
            for (float v : values) {
                max = Math.max(max, Math.abs(v));
            }
            absMax[chunk] = max;
            byte[] bytes = Quantize.encode(p.type(), values, rowLength);
            MemorySegment.copy(MemorySegment.ofArray(bytes), 0, dst, first * rowBytes, rows * rowBytes);
        });
        if (i2s) {
            float scale = 0;
            for (float m : absMax) {
                scale = Math.max(scale, m);
            }
            long codes = p.rows() * rowBytes;
            dst.set(LE_FLOAT, codes, scale);
            dst.asSlice(codes + 4, GgmlType.I2S_TRAILER_BYTES - 4).fill((byte) 0);
        }
    }

    /** The GGUF tensors in the order of bitnet.cpp's files (token_embd, output_norm, output, then each block). */
    private static List<Plan> plan(HfCheckpoint ckpt, GgmlType type, GgmlType embdType, Set<String> notes) {
        HfConfig c = ckpt.config();
        Map<String, Tensor> all = ckpt.tensors();
        Set<String> used = new HashSet<>();
        List<Plan> plans = new ArrayList<>();
        long dim = c.hidden();
        long headDim = dim / c.heads();
        long q = c.heads() * headDim;
        long kv = c.kvHeads() * headDim;
        long ff = c.ff();
        plans.add(embedding("token_embd.weight", find(all, used, "model.embed_tokens.weight"), dim, c.vocab(), embdType, notes));
        plans.add(norm("output_norm.weight", find(all, used, "model.norm.weight"), dim));
        if (all.containsKey("lm_head.weight")) {
            plans.add(embedding("output.weight", find(all, used, "lm_head.weight"), dim, c.vocab(), embdType, notes));
        }
        boolean llama = c.family() == Family.LLAMA;
        for (int b = 0; b < c.layers(); b++) {
            String hf = "model.layers." + b + ".";
            String p = "blk." + b + ".";
            plans.add(norm(p + "attn_norm.weight", find(all, used, hf + "input_layernorm.weight"), dim));
            plans.add(linear(p + "attn_q.weight", ckpt, used, hf + "self_attn.q_proj", dim, q, llama ? c.heads() : 0, type, notes));
            plans.add(linear(p + "attn_k.weight", ckpt, used, hf + "self_attn.k_proj", dim, kv, llama ? c.kvHeads() : 0, type, notes));
            plans.add(linear(p + "attn_v.weight", ckpt, used, hf + "self_attn.v_proj", dim, kv, 0, type, notes));
            if (!llama) {
                plans.add(norm(p + "attn_sub_norm.weight",
                        find(all, used, hf + "self_attn.attn_sub_norm.weight", hf + "self_attn.inner_attn_ln.weight"), q));
            }
            plans.add(linear(p + "attn_output.weight", ckpt, used, hf + "self_attn.o_proj", q, dim, 0, type, notes));
            plans.add(norm(p + "ffn_norm.weight", find(all, used, hf + "post_attention_layernorm.weight"), dim));
            plans.add(linear(p + "ffn_gate.weight", ckpt, used, hf + "mlp.gate_proj", dim, ff, 0, type, notes));
            plans.add(linear(p + "ffn_up.weight", ckpt, used, hf + "mlp.up_proj", dim, ff, 0, type, notes));
            if (!llama) {
                plans.add(norm(p + "ffn_sub_norm.weight",
                        find(all, used, hf + "mlp.ffn_sub_norm.weight", hf + "mlp.ffn_layernorm.weight"), ff));
            }
            plans.add(linear(p + "ffn_down.weight", ckpt, used, hf + "mlp.down_proj", ff, dim, 0, type, notes));
        }
        for (String name : all.keySet()) {
            if (!used.contains(name) && !name.endsWith(".rotary_emb.inv_freq")) {
                throw new IllegalArgumentException("unexpected tensor '" + name + "' in the checkpoint (not part of a "
                        + c.hfArchitecture() + " with " + c.layers() + " layers)");
            }
        }
        return plans;
    }

    /** The first of {@code names} present in the checkpoint. */
    private static Tensor find(Map<String, Tensor> all, Set<String> used, String... names) {
        for (String n : names) {
            Tensor t = all.get(n);
            if (t != null) {
                used.add(n);
                return t;
            }
        }
        throw new IllegalArgumentException("tensor '" + names[0] + "' is missing from the checkpoint");
    }

    private static void checkShape(Tensor t, long... expected) {
        if (!java.util.Arrays.equals(t.shape(), expected)) {
            throw new IllegalArgumentException("tensor '" + t.name() + "' has shape " + t.shapeString() + ", expected "
                    + java.util.Arrays.toString(expected) + " from config.json");
        }
    }

    private static void checkFloat(Tensor t) {
        if (t.dtype() == Dtype.U8 || t.dtype() == Dtype.I8) {
            throw new IllegalArgumentException("tensor '" + t.name() + "' has dtype " + t.dtype() + ", expected a float type");
        }
    }

    private static Plan norm(String name, Tensor t, long n) {
        checkShape(t, n);
        checkFloat(t);
        return new Plan(name, GgmlType.F32, n, 1, (r, dst, off) -> {
            for (int i = 0; i < n; i++) {
                dst[off + i] = t.get(i);
            }
        });
    }

    private static Plan embedding(String name, Tensor t, long dim, long vocab, GgmlType embdType, Set<String> notes) {
        checkShape(t, vocab, dim);
        checkFloat(t);
        return new Plan(name, SynthModel.storedType(embdType, dim, name, notes), dim, vocab, copyRows(t, dim));
    }

    private static Rows copyRows(Tensor t, long rowLength) {
        return (r, dst, off) -> {
            long base = r * rowLength;
            for (int i = 0; i < rowLength; i++) {
                dst[off + i] = t.get(base + i);
            }
        };
    }

    /**
     * A linear layer {@code prefix.weight} of {@code out x in} (PyTorch order). {@code permuteHeads > 0} applies
     * llama.cpp's Q/K permutation ({@link #hfRowOfNormRopeRow}) for that many heads.
     */
    private static Plan linear(String name, HfCheckpoint ckpt, Set<String> used, String prefix, long in, long out,
            int permuteHeads, GgmlType type, Set<String> notes) {
        Map<String, Tensor> all = ckpt.tensors();
        HfConfig c = ckpt.config();
        Tensor w = find(all, used, prefix + ".weight");
        Tensor scaleTensor = all.get(prefix + ".weight_scale");
        Rows values;
        // packed ternary codes come as U8; an I8 tensor with a weight_scale holds the same bits
        if (w.dtype() == Dtype.U8 || (w.dtype() == Dtype.I8 && scaleTensor != null)) {
            checkShape(w, out / 4, in);
            if (out % 4 != 0 || scaleTensor == null) {
                throw new IllegalArgumentException("tensor '" + w.name() + "' is packed (" + w.dtype() + ") but "
                        + (scaleTensor == null ? prefix + ".weight_scale is missing" : "its output size " + out
                        + " is not a multiple of 4"));
            }
            used.add(scaleTensor.name());
            values = unpacked(w, in, out, scale(scaleTensor), c.packedWeightScale());
        } else {
            checkShape(w, out, in);
            if (scaleTensor != null) {
                throw new IllegalArgumentException("tensor '" + scaleTensor.name() + "' is present, but '" + w.name()
                        + "' is " + w.dtype() + ", not packed U8");
            }
            checkFloat(w);
            values = c.family().ternarisesFloatWeights() ? ternarised(w, in) : copyRows(w, in);
        }
        long headDim = permuteHeads > 0 ? out / permuteHeads : 0;
        Rows rows = permuteHeads == 0 ? values : (r, dst, off) -> values.row(hfRowOfNormRopeRow(r, headDim), dst, off);
        return new Plan(name, SynthModel.storedType(type, in, name, notes), in, out, rows);
    }

    /**
     * llama.cpp's Q/K permutation: Hugging Face's RoPE rotates dimensions (i, i + headDim/2) of a head together,
     * llama.cpp's normal RoPE (2i, 2i + 1); so GGUF row {@code 2i + j} of a head is HF row {@code j * headDim/2 + i}.
     */
    static long hfRowOfNormRopeRow(long r, long headDim) {
        long within = r % headDim;
        return r - within + (within % 2) * (headDim / 2) + within / 2;
    }

    private static float scale(Tensor t) {
        if (t.elementCount() != 1) {
            throw new IllegalArgumentException("tensor '" + t.name() + "' has shape " + t.shapeString()
                    + ", expected a single value");
        }
        checkFloat(t);
        float s = t.get(0);
        if (!(s > 0) || Float.isInfinite(s)) {
            throw new IllegalArgumentException("tensor '" + t.name() + "' holds " + s + ", expected a positive scale");
        }
        return s;
    }

    /** transformers' {@code unpack_weights}: unpacked row {@code k*R + i} is bits {@code 2k..2k+1} of packed row i. */
    private static Rows unpacked(Tensor w, long in, long out, float scale, HfConfig.WeightScale rule) {
        long packedRows = out / 4;
        float[] byCode = {rule.apply(-1, scale), rule.apply(0, scale), rule.apply(1, scale)};
        MemorySegment bytes = w.data();
        return (r, dst, off) -> {
            long base = (r % packedRows) * in;
            int shift = (int) (2 * (r / packedRows));
            for (int i = 0; i < in; i++) {
                int code = (bytes.get(ValueLayout.JAVA_BYTE, base + i) >> shift) & 3;
                if (code == 3) {
                    throw new IllegalArgumentException("tensor '" + w.name() + "' holds the invalid ternary code 3 "
                            + "(packed row " + (r % packedRows) + ", column " + i + ")");
                }
                dst[off + i] = byCode[code];
            }
        };
    }

    /**
     * Absmean ternarisation (BitNet b1.58; bitnet.cpp's {@code weight_quant}): {@code s = 1 / max(mean|W|, 1e-5)}
     * in float, {@code w = clamp(round_half_even(W*s), -1, 1) / s}, rounded back to the stored dtype. The mean is
     * summed in double (PyTorch sums in float with its own order; the two agree but for rare last-bit cases).
     */
    static Rows ternarised(Tensor w, long in) {
        long n = w.elementCount();
        int chunks = (int) ((n + CHUNK_VALUES - 1) / CHUNK_VALUES);
        double[] sums = new double[chunks];
        IntStream.range(0, chunks).parallel().forEach(c -> {
            double s = 0;
            for (long i = (long) c * CHUNK_VALUES, end = Math.min(n, i + CHUNK_VALUES); i < end; i++) {
                s += Math.abs(w.get(i));
            }
            sums[c] = s;
        });
        double sum = 0;
        for (double s : sums) {
            sum += s;
        }
        float s = 1f / Math.max((float) (sum / n), 1e-5f);
        Dtype dtype = w.dtype();
        return (r, dst, off) -> {
            long base = r * in;
            for (int i = 0; i < in; i++) {
                float t = Math.clamp((float) Math.rint(w.get(base + i) * s), -1f, 1f);
                dst[off + i] = dtype.round(t / s);
            }
        };
    }
}
