package io.bitnet4j.convert;

import io.bitnet4j.gguf.GgufMetadata;
import io.bitnet4j.gguf.GgufWriter;
import io.bitnet4j.tensor.GgmlType;
import io.bitnet4j.tensor.Quantize;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A tiny model known in GGUF terms (names, row order, values: ternary x a power-of-two scale per linear tensor)
 * that can be written as a Hugging Face checkpoint of each published form, and as the GGUF file those weights should
 * give, built directly with {@link GgufWriter} and {@link Quantize}. Converting the checkpoint must reproduce that
 * GGUF; the two are produced by different code paths from the same truth.
 */
public final class TinyCheckpoint {
    /** The published checkpoint forms. */
    public enum Kind {
        /** microsoft/BitNet-b1.58-2B-4T: uint8 packed weights + weight_scale (AutoBitLinear, multiplies). */
        BITNET_2B4T_PACKED("BitNetForCausalLM", 2),
        /** microsoft/BitNet-b1.58-2B-4T-bf16: bf16 master weights, ternarised at conversion. */
        BITNET_2B4T_BF16("BitNetForCausalLM", 2),
        /** 1bitLLM bitnet_b1_58-large/3B: fp16 master weights, SentencePiece tokenizer.model. */
        BITNET_1BITLLM_F16("BitnetForCausalLM", 4),
        /** HF1BitLLM Llama3-8B-1.58 / Falcon3-1.58bit: packed weights (BitLinear, divides), in two shards. */
        LLAMA_PACKED_SHARDED("LlamaForCausalLM", 2),
        /** A llama checkpoint whose fp16 weights are ternary-valued. */
        LLAMA_F16("LlamaForCausalLM", 2);

        final String hfArchitecture;
        final int kvHeads;

        Kind(String hfArchitecture, int kvHeads) {
            this.hfArchitecture = hfArchitecture;
            this.kvHeads = kvHeads;
        }

        boolean llama() {
            return hfArchitecture.equals("LlamaForCausalLM");
        }

        boolean packed() {
            return this == BITNET_2B4T_PACKED || this == LLAMA_PACKED_SHARDED;
        }
    }

    public static final int HIDDEN = 256;
    public static final int LAYERS = 2;
    public static final int HEADS = 4;
    public static final int FF = 512;
    public static final int VOCAB = 320;

    final Kind kind;
    final int ff;
    /** GGUF name -> values in GGUF order (row = output feature, ne0 contiguous). */
    final Map<String, float[]> values = new LinkedHashMap<>();
    /** GGUF name -> GGUF shape [ne0, ne1]. */
    final Map<String, long[]> shapes = new LinkedHashMap<>();
    /** GGUF linear tensor name -> its ternary values and scale. */
    final Map<String, int[]> ternary = new LinkedHashMap<>();
    final Map<String, Float> scales = new LinkedHashMap<>();

    private TinyCheckpoint(Kind kind, long seed, int ff) {
        this.kind = kind;
        this.ff = ff;
        Random rnd = new Random(seed);
        int headDim = HIDDEN / HEADS;
        int kv = kind.kvHeads * headDim;
        addFloat("token_embd.weight", rnd, HIDDEN, VOCAB, false);
        addFloat("output_norm.weight", rnd, HIDDEN, 1, true);
        if (kind.llama()) {
            addFloat("output.weight", rnd, HIDDEN, VOCAB, false);
        }
        for (int b = 0; b < LAYERS; b++) {
            String p = "blk." + b + ".";
            addFloat(p + "attn_norm.weight", rnd, HIDDEN, 1, true);
            addTernary(p + "attn_q.weight", rnd, HIDDEN, HIDDEN);
            addTernary(p + "attn_k.weight", rnd, HIDDEN, kv);
            addTernary(p + "attn_v.weight", rnd, HIDDEN, kv);
            if (!kind.llama()) {
                addFloat(p + "attn_sub_norm.weight", rnd, HIDDEN, 1, true);
            }
            addTernary(p + "attn_output.weight", rnd, HIDDEN, HIDDEN);
            addFloat(p + "ffn_norm.weight", rnd, HIDDEN, 1, true);
            addTernary(p + "ffn_gate.weight", rnd, HIDDEN, ff);
            addTernary(p + "ffn_up.weight", rnd, HIDDEN, ff);
            if (!kind.llama()) {
                addFloat(p + "ffn_sub_norm.weight", rnd, ff, 1, true);
            }
            addTernary(p + "ffn_down.weight", rnd, ff, HIDDEN);
        }
    }

    /** The same seed gives the same weights for every kind of the same architecture. */
    public static TinyCheckpoint create(Kind kind, long seed) {
        return new TinyCheckpoint(kind, seed, FF);
    }

    /** With another FFN width, e.g. one that is not a multiple of a type's block (like the 3B's 8640). */
    public static TinyCheckpoint create(Kind kind, long seed, int ff) {
        return new TinyCheckpoint(kind, seed, ff);
    }

    /** Norms 1 + k/128, embeddings k/256 (|k| <= 64): exact in bf16 and fp16. */
    private void addFloat(String name, Random rnd, int rowLength, int rows, boolean norm) {
        float[] v = new float[rowLength * rows];
        for (int i = 0; i < v.length; i++) {
            v[i] = norm ? 1f + (rnd.nextInt(17) - 8) / 128f : (rnd.nextInt(129) - 64) / 256f;
        }
        values.put(name, v);
        shapes.put(name, rows == 1 ? new long[] {rowLength} : new long[] {rowLength, rows});
    }

    /**
     * Exactly half zeros, a quarter each of -1 and +1, times a power of two: the absmean of the master weights
     * {@code 2 * scale * t} is then exactly {@code scale}, so ternarising them gives back {@code t} and the scale.
     */
    private void addTernary(String name, Random rnd, int in, int out) {
        int n = in * out;
        List<Integer> t = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            t.add(i < n / 2 ? 0 : i < 3 * n / 4 ? 1 : -1);
        }
        Collections.shuffle(t, rnd);
        float scale = (float) Math.scalb(1.0, -2 - rnd.nextInt(4));
        int[] codes = t.stream().mapToInt(Integer::intValue).toArray();
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = codes[i] * scale;
        }
        ternary.put(name, codes);
        scales.put(name, scale);
        values.put(name, v);
        shapes.put(name, new long[] {in, out});
    }

    /**
     * The GGUF these weights should convert to: the given metadata, then each tensor encoded by Quantize; like
     * llama.cpp's quantizer, a linear tensor whose rows do not fit the type's blocks is stored as Q8_0.
     */
    public void writeExpectedGguf(Path file, GgufMetadata metadata, GgmlType linearType, GgmlType embdType) {
        GgufWriter w = new GgufWriter();
        w.putAll(metadata);
        for (Map.Entry<String, float[]> e : values.entrySet()) {
            long[] shape = shapes.get(e.getKey());
            GgmlType type = shape.length == 1 ? GgmlType.F32 : !ternary.containsKey(e.getKey()) ? embdType
                    : shape[0] % linearType.blockSize == 0 ? linearType : GgmlType.Q8_0;
            byte[] bytes = Quantize.encode(type, e.getValue(), (int) shape[0]);
            w.addTensor(e.getKey(), type, shape, () -> ByteBuffer.wrap(bytes));
        }
        w.write(file);
    }

    // ---- the Hugging Face side ----

    /** Writes config.json, the safetensors weights and the tokenizer files of this kind into {@code dir}. */
    public Path writeHf(Path dir) {
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("config.json"), config());
            List<SafetensorsWriter.Entry> entries = new ArrayList<>();
            for (String name : values.keySet()) {
                entries.addAll(hfTensors(name));
            }
            if (kind == Kind.LLAMA_PACKED_SHARDED) {
                List<SafetensorsWriter.Entry> first = entries.subList(0, entries.size() / 2);
                List<SafetensorsWriter.Entry> second = entries.subList(entries.size() / 2, entries.size());
                SafetensorsWriter.write(dir.resolve("model-00001-of-00002.safetensors"), first);
                SafetensorsWriter.write(dir.resolve("model-00002-of-00002.safetensors"), second);
                StringBuilder index = new StringBuilder("{\"metadata\":{\"total_size\":0},\"weight_map\":{");
                for (int i = 0; i < entries.size(); i++) {
                    index.append(i > 0 ? "," : "").append('"').append(entries.get(i).name()).append("\":\"model-0000")
                            .append(i < first.size() ? 1 : 2).append("-of-00002.safetensors\"");
                }
                Files.writeString(dir.resolve(HfCheckpoint.INDEX), index.append("}}").toString());
            } else {
                SafetensorsWriter.write(dir.resolve(HfCheckpoint.SINGLE), entries);
            }
            if (kind == Kind.BITNET_1BITLLM_F16) {
                Files.write(dir.resolve("tokenizer.model"), sentencePieceModel());
                Files.writeString(dir.resolve("added_tokens.json"), "{\"<pad>\": 318, \"</line>\": 319}");
                Files.writeString(dir.resolve("tokenizer_config.json"), "{\"bos_token\": \"<s>\", \"eos_token\": \"</s>\", "
                        + "\"unk_token\": \"<unk>\", \"add_bos_token\": true, \"add_eos_token\": false}");
            } else {
                Files.writeString(dir.resolve("tokenizer.json"), bpeTokenizerJson());
                Files.writeString(dir.resolve("tokenizer_config.json"), "{\"bos_token\": \"<|begin_of_text|>\", "
                        + "\"eos_token\": \"<|end_of_text|>\", \"chat_template\": \"{{ messages }}\"}");
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private String config() {
        String quant = !kind.packed() ? ""
                : kind.llama() ? ", \"quantization_config\": {\"quant_method\": \"bitnet\"}"
                : ", \"quantization_config\": {\"quant_method\": \"bitnet\", \"linear_class\": \"autobitlinear\", "
                        + "\"quantization_mode\": \"offline\"}";
        boolean bitnet1 = kind == Kind.BITNET_1BITLLM_F16;
        return "{\"architectures\": [\"" + kind.hfArchitecture + "\"], \"hidden_size\": " + HIDDEN
                + ", \"intermediate_size\": " + ff + ", \"num_attention_heads\": " + HEADS
                + ", \"num_key_value_heads\": " + kind.kvHeads + ", \"num_hidden_layers\": " + LAYERS
                + ", \"vocab_size\": " + VOCAB + ", \"max_position_embeddings\": " + (bitnet1 ? 2048 : 4096)
                + ", \"rope_theta\": " + (bitnet1 ? "10000.0" : "500000.0") + ", \"rms_norm_eps\": 1e-05"
                + ", \"tie_word_embeddings\": " + !kind.llama() + ", \"rope_scaling\": null" + quant + "}";
    }

    /** The HF tensor(s) holding GGUF tensor {@code name}. */
    private List<SafetensorsWriter.Entry> hfTensors(String name) {
        String hf = hfName(name);
        long[] s = shapes.get(name);
        long[] torchShape = s.length == 1 ? s : new long[] {s[1], s[0]};
        float[] v = values.get(name);
        if (!ternary.containsKey(name)) {
            return List.of(kind == Kind.BITNET_2B4T_BF16 || kind == Kind.BITNET_2B4T_PACKED
                    || kind == Kind.LLAMA_PACKED_SHARDED
                    ? SafetensorsWriter.bf16(hf, v, torchShape) : SafetensorsWriter.f16(hf, v, torchShape));
        }
        int in = (int) s[0];
        int out = (int) s[1];
        int[] t = hfRowOrder(name, ternary.get(name), in, out);
        float scale = scales.get(name);
        String prefix = hf.substring(0, hf.length() - ".weight".length());
        return switch (kind) {
            case BITNET_2B4T_PACKED -> List.of(SafetensorsWriter.u8(hf, pack(t, in, out), out / 4, in),
                    SafetensorsWriter.bf16(prefix + ".weight_scale", new float[] {scale}, 1));
            case LLAMA_PACKED_SHARDED -> List.of(SafetensorsWriter.u8(hf, pack(t, in, out), out / 4, in),
                    SafetensorsWriter.bf16(prefix + ".weight_scale", new float[] {1f / scale}, 1));
            case BITNET_2B4T_BF16 -> List.of(SafetensorsWriter.bf16(hf, times(t, 2 * scale), out, in));
            case BITNET_1BITLLM_F16 -> List.of(SafetensorsWriter.f16(hf, times(t, 2 * scale), out, in));
            case LLAMA_F16 -> List.of(SafetensorsWriter.f16(hf, times(t, scale), out, in));
        };
    }

    private static float[] times(int[] t, float c) {
        float[] v = new float[t.length];
        for (int i = 0; i < t.length; i++) {
            v[i] = t[i] * c;
        }
        return v;
    }

    /**
     * For llama Q and K, the HF rows in rotate-half order: HF's RoPE rotates dimension pairs (i, i + headDim/2) of a
     * head, llama.cpp's normal RoPE pairs (2i, 2i + 1), so GGUF rows 2i and 2i+1 of a head are HF rows i and
     * i + headDim/2.
     */
    private int[] hfRowOrder(String name, int[] t, int in, int out) {
        if (!kind.llama() || !(name.endsWith("attn_q.weight") || name.endsWith("attn_k.weight"))) {
            return t;
        }
        int headDim = HIDDEN / HEADS;
        int[] hf = new int[t.length];
        for (int head = 0; head < out / headDim; head++) {
            for (int i = 0; i < headDim / 2; i++) {
                System.arraycopy(t, (head * headDim + 2 * i) * in, hf, (head * headDim + i) * in, in);
                System.arraycopy(t, (head * headDim + 2 * i + 1) * in, hf, (head * headDim + headDim / 2 + i) * in, in);
            }
        }
        return hf;
    }

    /** transformers' pack_weights: row k*R + i (R = out/4) goes to bits 2k..2k+1 of packed row i, as t + 1. */
    static byte[] pack(int[] t, int in, int out) {
        int r = out / 4;
        byte[] packed = new byte[r * in];
        for (int k = 0; k < 4; k++) {
            for (int i = 0; i < r; i++) {
                for (int c = 0; c < in; c++) {
                    packed[i * in + c] |= (byte) ((t[(k * r + i) * in + c] + 1) << (2 * k));
                }
            }
        }
        return packed;
    }

    private String hfName(String gguf) {
        if (gguf.equals("token_embd.weight")) {
            return "model.embed_tokens.weight";
        }
        if (gguf.equals("output_norm.weight")) {
            return "model.norm.weight";
        }
        if (gguf.equals("output.weight")) {
            return "lm_head.weight";
        }
        String[] parts = gguf.split("\\.", 3);
        boolean oneBit = kind == Kind.BITNET_1BITLLM_F16;
        String hf = switch (parts[2]) {
            case "attn_norm.weight" -> "input_layernorm.weight";
            case "attn_q.weight" -> "self_attn.q_proj.weight";
            case "attn_k.weight" -> "self_attn.k_proj.weight";
            case "attn_v.weight" -> "self_attn.v_proj.weight";
            case "attn_output.weight" -> "self_attn.o_proj.weight";
            case "attn_sub_norm.weight" -> oneBit ? "self_attn.inner_attn_ln.weight" : "self_attn.attn_sub_norm.weight";
            case "ffn_norm.weight" -> "post_attention_layernorm.weight";
            case "ffn_gate.weight" -> "mlp.gate_proj.weight";
            case "ffn_up.weight" -> "mlp.up_proj.weight";
            case "ffn_down.weight" -> "mlp.down_proj.weight";
            case "ffn_sub_norm.weight" -> oneBit ? "mlp.ffn_layernorm.weight" : "mlp.ffn_sub_norm.weight";
            default -> throw new IllegalStateException(gguf);
        };
        return "model.layers." + parts[1] + "." + hf;
    }

    /** A byte-level BPE tokenizer.json: VOCAB - 2 plain tokens, then two special added tokens. */
    static String bpeTokenizerJson() {
        StringBuilder vocab = new StringBuilder();
        for (int i = 0; i < VOCAB - 2; i++) {
            vocab.append(i > 0 ? "," : "").append("\"tok").append(i).append("\":").append(i);
        }
        return "{\"added_tokens\": [{\"id\": " + (VOCAB - 2) + ", \"content\": \"<|begin_of_text|>\", \"special\": true},"
                + " {\"id\": " + (VOCAB - 1) + ", \"content\": \"<|end_of_text|>\", \"special\": true}],"
                + " \"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false},"
                + " \"model\": {\"type\": \"BPE\", \"vocab\": {" + vocab + "}, \"merges\": []}}";
    }

    /** The pieces of {@link #sentencePieceModel()}: text, score, sentencepiece type. */
    static final int SP_PIECES = VOCAB - 2;

    static String spPiece(int i) {
        return switch (i) {
            case 0 -> "<unk>";
            case 1 -> "<s>";
            case 2 -> "</s>";
            default -> "\u2581p" + i;
        };
    }

    static int spType(int i) {
        return i == 0 ? 2 : i < 3 ? 3 : i == 3 ? 4 : 1; // piece 3 is user-defined: llama.cpp writes it as normal
    }

    /**
     * A SentencePiece ModelProto in protobuf wire format: field 1 (pieces) per token, each {piece = 1, score = 2,
     * type = 3}, then a trainer_spec (field 2) the reader must skip.
     */
    static byte[] sentencePieceModel() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < SP_PIECES; i++) {
            ByteArrayOutputStream piece = new ByteArrayOutputStream();
            byte[] text = spPiece(i).getBytes(StandardCharsets.UTF_8);
            piece.write(0x0a);
            varint(piece, text.length);
            piece.writeBytes(text);
            piece.write(0x15);
            piece.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(-i).array());
            if (spType(i) != 1) {
                piece.write(0x18);
                varint(piece, spType(i));
            }
            out.write(0x0a);
            varint(out, piece.size());
            out.writeBytes(piece.toByteArray());
        }
        out.writeBytes(new byte[] {0x12, 0x03, 0x08, (byte) 0x96, 0x01}); // trainer_spec {field 1 = 150}
        return out.toByteArray();
    }

    private static void varint(ByteArrayOutputStream out, long v) {
        while ((v & ~0x7fL) != 0) {
            out.write((int) (v & 0x7f) | 0x80);
            v >>>= 7;
        }
        out.write((int) v);
    }
}
