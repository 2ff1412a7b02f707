package io.bitnet4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.bitnet4j.gguf.GgufWriter;
import io.bitnet4j.tensor.GgmlType;
import io.bitnet4j.tensor.Quantize;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link ForwardPass} (batched prompt, then token-by-token decoding, 1 and 2 threads) against the plain
 * {@link ReferenceForwardPass} on tiny random models of every architecture and linear weight type.
 *
 * <p>Tolerance: none. Both compute the same arithmetic (same quantizers, same ggml reduction orders), so any
 * difference is an orchestration bug — a wrong offset, a stale buffer, a race, a batch computed as single tokens.
 * Threads only split rows, never a sum, so 1 and 2 threads must also be bit-identical (as bitnet.cpp is).
 */
class ForwardPassReferenceTest {
    static final int DIM = 256;
    static final int HEADS = 4;
    static final int FF = 512;
    static final int LAYERS = 2;
    static final int VOCAB = 320;
    /** 37 prompt + 28 generated positions: crosses the 32- and 64-position boundaries of ggml's padded attention. */
    static final int PROMPT = 37;
    static final int STEPS = 28;

    @TempDir
    Path dir;

    /** Attention shape: bitnet-b1.58 and llama get grouped KV heads, bitnet as many KV heads as heads. */
    record Heads(int heads, int kvHeads, int headDim) {
        static Heads of(Architecture arch) {
            return arch == Architecture.BITNET ? new Heads(HEADS, HEADS, DIM / HEADS) : new Heads(HEADS, HEADS / 2, DIM / HEADS);
        }

        @Override
        public String toString() {
            return heads + "/" + kvHeads + " heads of " + headDim;
        }
    }

    static Stream<Arguments> models() {
        List<Arguments> all = new ArrayList<>();
        for (Architecture arch : Architecture.values()) {
            for (GgmlType type : List.of(GgmlType.I2_S, GgmlType.TQ2_0, GgmlType.TQ1_0, GgmlType.F16)) {
                all.add(Arguments.of(arch, type, Heads.of(arch)));
            }
        }
        // bitnet_b1_58-3B's head dim of 100: ggml_vec_dot_f16 runs 64 values in lanes and 36 in its double tail,
        // and tinyBLAS declines K·Q (100 is not a multiple of 16); 32 heads × 100 = 3200 fits I2_S, not TQ
        all.add(Arguments.of(Architecture.BITNET, GgmlType.I2_S, new Heads(32, 32, 100)));
        all.add(Arguments.of(Architecture.BITNET, GgmlType.F16, new Heads(32, 32, 100)));
        return all.stream();
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("models")
    void forwardPassMatchesReference(Architecture arch, GgmlType linearType, Heads shape) {
        Path file = dir.resolve(arch + "-" + linearType + "-" + shape.headDim() + ".gguf");
        writeTinyModel(file, arch, linearType, shape, new Random(arch.ordinal() * 31 + linearType.ordinal()));
        try (Model model = Model.load(file)) {
            int[] tokens = new int[PROMPT + STEPS];
            Random rnd = new Random(7);
            for (int i = 0; i < PROMPT; i++) {
                tokens[i] = rnd.nextInt(VOCAB);
            }
            List<float[]> expected = referenceRun(model, tokens);
            List<float[]> oneThread = forwardPassRun(model, tokens, 1);
            List<float[]> twoThreads = forwardPassRun(model, tokens, 2);
            for (int s = 0; s < expected.size(); s++) {
                assertArrayEquals(expected.get(s), oneThread.get(s), "logits at step " + s + ", 1 thread");
                assertArrayEquals(oneThread.get(s), twoThreads.get(s), "logits at step " + s + ", 2 threads vs 1");
            }
        }
    }

    /**
     * The prompt in two batches (20 + 17 tokens, so the second batch starts mid-cache), then greedy decoding;
     * fills in the generated tokens and returns the logits after each call from the second batch on.
     */
    private static List<float[]> referenceRun(Model model, int[] tokens) {
        ReferenceForwardPass ref = new ReferenceForwardPass(model, PROMPT + STEPS);
        List<float[]> out = new ArrayList<>();
        ref.forward(java.util.Arrays.copyOfRange(tokens, 0, 20));
        float[] logits = ref.forward(java.util.Arrays.copyOfRange(tokens, 20, PROMPT));
        out.add(logits);
        for (int s = 0; s < STEPS - 1; s++) {
            tokens[PROMPT + s] = argmax(logits);
            logits = ref.forward(tokens[PROMPT + s]);
            out.add(logits);
        }
        return out;
    }

    private static List<float[]> forwardPassRun(Model model, int[] tokens, int threads) {
        try (WorkerPool pool = new WorkerPool(threads)) {
            ForwardPass fp = model.newForwardPass(pool, 32, PROMPT + STEPS);
            KvCache cache = new KvCache(model.config(), PROMPT + STEPS);
            List<float[]> out = new ArrayList<>();
            fp.forward(cache, tokens, 0, 20);
            out.add(fp.forward(cache, tokens, 20, PROMPT - 20).clone());
            for (int s = 0; s < STEPS - 1; s++) {
                out.add(fp.forward(cache, tokens, PROMPT + s, 1).clone());
            }
            return out;
        }
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    /**
     * A tiny model of {@code arch}: linear weights ternary × an fp16-exact scale (random normal for F16), an F16
     * token embedding, random norms; bitnet gets per-tensor {@code .scale} tensors, llama an untied Q6_K output.
     */
    static void writeTinyModel(Path file, Architecture arch, GgmlType linearType, Heads shape, Random rnd) {
        String name = switch (arch) {
            case BITNET_B158 -> "bitnet-b1.58";
            case BITNET -> "bitnet";
            case LLAMA -> "llama";
        };
        int qDim = shape.heads() * shape.headDim();
        int kvDim = shape.kvHeads() * shape.headDim();
        GgufWriter g = new GgufWriter()
                .putString("general.architecture", name)
                .putUint32(name + ".embedding_length", DIM)
                .putUint32(name + ".block_count", LAYERS)
                .putUint32(name + ".attention.head_count", shape.heads())
                .putUint32(name + ".attention.head_count_kv", shape.kvHeads())
                .putUint32(name + ".attention.key_length", shape.headDim())
                .putUint32(name + ".attention.value_length", shape.headDim())
                .putUint32(name + ".feed_forward_length", FF)
                .putUint32(name + ".context_length", 128)
                .putFloat32(name + ".rope.freq_base", arch == Architecture.BITNET_B158 ? 500000f : 10000f)
                .putFloat32(name + ".attention.layer_norm_rms_epsilon", 1e-5f);
        tensor(g, "token_embd.weight", GgmlType.F16, DIM, VOCAB, normal(rnd, DIM * VOCAB, 1f));
        tensor(g, "output_norm.weight", GgmlType.F32, DIM, 1, norm(rnd, DIM));
        if (arch == Architecture.LLAMA) {
            tensor(g, "output.weight", GgmlType.Q6_K, DIM, VOCAB, normal(rnd, DIM * VOCAB, 0.05f));
        }
        for (int l = 0; l < LAYERS; l++) {
            String p = "blk." + l + ".";
            tensor(g, p + "attn_norm.weight", GgmlType.F32, DIM, 1, norm(rnd, DIM));
            linear(g, p + "attn_q", linearType, DIM, qDim, rnd, arch);
            linear(g, p + "attn_k", linearType, DIM, kvDim, rnd, arch);
            linear(g, p + "attn_v", linearType, DIM, kvDim, rnd, arch);
            linear(g, p + "attn_output", linearType, qDim, DIM, rnd, arch);
            tensor(g, p + "ffn_norm.weight", GgmlType.F32, DIM, 1, norm(rnd, DIM));
            linear(g, p + "ffn_gate", linearType, DIM, FF, rnd, arch);
            linear(g, p + "ffn_up", linearType, DIM, FF, rnd, arch);
            linear(g, p + "ffn_down", linearType, FF, DIM, rnd, arch);
            if (arch.subNorms) {
                tensor(g, p + "attn_sub_norm.weight", GgmlType.F32, qDim, 1, norm(rnd, qDim));
                tensor(g, p + "ffn_sub_norm.weight", GgmlType.F32, FF, 1, norm(rnd, FF));
            }
        }
        g.write(file);
    }

    private static void linear(GgufWriter g, String name, GgmlType type, int in, int out, Random rnd, Architecture arch) {
        float[] w = new float[in * out];
        float scale = Float.float16ToFloat(Float.floatToFloat16(0.03f + 0.05f * rnd.nextFloat()));
        for (int i = 0; i < w.length; i++) {
            w[i] = type == GgmlType.F16 ? (float) rnd.nextGaussian() * scale : (rnd.nextInt(3) - 1) * scale;
        }
        tensor(g, name + ".weight", type, in, out, w);
        if (arch == Architecture.BITNET) {
            tensor(g, name + ".scale", GgmlType.F32, 1, 1, new float[] {0.5f + rnd.nextFloat()});
        }
    }

    private static void tensor(GgufWriter g, String name, GgmlType type, int in, int out, float[] values) {
        byte[] bytes = Quantize.encode(type, values, in);
        long[] shape = out == 1 ? new long[] {in} : new long[] {in, out};
        g.addTensor(name, type, shape, () -> ByteBuffer.wrap(bytes));
    }

    private static float[] normal(Random rnd, int n, float sigma) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian() * sigma;
        }
        return v;
    }

    private static float[] norm(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = 0.5f + rnd.nextFloat();
        }
        return v;
    }
}
