package io.bitnet4j.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.bitnet4j.gguf.GgufFile;
import io.bitnet4j.gguf.GgufMetadata;
import io.bitnet4j.gguf.TensorInfo;
import io.bitnet4j.tensor.GgmlType;
import io.bitnet4j.tensor.WeightMatrix;
import io.bitnet4j.testing.SharedTestData;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The file bitnet.cpp wrote (oracle {@code tiny-i2_s.gguf}: 2B-4T architecture, real Llama-3 vocabulary, I2_S
 * weights) is turned back into a Hugging Face checkpoint in the packed 2B-4T form, with the real tokenizer.json and
 * tokenizer_config.json; converting that checkpoint must give bitnet.cpp's file again: the same metadata (keys,
 * order, types, values — the vocabulary and chat template included) and byte-identical tensors (for I2_S: codes
 * and scale; bitnet.cpp leaves the padding after the scale uninitialised).
 */
class OracleRoundTripTest {
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path dir;

    @Test
    void packedCheckpointOfTheOracleModelConvertsBackToBitnetCppsFile() throws IOException {
        Path oracle = SharedTestData.require("oracle/bitnetcpp-i2s-tiny/tiny-i2_s.gguf");
        Path tokenizer = SharedTestData.require("llama3-tokenizer");
        // general.name is the folder's name, as in bitnet.cpp's convert-hf-to-gguf-bitnet.py
        Path hf = Files.createDirectories(dir.resolve("bitnet-b1.58-tiny-synthetic"));
        Files.copy(tokenizer.resolve("tokenizer.json"), hf.resolve("tokenizer.json"));
        Files.copy(tokenizer.resolve("tokenizer_config.json"), hf.resolve("tokenizer_config.json"));
        try (GgufFile f = GgufFile.open(oracle)) {
            writeHfCheckpoint(f, hf);
        }
        Path converted = dir.resolve("converted.gguf");
        HfConverter.convert(hf, converted, HfConverter.Options.of(GgmlType.I2_S), null);

        try (GgufFile expected = GgufFile.open(oracle); GgufFile actual = GgufFile.open(converted)) {
            GgufMetadata em = expected.metadata();
            GgufMetadata am = actual.metadata();
            assertEquals(List.copyOf(em.asMap().keySet()), List.copyOf(am.asMap().keySet()));
            em.asMap().forEach((k, v) -> assertEquals(v, am.get(k).orElseThrow(), k));
            assertEquals(List.copyOf(expected.tensors().keySet()), List.copyOf(actual.tensors().keySet()));
            for (TensorInfo e : expected.tensors().values()) {
                TensorInfo a = actual.tensorInfo(e.name());
                assertEquals(e.type() + " " + e.shapeString(), a.type() + " " + a.shapeString(), e.name());
                // bitnet.cpp's llama-quantize leaves the 28 bytes after an I2_S scale uninitialised (heap garbage);
                // we write zeros, as its Python converter does: compare the codes and the scale
                long compared = e.type() == GgmlType.I2_S ? e.elementCount() / 4 + 4 : expected.tensorData(e).byteSize();
                assertEquals(-1, expected.tensorData(e).asSlice(0, compared).mismatch(actual.tensorData(a).asSlice(0, compared)),
                        e.name() + " bytes differ");
            }
        }
    }

    /** config.json from the metadata, weights as microsoft/BitNet-b1.58-2B-4T publishes them. */
    private static void writeHfCheckpoint(GgufFile f, Path hf) throws IOException {
        GgufMetadata m = f.metadata();
        String a = "bitnet-b1.58.";
        int layers = m.getInt(a + "block_count");
        Files.writeString(hf.resolve("config.json"), "{\"architectures\": [\"BitNetForCausalLM\"], \"hidden_size\": "
                + m.getInt(a + "embedding_length") + ", \"intermediate_size\": " + m.getInt(a + "feed_forward_length")
                + ", \"num_attention_heads\": " + m.getInt(a + "attention.head_count") + ", \"num_key_value_heads\": "
                + m.getInt(a + "attention.head_count_kv") + ", \"num_hidden_layers\": " + layers
                + ", \"vocab_size\": " + m.getInt(a + "vocab_size") + ", \"max_position_embeddings\": "
                + m.getInt(a + "context_length") + ", \"rope_theta\": " + m.getFloat(a + "rope.freq_base")
                + ", \"rms_norm_eps\": " + m.getFloat(a + "attention.layer_norm_rms_epsilon")
                + ", \"tie_word_embeddings\": true, \"quantization_config\": {\"quant_method\": \"bitnet\", "
                + "\"linear_class\": \"autobitlinear\", \"quantization_mode\": \"offline\"}}");
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        entries.add(raw(f, "token_embd.weight", "model.embed_tokens.weight", "F16"));
        entries.add(raw(f, "output_norm.weight", "model.norm.weight", "F32"));
        String[][] names = {
            {"attn_norm", "input_layernorm"}, {"attn_q", "self_attn.q_proj"}, {"attn_k", "self_attn.k_proj"},
            {"attn_v", "self_attn.v_proj"}, {"attn_sub_norm", "self_attn.attn_sub_norm"},
            {"attn_output", "self_attn.o_proj"}, {"ffn_norm", "post_attention_layernorm"},
            {"ffn_gate", "mlp.gate_proj"}, {"ffn_up", "mlp.up_proj"}, {"ffn_sub_norm", "mlp.ffn_sub_norm"},
            {"ffn_down", "mlp.down_proj"},
        };
        for (int b = 0; b < layers; b++) {
            for (String[] n : names) {
                String gguf = "blk." + b + "." + n[0] + ".weight";
                String torch = "model.layers." + b + "." + n[1];
                TensorInfo t = f.tensorInfo(gguf);
                if (t.type() == GgmlType.F32) {
                    entries.add(raw(f, gguf, torch + ".weight", "F32"));
                } else {
                    entries.addAll(packed(f, t, torch));
                }
            }
        }
        SafetensorsWriter.write(hf.resolve("model.safetensors"), entries);
    }

    /** A tensor whose GGUF bytes are already the safetensors bytes (F16, F32), in PyTorch's shape order. */
    private static SafetensorsWriter.Entry raw(GgufFile f, String gguf, String torch, String dtype) {
        TensorInfo t = f.tensorInfo(gguf);
        long[] s = t.shape();
        long[] shape = s.length == 1 ? s : new long[] {s[1], s[0]};
        return new SafetensorsWriter.Entry(torch, dtype, shape, f.tensorData(t).toArray(ValueLayout.JAVA_BYTE));
    }

    /** An I2_S tensor as uint8 packed ternary values (transformers' layout) and its float32 weight_scale. */
    private static List<SafetensorsWriter.Entry> packed(GgufFile f, TensorInfo t, String torch) {
        int in = (int) t.shape()[0];
        int out = (int) t.shape()[1];
        float scale = f.tensorData(t).get(LE_FLOAT, (long) in * out / 4);
        WeightMatrix w = WeightMatrix.of(t.name(), t.type(), t.shape(), f.tensorData(t));
        int[] ternary = new int[in * out];
        float[] row = new float[in];
        for (int r = 0; r < out; r++) {
            w.dequantizeRow(r, row, 0);
            for (int c = 0; c < in; c++) {
                ternary[r * in + c] = Math.round(row[c] / scale);
            }
        }
        return List.of(SafetensorsWriter.u8(torch + ".weight", TinyCheckpoint.pack(ternary, in, out), out / 4, in),
                SafetensorsWriter.f32(torch + ".weight_scale", new float[] {scale}, 1));
    }
}
