package io.bitnet4j.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bitnet4j.convert.TinyCheckpoint.Kind;
import io.bitnet4j.gguf.GgufFile;
import io.bitnet4j.gguf.GgufMetadata;
import io.bitnet4j.gguf.TensorInfo;
import io.bitnet4j.model.ForwardPass;
import io.bitnet4j.model.KvCache;
import io.bitnet4j.model.Model;
import io.bitnet4j.model.WorkerPool;
import io.bitnet4j.tensor.GgmlType;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

class HfConverterTest {
    @TempDir
    Path dir;

    static Stream<Arguments> kindsAndTypes() {
        List<Arguments> out = new ArrayList<>();
        for (Kind k : Kind.values()) {
            for (GgmlType t : HfConverter.TYPES) {
                out.add(Arguments.of(k, t));
            }
        }
        return out.stream();
    }

    /**
     * Each published checkpoint form converts to exactly the tensors that GgufWriter + Quantize make of the same
     * weights (names, types, shapes, bytes), and the converted model's logits equal those of the directly built one.
     */
    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("kindsAndTypes")
    void convertsToTheGgufBuiltDirectlyFromTheSameWeights(Kind kind, GgmlType type) {
        TinyCheckpoint truth = TinyCheckpoint.create(kind, 11);
        Path hf = truth.writeHf(dir.resolve("hf"));
        Path converted = dir.resolve("converted.gguf");
        List<String> progress = new ArrayList<>();
        HfConverter.Summary summary = HfConverter.convert(hf, converted, HfConverter.Options.of(type),
                (done, count, bytesDone, bytesTotal, name) -> progress.add(done + "/" + count + " " + name));
        assertEquals(truth.values.size(), summary.tensorCount());
        assertEquals(truth.values.size(), progress.size());
        assertEquals(List.of(), summary.notes());

        Path expected = dir.resolve("expected.gguf");
        try (GgufFile c = GgufFile.open(converted)) {
            truth.writeExpectedGguf(expected, c.metadata(), type, GgmlType.F16);
            checkMetadata(kind, type, c.metadata());
            try (GgufFile e = GgufFile.open(expected)) {
                assertEquals(List.copyOf(e.tensors().keySet()), List.copyOf(c.tensors().keySet()));
                for (TensorInfo te : e.tensors().values()) {
                    TensorInfo tc = c.tensorInfo(te.name());
                    assertEquals(te.type() + " " + te.shapeString(), tc.type() + " " + tc.shapeString(), te.name());
                    assertEquals(-1, e.tensorData(te).mismatch(c.tensorData(tc)), te.name() + " bytes differ");
                }
            }
        }
        assertArrayEquals(logits(expected), logits(converted));
    }

    /** The hyper-parameters of the tiny config.json, under the keys FORMATS.md lists, and the file type. */
    private static void checkMetadata(Kind kind, GgmlType type, GgufMetadata m) {
        String arch = switch (kind) {
            case BITNET_2B4T_PACKED, BITNET_2B4T_BF16 -> "bitnet-b1.58";
            case BITNET_1BITLLM_F16 -> "bitnet";
            case LLAMA_PACKED_SHARDED, LLAMA_F16 -> "llama";
        };
        assertEquals(arch, m.getString("general.architecture"));
        assertEquals("hf", m.getString("general.name"));
        assertEquals(TinyCheckpoint.LAYERS, m.getInt(arch + ".block_count"));
        assertEquals(TinyCheckpoint.HIDDEN, m.getInt(arch + ".embedding_length"));
        assertEquals(TinyCheckpoint.FF, m.getInt(arch + ".feed_forward_length"));
        assertEquals(TinyCheckpoint.HEADS, m.getInt(arch + ".attention.head_count"));
        assertEquals(kind.kvHeads, m.getInt(arch + ".attention.head_count_kv"));
        assertEquals(kind == Kind.BITNET_1BITLLM_F16 ? 10000f : 500000f, m.getFloat(arch + ".rope.freq_base"));
        assertEquals(1e-5f, m.getFloat(arch + ".attention.layer_norm_rms_epsilon"));
        int fileType = switch (type) {
            case I2_S -> 40;
            case TQ2_0 -> 37;
            case TQ1_0 -> 36;
            default -> 1;
        };
        assertEquals(fileType, m.getInt("general.file_type"));
        String[] tokens = m.getArray("tokenizer.ggml.tokens").strings();
        assertEquals(TinyCheckpoint.VOCAB, tokens.length);
        if (kind == Kind.BITNET_1BITLLM_F16) {
            assertEquals("llama", m.getString("tokenizer.ggml.model"));
            assertEquals("<pad>", tokens[318]);
            assertEquals("</line>", tokens[319]);
            assertEquals(1, m.getInt("tokenizer.ggml.bos_token_id"));
        } else {
            assertEquals("gpt2", m.getString("tokenizer.ggml.model"));
            assertEquals("<|begin_of_text|>", tokens[TinyCheckpoint.VOCAB - 2]);
            assertEquals(TinyCheckpoint.VOCAB - 2, m.getInt("tokenizer.ggml.bos_token_id"));
            assertEquals("{{ messages }}", m.getString("tokenizer.chat_template"));
        }
    }

    private static float[] logits(Path gguf) {
        int[] prompt = {3, 17, 250, 99, 4, 301, 42};
        try (Model model = Model.load(gguf); WorkerPool pool = new WorkerPool(1)) {
            ForwardPass fp = model.newForwardPass(pool, 16, 16);
            KvCache cache = new KvCache(model.config(), 16);
            fp.forward(cache, prompt, 0, prompt.length);
            return fp.forward(cache, new int[] {7}, 0, 1).clone();
        }
    }

    /**
     * An FFN width that is not a multiple of the type's block (the 3B's 8640 for I2_S's 128) stores ffn_down as
     * Q8_0, says so in the notes, and still matches the directly built file.
     */
    @Test
    void ffnWidthOffTheBlockFallsBackToQ8_0() {
        TinyCheckpoint truth = TinyCheckpoint.create(Kind.BITNET_1BITLLM_F16, 2, 320);
        Path hf = truth.writeHf(dir.resolve("hf"));
        Path converted = dir.resolve("c.gguf");
        HfConverter.Summary s = HfConverter.convert(hf, converted, HfConverter.Options.of(GgmlType.I2_S), null);
        assertEquals(List.of("blk.*.ffn_down.weight: row length 320 is not a multiple of I2_S's block of 128; "
                + "written as Q8_0"), s.notes());
        Path expected = dir.resolve("e.gguf");
        try (GgufFile c = GgufFile.open(converted)) {
            assertEquals(GgmlType.Q8_0, c.tensorInfo("blk.1.ffn_down.weight").type());
            assertEquals(GgmlType.I2_S, c.tensorInfo("blk.1.ffn_up.weight").type());
            truth.writeExpectedGguf(expected, c.metadata(), GgmlType.I2_S, GgmlType.F16);
        }
        assertArrayEquals(logits(expected), logits(converted));
    }

    /**
     * The Q/K row permutation is what makes llama.cpp's normal RoPE (pairs 2i, 2i+1) compute Hugging Face's
     * rotate-half RoPE (pairs i, i + d/2, both with frequency base^(-2i/d)): rotated query·key products of a head
     * agree for any vectors and positions.
     */
    @Test
    void qkPermutationTurnsRotateHalfRopeIntoNormRope() {
        int d = 16;
        java.util.Random rnd = new java.util.Random(9);
        for (int trial = 0; trial < 20; trial++) {
            double[] q = rnd.doubles(d, -1, 1).toArray();
            double[] k = rnd.doubles(d, -1, 1).toArray();
            int pq = rnd.nextInt(100);
            int pk = rnd.nextInt(100);
            double hf = dot(rotateHalf(q, pq), rotateHalf(k, pk));
            double[] q2 = new double[d];
            double[] k2 = new double[d];
            for (int r = 0; r < d; r++) {
                q2[r] = q[(int) HfConverter.hfRowOfNormRopeRow(r, d)];
                k2[r] = k[(int) HfConverter.hfRowOfNormRopeRow(r, d)];
            }
            assertEquals(hf, dot(normRope(q2, pq), normRope(k2, pk)), 1e-9);
        }
        assertEquals(16 + 8 + 3, HfConverter.hfRowOfNormRopeRow(16 + 7, d), "second head, row 7 = 2*3 + 1");
    }

    private static double theta(int i, int d, int pos) {
        return pos * Math.pow(10000, -2.0 * i / d);
    }

    private static double[] rotateHalf(double[] x, int pos) {
        int h = x.length / 2;
        double[] y = new double[x.length];
        for (int i = 0; i < h; i++) {
            double c = Math.cos(theta(i, x.length, pos));
            double s = Math.sin(theta(i, x.length, pos));
            y[i] = x[i] * c - x[i + h] * s;
            y[i + h] = x[i + h] * c + x[i] * s;
        }
        return y;
    }

    private static double[] normRope(double[] x, int pos) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length / 2; i++) {
            double c = Math.cos(theta(i, x.length, pos));
            double s = Math.sin(theta(i, x.length, pos));
            y[2 * i] = x[2 * i] * c - x[2 * i + 1] * s;
            y[2 * i + 1] = x[2 * i + 1] * c + x[2 * i] * s;
        }
        return y;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    /** microsoft/BitNet-b1.58-2B-4T's packed form and its -bf16 master weights give byte-identical GGUF tensors. */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"I2_S", "TQ2_0", "TQ1_0", "F16"})
    void packedAndBf16FormsOf2b4tConvertToIdenticalTensors(GgmlType type) {
        Path packed = convert(Kind.BITNET_2B4T_PACKED, type, "packed");
        Path bf16 = convert(Kind.BITNET_2B4T_BF16, type, "bf16");
        try (GgufFile a = GgufFile.open(packed); GgufFile b = GgufFile.open(bf16)) {
            assertEquals(List.copyOf(a.tensors().keySet()), List.copyOf(b.tensors().keySet()));
            for (TensorInfo t : a.tensors().values()) {
                assertEquals(-1, a.tensorData(t).mismatch(b.tensorData(t.name())), t.name());
            }
        }
    }

    /** Packed codes stored as I8 (the same bits) convert exactly like U8. */
    @Test
    void packedCodesInInt8ConvertLikeUint8() throws IOException {
        Path u8 = convert(Kind.LLAMA_PACKED_SHARDED, GgmlType.TQ2_0, "u8");
        Path hf = TinyCheckpoint.create(Kind.LLAMA_PACKED_SHARDED, 5).writeHf(dir.resolve("i8").resolve("u8")); // same general.name
        for (String shard : new String[] {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}) {
            byte[] b = Files.readAllBytes(hf.resolve(shard));
            String text = new String(b, java.nio.charset.StandardCharsets.ISO_8859_1);
            assertTrue(text.contains("\"dtype\":\"U8\""));
            Files.write(hf.resolve(shard), text.replace("\"dtype\":\"U8\"", "\"dtype\":\"I8\"")
                    .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        }
        Path i8 = dir.resolve("i8.gguf");
        HfConverter.convert(hf, i8, HfConverter.Options.of(GgmlType.TQ2_0), null);
        assertArrayEquals(Files.readAllBytes(u8), Files.readAllBytes(i8));
    }

    private Path convert(Kind kind, GgmlType type, String name) {
        Path hf = TinyCheckpoint.create(kind, 5).writeHf(dir.resolve(name));
        Path out = dir.resolve(name + ".gguf");
        HfConverter.convert(hf, out, HfConverter.Options.of(type), null);
        return out;
    }

    /**
     * Absmean ternarisation worked by hand: W = [0.3, -0.6, 0.05, 1.2], mean|W| = 0.5375, W/mean = [0.56, -1.12,
     * 0.09, 2.23] rounds to [1, -1, 0, 2], clamps to [1, -1, 0, 1]; the weights are those times 0.5375.
     */
    @Test
    void ternarisesByAbsmean() {
        float[] w = {0.3f, -0.6f, 0.05f, 1.2f};
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : w) {
            b.putFloat(x);
        }
        var t = new SafetensorsFile.Tensor("w", SafetensorsFile.Dtype.F32, new long[] {1, 4}, MemorySegment.ofArray(b.array()));
        float[] out = new float[4];
        HfConverter.ternarised(t, 4).row(0, out, 0);
        float m = 0.5375f;
        assertArrayEquals(new float[] {m, -m, 0, m}, out, 1e-7f);
    }

    @Test
    void sentencePieceVocabularyAsLlamaCppWritesIt() {
        Path hf = TinyCheckpoint.create(Kind.BITNET_1BITLLM_F16, 1).writeHf(dir.resolve("sp"));
        GgufMetadata m = metadataOf(HfVocabulary.read(hf, TinyCheckpoint.VOCAB + 3, null).metadata());
        String[] tokens = m.getArray("tokenizer.ggml.tokens").strings();
        float[] scores = m.getArray("tokenizer.ggml.scores").floats();
        int[] types = m.getArray("tokenizer.ggml.token_type").ints();
        for (int i = 0; i < TinyCheckpoint.SP_PIECES; i++) {
            assertEquals(TinyCheckpoint.spPiece(i), tokens[i]);
            assertEquals(-i, scores[i]);
        }
        assertArrayEquals(new int[] {2, 3, 3, 1, 1}, java.util.Arrays.copyOf(types, 5)); // user-defined -> normal
        assertEquals(List.of("<pad>", "</line>", "[PAD1]", "[PAD2]", "[PAD3]"),
                List.of(tokens).subList(TinyCheckpoint.SP_PIECES, tokens.length));
        assertArrayEquals(new int[] {4, 4, 5, 5, 5}, java.util.Arrays.copyOfRange(types, TinyCheckpoint.SP_PIECES, types.length));
        assertEquals(-1000f, scores[TinyCheckpoint.SP_PIECES]);
        assertEquals(2, m.getInt("tokenizer.ggml.eos_token_id"));
        assertEquals(0, m.getInt("tokenizer.ggml.unknown_token_id"));
        assertFalse(m.getBool("tokenizer.ggml.add_eos_token", true));
    }

    private static GgufMetadata metadataOf(java.util.Map<String, io.bitnet4j.gguf.GgufValue> map) {
        return new GgufMetadata(map);
    }

    /**
     * Ids tokenizer_config.json does not give come from config.json's {@code <kind>_token_id} (gguf-py's fallback),
     * in the bos, eos, unk, pad order and before the add_* flags; ids outside the vocabulary are ignored.
     */
    @Test
    void specialTokenIdsFallBackToConfigJson() throws IOException {
        Path hf = TinyCheckpoint.create(Kind.BITNET_1BITLLM_F16, 1).writeHf(dir.resolve("sp"));
        Files.writeString(hf.resolve("tokenizer_config.json"), "{\"bos_token\": \"<s>\", \"add_bos_token\": true}");
        Files.writeString(hf.resolve("config.json"), Files.readString(hf.resolve("config.json"))
                .replace("{", "{\"eos_token_id\": 2, \"pad_token_id\": 318, \"unk_token_id\": 99999, "));
        var m = HfVocabulary.read(hf, TinyCheckpoint.VOCAB, null).metadata();
        List<String> keys = m.keySet().stream().filter(k -> k.endsWith("_token_id") || k.contains(".add_")).toList();
        assertEquals(List.of("tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                "tokenizer.ggml.padding_token_id", "tokenizer.ggml.add_bos_token"), keys);
        GgufMetadata md = new GgufMetadata(m);
        assertEquals(1, md.getInt("tokenizer.ggml.bos_token_id"));
        assertEquals(2, md.getInt("tokenizer.ggml.eos_token_id"));
        assertEquals(318, md.getInt("tokenizer.ggml.padding_token_id"));
    }

    /** An unrecognised pre-tokenizer stops with a hint; --tokenizer-pre names it. */
    @Test
    void unrecognisedPreTokenizerCanBeNamed() throws IOException {
        Path hf = TinyCheckpoint.create(Kind.LLAMA_F16, 1).writeHf(dir.resolve("m"));
        Files.writeString(hf.resolve("tokenizer.json"), Files.readString(hf.resolve("tokenizer.json"))
                .replace("{\"type\": \"ByteLevel\", \"add_prefix_space\": false}", "{\"type\": \"Whitespace\"}"));
        var e = assertThrows(IllegalArgumentException.class,
                () -> HfConverter.convert(hf, dir.resolve("o.gguf"), HfConverter.Options.of(GgmlType.I2_S), null));
        assertTrue(e.getMessage().contains("unrecognised pre-tokenizer") && e.getMessage().contains("--tokenizer-pre"),
                e.getMessage());
        HfConverter.convert(hf, dir.resolve("o.gguf"), new HfConverter.Options(GgmlType.I2_S, GgmlType.F16, "falcon3"), null);
        try (GgufFile f = GgufFile.open(dir.resolve("o.gguf"))) {
            assertEquals("falcon3", f.metadata().getString("tokenizer.ggml.pre"));
        }
    }

    @Test
    void truncatedSentencePieceModelIsAClearError() throws IOException {
        Path hf = TinyCheckpoint.create(Kind.BITNET_1BITLLM_F16, 1).writeHf(dir.resolve("sp"));
        byte[] model = Files.readAllBytes(hf.resolve("tokenizer.model"));
        Files.write(hf.resolve("tokenizer.model"), java.util.Arrays.copyOf(model, model.length / 2 + 1));
        var e = assertThrows(IllegalArgumentException.class, () -> HfVocabulary.read(hf, TinyCheckpoint.VOCAB, null));
        assertTrue(e.getMessage().contains("not a valid SentencePiece model"), e.getMessage());
    }

    @Test
    void modelNameIsTheFolderOrTheCachedRepository() {
        assertEquals("BitNet-b1.58-2B-4T", HfConverter.modelName(Path.of("/m/BitNet-b1.58-2B-4T")));
        assertEquals("BitNet-b1.58-2B-4T", HfConverter.modelName(Path.of("/m/BitNet-b1.58-2B-4T/./")));
        assertEquals("bitnet-b1.58-2B-4T-bf16", HfConverter.modelName(
                Path.of("/c/hub/models--microsoft--bitnet-b1.58-2B-4T-bf16/snapshots/5e3c0a8b")));
        assertEquals("model", HfConverter.modelName(Path.of("/")));
    }

    @Test
    void unsupportedArchitectureIsNamed() throws IOException {
        Path hf = TinyCheckpoint.create(Kind.LLAMA_F16, 1).writeHf(dir.resolve("m"));
        Files.writeString(hf.resolve("config.json"), Files.readString(hf.resolve("config.json"))
                .replace("LlamaForCausalLM", "MistralForCausalLM"));
        var e = assertThrows(IllegalArgumentException.class,
                () -> HfConverter.convert(hf, dir.resolve("o.gguf"), HfConverter.Options.of(GgmlType.I2_S), null));
        assertTrue(e.getMessage().contains("MistralForCausalLM is not supported"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("o.gguf")));
    }

    @Test
    void configThatDisagreesWithTheTensorsIsNamed() throws IOException {
        Path hf = TinyCheckpoint.create(Kind.BITNET_2B4T_BF16, 1).writeHf(dir.resolve("m"));
        Files.writeString(hf.resolve("config.json"), Files.readString(hf.resolve("config.json"))
                .replace("\"intermediate_size\": 512", "\"intermediate_size\": 768"));
        var e = assertThrows(IllegalArgumentException.class,
                () -> HfConverter.convert(hf, dir.resolve("o.gguf"), HfConverter.Options.of(GgmlType.I2_S), null));
        assertTrue(e.getMessage().contains("'model.layers.0.mlp.gate_proj.weight' has shape [512, 256], expected [768, 256]"),
                e.getMessage());
    }

    @Test
    void fewerLayersInConfigThanInTheCheckpointIsNamed() throws IOException {
        Path hf = TinyCheckpoint.create(Kind.BITNET_2B4T_BF16, 1).writeHf(dir.resolve("m"));
        Files.writeString(hf.resolve("config.json"), Files.readString(hf.resolve("config.json"))
                .replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 1"));
        var e = assertThrows(IllegalArgumentException.class,
                () -> HfConverter.convert(hf, dir.resolve("o.gguf"), HfConverter.Options.of(GgmlType.I2_S), null));
        assertTrue(e.getMessage().contains("unexpected tensor 'model.layers.1."), e.getMessage());
    }

    @Test
    void packedWeightWithoutScaleIsNamed() throws IOException {
        Path hf = TinyCheckpoint.create(Kind.BITNET_2B4T_PACKED, 1).writeHf(dir.resolve("m"));
        // rename one weight_scale so that its weight has none (and an unknown tensor appears)
        Path st = hf.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(st);
        String text = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1)
                .replace("layers.0.self_attn.q_proj.weight_scale", "layers.0.self_attn.q_proj.weight_scalX");
        Files.write(st, text.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        var e = assertThrows(IllegalArgumentException.class,
                () -> HfConverter.convert(hf, dir.resolve("o.gguf"), HfConverter.Options.of(GgmlType.I2_S), null));
        assertTrue(e.getMessage().contains("q_proj.weight_scale is missing"), e.getMessage());
    }

    @Test
    void invalidTernaryCodeIsNamed() throws IOException {
        Path hf = dir.resolve("m");
        TinyCheckpoint.create(Kind.BITNET_2B4T_PACKED, 1).writeHf(hf);
        Path st = hf.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(st);
        long headerLength = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        String header = new String(bytes, 8, (int) headerLength, java.nio.charset.StandardCharsets.UTF_8);
        int key = header.indexOf("model.layers.0.mlp.up_proj.weight\"");
        int offsets = header.indexOf("data_offsets\":[", key) + "data_offsets\":[".length();
        long begin = Long.parseLong(header.substring(offsets, header.indexOf(',', offsets)));
        bytes[(int) (8 + headerLength + begin)] = (byte) 0xff; // four codes of 3
        Files.write(st, bytes);
        var e = assertThrows(IllegalArgumentException.class,
                () -> HfConverter.convert(hf, dir.resolve("o.gguf"), HfConverter.Options.of(GgmlType.I2_S), null));
        assertTrue(e.getMessage().contains("'model.layers.0.mlp.up_proj.weight' holds the invalid ternary code 3"),
                e.getMessage());
        assertFalse(Files.exists(dir.resolve("o.gguf")));
    }
}
