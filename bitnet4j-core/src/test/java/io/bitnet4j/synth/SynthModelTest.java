package io.bitnet4j.synth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bitnet4j.gguf.GgufFile;
import io.bitnet4j.gguf.GgufMetadata;
import io.bitnet4j.gguf.GgufValue;
import io.bitnet4j.gguf.TensorInfo;
import io.bitnet4j.model.Architecture;
import io.bitnet4j.model.Model;
import io.bitnet4j.model.ModelConfig;
import io.bitnet4j.tensor.GgmlType;
import io.bitnet4j.tensor.Quantize;
import io.bitnet4j.tensor.WeightMatrix;
import io.bitnet4j.testing.SharedTestData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class SynthModelTest {
    @TempDir
    Path dir;

    /**
     * Every named layout with one layer (and a 1024-token vocabulary to keep files small) loads as a model whose
     * hyper-parameters are the published ones and whose tensors are those FORMATS.md lists for the architecture.
     */
    @ParameterizedTest
    @ValueSource(strings = {"2b4t", "bitnet-large", "bitnet-3b", "llama3-8b-1.58", "falcon3-1b", "tiny"})
    void everyLayoutLoadsWithItsPublishedShape(String name) {
        ModelLayout full = ModelLayout.byName(name);
        Path file = dir.resolve(name + ".gguf");
        SynthModel.Summary summary = SynthModel.write(
                SynthOptions.builder().layout(name).layers(1).vocab(1024).build(), file);
        try (Model model = Model.load(file)) {
            ModelConfig c = model.config();
            assertEquals(full.architecture(), c.archName());
            assertEquals(full.hidden(), c.dim());
            assertEquals(1, c.layers());
            assertEquals(full.heads(), c.heads());
            assertEquals(full.kvHeads(), c.kvHeads());
            assertEquals(full.hidden() / full.heads(), c.headDim());
            assertEquals(c.headDim(), c.ropeDims());
            assertEquals(full.ff(), c.ffDim());
            assertEquals(1024, c.vocabSize());
            assertEquals(full.contextLength(), c.contextLength());
            assertEquals(full.ropeFreqBase(), c.ropeFreqBase());
            assertEquals(full.rmsEps(), c.rmsEps());

            Map<String, String> expected = expectedTensors(full, c);
            Map<String, String> actual = new LinkedHashMap<>();
            for (TensorInfo t : model.file().tensors().values()) {
                actual.put(t.name(), t.type() + " " + t.shapeString());
            }
            assertEquals(expected, actual);
            assertEquals(expected.size(), summary.tensorCount());
        }
        if (name.equals("bitnet-3b")) {
            assertEquals(List.of("blk.*.ffn_down.weight: row length 8640 is not a multiple of I2_S's block of 128; "
                    + "written as Q8_0"), summary.notes());
        } else {
            assertEquals(List.of(), summary.notes());
        }
    }

    /** Names, types and shapes from FORMATS.md "Architectures", written out independently of the generator. */
    private static Map<String, String> expectedTensors(ModelLayout l, ModelConfig c) {
        Map<String, String> m = new LinkedHashMap<>();
        int d = l.hidden();
        int kv = l.kvHeads() * (d / l.heads());
        int ff = l.ff();
        m.put("token_embd.weight", "F16 [" + d + ", 1024]");
        m.put("output_norm.weight", "F32 [" + d + "]");
        boolean llama = c.architecture() == Architecture.LLAMA;
        if (llama) {
            m.put("output.weight", "F16 [" + d + ", 1024]");
        }
        m.put("blk.0.attn_norm.weight", "F32 [" + d + "]");
        m.put("blk.0.attn_q.weight", "I2_S [" + d + ", " + d + "]");
        m.put("blk.0.attn_k.weight", "I2_S [" + d + ", " + kv + "]");
        m.put("blk.0.attn_v.weight", "I2_S [" + d + ", " + kv + "]");
        if (!llama) {
            m.put("blk.0.attn_sub_norm.weight", "F32 [" + d + "]");
        }
        m.put("blk.0.attn_output.weight", "I2_S [" + d + ", " + d + "]");
        m.put("blk.0.ffn_norm.weight", "F32 [" + d + "]");
        m.put("blk.0.ffn_gate.weight", "I2_S [" + d + ", " + ff + "]");
        m.put("blk.0.ffn_up.weight", "I2_S [" + d + ", " + ff + "]");
        if (!llama) {
            m.put("blk.0.ffn_sub_norm.weight", "F32 [" + ff + "]");
        }
        m.put("blk.0.ffn_down.weight", (ff % 128 == 0 ? "I2_S" : "Q8_0") + " [" + ff + ", " + d + "]");
        return m;
    }

    @Test
    void sameSeedGivesTheSameBytesAndAnotherSeedDiffers() throws Exception {
        Path a = dir.resolve("a.gguf");
        Path b = dir.resolve("b.gguf");
        Path c = dir.resolve("c.gguf");
        SynthModel.write(SynthOptions.builder().seed(7).build(), a);
        SynthModel.write(SynthOptions.builder().seed(7).build(), b);
        SynthModel.write(SynthOptions.builder().seed(8).build(), c);
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
        assertEquals(Files.size(a), Files.size(c));
        try (GgufFile fa = GgufFile.open(a); GgufFile fc = GgufFile.open(c)) {
            for (TensorInfo t : fa.tensors().values()) {
                assertFalse(fa.tensorData(t).mismatch(fc.tensorData(t.name())) == -1, t.name() + " ignores the seed");
            }
        }
    }

    @Test
    void bytesDoNotDependOnTheThreadCount() throws Exception {
        Path one = dir.resolve("one.gguf");
        Path four = dir.resolve("four.gguf");
        SynthOptions o = SynthOptions.builder().layout("2b4t").layers(1).hidden(512).heads(4).kvHeads(1).ff(1024)
                .vocab(2048).build();
        try (java.util.concurrent.ForkJoinPool p1 = new java.util.concurrent.ForkJoinPool(1);
                java.util.concurrent.ForkJoinPool p4 = new java.util.concurrent.ForkJoinPool(4)) {
            p1.submit(() -> SynthModel.write(o, one)).get();
            p4.submit(() -> SynthModel.write(o, four)).get();
        }
        assertArrayEquals(Files.readAllBytes(one), Files.readAllBytes(four));
    }

    /**
     * The weights do not depend on the type they are stored in: I2_S (packed directly by the generator) decodes to
     * exactly the values that Quantize's TQ1_0/TQ2_0/F16/F32 encoders were given, and those are ternary x one
     * scale per tensor with about half zeros.
     */
    @Test
    void everyLinearTypeHoldsTheSameTernaryWeights() {
        Map<GgmlType, Map<String, float[]>> byType = new LinkedHashMap<>();
        for (GgmlType type : SynthOptions.LINEAR_TYPES) {
            Path file = dir.resolve(type + ".gguf");
            SynthModel.write(SynthOptions.builder().type(type).seed(3).build(), file);
            try (GgufFile f = GgufFile.open(file)) {
                Map<String, float[]> weights = new LinkedHashMap<>();
                for (TensorInfo t : f.tensors().values()) {
                    if (t.name().startsWith("blk.") && t.shape().length == 2) {
                        assertEquals(type, t.type(), t.name());
                        weights.put(t.name(), dequantize(f, t));
                    }
                }
                byType.put(type, weights);
            }
        }
        Map<String, float[]> reference = byType.get(GgmlType.F32);
        byType.forEach((type, weights) -> reference.forEach((name, w) ->
                assertArrayEquals(w, weights.get(name), type + " " + name)));
        for (Map.Entry<String, float[]> e : reference.entrySet()) {
            float scale = 0;
            int zeros = 0;
            for (float v : e.getValue()) {
                scale = Math.max(scale, Math.abs(v));
            }
            for (float v : e.getValue()) {
                assertTrue(v == 0 || Math.abs(v) == scale, e.getKey() + " is not ternary x scale: " + v);
                zeros += v == 0 ? 1 : 0;
            }
            double zeroShare = zeros / (double) e.getValue().length;
            assertTrue(zeroShare > 0.45 && zeroShare < 0.55, e.getKey() + " zero share " + zeroShare);
        }
    }

    /** The directly packed I2_S bytes are what bitnet.cpp's quantizer (Quantize.encode) makes of the same weights. */
    @Test
    void directI2sPackingMatchesTheReferenceEncoder() {
        Path file = dir.resolve("i2s.gguf");
        SynthModel.write(SynthOptions.builder().build(), file);
        try (GgufFile f = GgufFile.open(file)) {
            for (TensorInfo t : f.tensors().values()) {
                if (t.type() == GgmlType.I2_S) {
                    byte[] expected = Quantize.encode(GgmlType.I2_S, dequantize(f, t), (int) t.rowLength());
                    assertArrayEquals(expected, f.tensorData(t).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                            t.name());
                }
            }
        }
    }

    private static float[] dequantize(GgufFile f, TensorInfo t) {
        WeightMatrix m = WeightMatrix.of(t.name(), t.type(), t.shape(), f.tensorData(t));
        float[] out = new float[m.inFeatures() * m.outFeatures()];
        for (int r = 0; r < m.outFeatures(); r++) {
            m.dequantizeRow(r, out, r * m.inFeatures());
        }
        return out;
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q6_K", "Q8_0"})
    void quantizedEmbeddingTypes(GgmlType embd) {
        Path file = dir.resolve("e.gguf");
        SynthModel.write(SynthOptions.builder().layout("falcon3-1b").layers(1).hidden(256).heads(4).kvHeads(2)
                .ff(512).vocab(512).embdType(embd).build(), file);
        try (Model m = Model.load(file)) {
            assertEquals(embd, m.file().tensorInfo("token_embd.weight").type());
            assertEquals(embd, m.file().tensorInfo("output.weight").type());
        }
    }

    /**
     * With the tiny-i2_s oracle's shape and the same tokenizer files, the metadata is the one bitnet.cpp's converter
     * wrote, key by key and in order, except the model name.
     */
    @Test
    void metadataMatchesBitnetCppConverterOnTheOracleShape() {
        Path oracle = SharedTestData.require("oracle/bitnetcpp-i2s-tiny/tiny-i2_s.gguf");
        Path tokenizer = SharedTestData.require("llama3-tokenizer/tokenizer.json");
        Path file = dir.resolve("tiny-llama3.gguf");
        SynthModel.write(SynthOptions.builder().layout("tiny").layers(4).tokenizer(tokenizer).build(), file);
        try (GgufFile ours = GgufFile.open(file); GgufFile theirs = GgufFile.open(oracle)) {
            Map<String, GgufValue> a = new LinkedHashMap<>(ours.metadata().asMap());
            Map<String, GgufValue> b = new LinkedHashMap<>(theirs.metadata().asMap());
            assertEquals(List.copyOf(b.keySet()), List.copyOf(a.keySet()));
            a.remove("general.name");
            b.remove("general.name");
            List<String> differing = new ArrayList<>();
            b.forEach((k, v) -> {
                if (!v.equals(a.get(k))) {
                    differing.add(k + ": ours " + a.get(k).display() + ", bitnet.cpp " + v.display());
                }
            });
            assertEquals(List.of(), differing);
            Map<String, String> ourTensors = new LinkedHashMap<>();
            Map<String, String> theirTensors = new LinkedHashMap<>();
            ours.tensors().values().forEach(t -> ourTensors.put(t.name(), t.type() + " " + t.shapeString()));
            theirs.tensors().values().forEach(t -> theirTensors.put(t.name(), t.type() + " " + t.shapeString()));
            assertEquals(theirTensors, ourTensors);
        }
    }

    @Test
    void vocabularySizeFollowsTheTokenizerUnlessGiven() {
        Path tokenizer = SharedTestData.require("llama3-tokenizer/tokenizer.json");
        SynthOptions o = SynthOptions.builder().tokenizer(tokenizer).vocab(128300).hidden(64).heads(2).kvHeads(1)
                .ff(128).layers(1).build();
        Path file = dir.resolve("padded.gguf");
        SynthModel.write(o, file);
        try (GgufFile f = GgufFile.open(file)) {
            GgufMetadata m = f.metadata();
            String[] tokens = m.getArray("tokenizer.ggml.tokens").strings();
            assertEquals(128300, tokens.length);
            assertEquals("[PAD128299]", tokens[128299]);
            assertEquals(4, m.getArray("tokenizer.ggml.token_type").ints()[128299]);
            assertEquals(128300, f.tensorInfo("token_embd.weight").rowCount());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
                SynthModel.write(SynthOptions.builder().tokenizer(tokenizer).vocab(1000).build(), dir.resolve("x")));
        assertTrue(e.getMessage().contains("more than the model's vocabulary of 1000 tokens"), e.getMessage());
    }

    @Test
    void badOptionsGiveClearErrors() {
        assertError("unknown layout 'gpt5' (known: 2b4t, bitnet-large, bitnet-3b, llama3-8b-1.58, falcon3-1b, tiny)",
                () -> SynthOptions.builder().layout("gpt5"));
        assertError("--type 'q5_x' is not a ggml type name", () -> SynthOptions.builder().type("q5_x"));
        assertError("--type q4_0 is not a linear weight type synth writes (use one of i2_s, tq1_0, tq2_0, f16, f32)",
                () -> SynthOptions.builder().type("q4_0").build());
        assertError("--embd-type i2_s is not an embedding type synth writes (use one of f16, q6_k, q8_0)",
                () -> SynthOptions.builder().embdType("i2_s").build());
        assertError("--hidden 256 is not a multiple of --heads 3", () -> SynthOptions.builder().heads(3).build());
        assertError("--heads 4 is not a multiple of --kv-heads 3", () -> SynthOptions.builder().kvHeads(3).build());
        assertError("--layers must be positive, got 0", () -> SynthOptions.builder().layers(0).build());
        assertError("head dimension 3 (hidden/heads) must be even for RoPE",
                () -> SynthOptions.builder().hidden(96).heads(32).kvHeads(32).build());
        assertError("--hidden and --ff must be multiples of 32 (the smallest quantization block), got 256 and 500",
                () -> SynthOptions.builder().ff(500).build());
        assertError("--vocab 100 is too small for a synthetic BPE vocabulary (at least 266: 256 byte tokens and 10 "
                + "special tokens)", () -> SynthModel.write(SynthOptions.builder().vocab(100).build(), dir.resolve("v")));
        assertError("--vocab 200 is too small for a synthetic SentencePiece vocabulary (at least 261)",
                () -> SynthModel.write(SynthOptions.builder().layout("bitnet-large").hidden(256).heads(4).ff(512)
                        .layers(1).vocab(200).build(), dir.resolve("v")));
    }

    @Test
    void missingOutputDirectoryIsReportedBeforeAnyWork() {
        Path out = dir.resolve("no/such/dir/m.gguf");
        assertError("cannot write " + out + ": directory " + out.getParent() + " does not exist",
                () -> SynthModel.write(SynthOptions.builder().build(), out));
    }

    private static void assertError(String message, org.junit.jupiter.api.function.Executable e) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        assertEquals(message, ex.getMessage());
    }

    @Test
    void ternaryTypesWithIncompatibleRowsFallBackToQ8_0WithANote() {
        Path file = dir.resolve("tq.gguf");
        SynthModel.Summary s = SynthModel.write(SynthOptions.builder().type("tq2_0").hidden(384).heads(6).kvHeads(2)
                .ff(768).build(), file);
        assertEquals(List.of(
                "blk.*.attn_q.weight: row length 384 is not a multiple of TQ2_0's block of 256; written as Q8_0",
                "blk.*.attn_k.weight: row length 384 is not a multiple of TQ2_0's block of 256; written as Q8_0",
                "blk.*.attn_v.weight: row length 384 is not a multiple of TQ2_0's block of 256; written as Q8_0",
                "blk.*.attn_output.weight: row length 384 is not a multiple of TQ2_0's block of 256; written as Q8_0",
                "blk.*.ffn_gate.weight: row length 384 is not a multiple of TQ2_0's block of 256; written as Q8_0",
                "blk.*.ffn_up.weight: row length 384 is not a multiple of TQ2_0's block of 256; written as Q8_0"),
                s.notes());
        try (Model m = Model.load(file)) {
            assertEquals(GgmlType.Q8_0, m.file().tensorInfo("blk.1.attn_q.weight").type());
            assertEquals(GgmlType.TQ2_0, m.file().tensorInfo("blk.1.ffn_down.weight").type());
            assertEquals(37, m.file().metadata().getInt("general.file_type"));
        }
    }

    @Test
    void demoOptionsAreThe2b4tLayoutInI2sWithF16Embedding() {
        SynthOptions o = SynthOptions.demo(null);
        assertEquals(ModelLayout.BITNET_2B4T, o.layout());
        assertEquals(GgmlType.I2_S, o.type());
        assertEquals(GgmlType.F16, o.embdType());
    }
}
