package io.bitnet4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.bitnet4j.gguf.GgufFile;
import io.bitnet4j.gguf.TensorInfo;
import io.bitnet4j.testing.SharedTestData;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Decodes the ternary tensors that bitnet.cpp and llama.cpp wrote and checks them against what they recorded. */
class OracleTernaryTest {

    record Digest(double scale, long neg, long zero, long pos, String sha256) {}

    /** ternary-digest.json: an object of tensor name to {scale, neg, zero, pos, sha256_int8}. */
    static Map<String, Digest> readDigests(Path json) throws IOException {
        String text = Files.readString(json);
        Map<String, Digest> out = new LinkedHashMap<>();
        Matcher entry = Pattern.compile("\"([^\"]+)\"\\s*:\\s*\\{([^}]*)\\}").matcher(text);
        while (entry.find()) {
            String body = entry.group(2);
            out.put(entry.group(1), new Digest(Double.parseDouble(field(body, "scale")),
                    Long.parseLong(field(body, "neg")), Long.parseLong(field(body, "zero")),
                    Long.parseLong(field(body, "pos")), field(body, "sha256_int8")));
        }
        return out;
    }

    private static String field(String body, String key) {
        Matcher m = Pattern.compile("\"" + key + "\"\\s*:\\s*\"?([^\",\\s]+)").matcher(body);
        if (!m.find()) {
            throw new IllegalArgumentException("no " + key + " in " + body);
        }
        return m.group(1);
    }

    @Test
    void i2sTensorsMatchBitnetCppDigests() throws Exception {
        Path dir = SharedTestData.require("oracle/bitnetcpp-i2s-tiny");
        Map<String, Digest> digests = readDigests(dir.resolve("ternary-digest.json"));
        assertEquals(28, digests.size(), "7 linear tensors in each of 4 layers");
        try (GgufFile gguf = GgufFile.open(dir.resolve("tiny-i2_s.gguf"))) {
            for (Map.Entry<String, Digest> e : digests.entrySet()) {
                TensorInfo info = gguf.tensorInfo(e.getKey());
                assertEquals(GgmlType.I2_S, info.type(), e.getKey());
                I2sMatrix m = (I2sMatrix) WeightMatrix.of(info.name(), info.type(), info.shape(), gguf.tensorData(info));
                Digest want = e.getValue();
                assertEquals((float) want.scale(), m.scale(), e.getKey());
                long[] counts = new long[3];
                byte[] ternary = new byte[m.inFeatures() * m.outFeatures()];
                float[] row = new float[m.inFeatures()];
                for (int r = 0; r < m.outFeatures(); r++) {
                    m.dequantizeRow(r, row, 0);
                    for (int i = 0; i < row.length; i++) {
                        int c = m.code(r, i);
                        assertTrue(c < 3, "code 3 in " + e.getKey());
                        counts[c]++;
                        ternary[r * row.length + i] = (byte) (c - 1);
                        assertEquals(m.scale() * (c - 1), row[i]);
                    }
                }
                assertEquals(want.neg(), counts[0], e.getKey() + " -1 count");
                assertEquals(want.zero(), counts[1], e.getKey() + " 0 count");
                assertEquals(want.pos(), counts[2], e.getKey() + " +1 count");
                assertEquals(want.sha256(), sha256(ternary), e.getKey() + " sha256 of the ternary values");
            }
        }
    }

    /**
     * llama.cpp's TQ quantizer takes d = fp16(absmax of the block). The source weights were ternary x s with s an
     * fp16 value (scales.txt), so a block with any non-zero weight has d == s exactly and one without has d == 0;
     * every decoded value is then -s, 0 or s.
     */
    @ParameterizedTest
    @ValueSource(strings = {"tiny-tq2_0.gguf", "tiny-tq1_0.gguf"})
    void tqTensorsAreTernaryTimesTheSourceScale(String file) throws Exception {
        Path dir = SharedTestData.require("oracle/llamacpp-tq-tiny");
        Map<String, Float> scales = new LinkedHashMap<>();
        for (String line : Files.readAllLines(dir.resolve("scales.txt"))) {
            if (!line.isBlank()) {
                String[] parts = line.trim().split("\\s+");
                scales.put(parts[0], Float.parseFloat(parts[1]));
            }
        }
        assertFalse(scales.isEmpty());
        try (GgufFile gguf = GgufFile.open(dir.resolve(file))) {
            for (Map.Entry<String, Float> e : scales.entrySet()) {
                float s = e.getValue();
                assertEquals(s, Numerics.roundToF16(s), "scales.txt value is an fp16 value");
                TensorInfo info = gguf.tensorInfo(e.getKey());
                GgmlType type = info.type();
                assertTrue(type == GgmlType.TQ1_0 || type == GgmlType.TQ2_0, e.getKey() + " is " + type);
                MemorySegment data = gguf.tensorData(info);
                WeightMatrix m = WeightMatrix.of(info.name(), type, info.shape(), data);
                long[] counts = new long[3];
                float[] row = new float[m.inFeatures()];
                int blocksPerRow = m.inFeatures() / 256;
                for (int r = 0; r < m.outFeatures(); r++) {
                    m.dequantizeRow(r, row, 0);
                    for (int b = 0; b < blocksPerRow; b++) {
                        long base = ((long) r * blocksPerRow + b) * type.blockBytes;
                        float d = Numerics.f16At(data, base + type.blockBytes - 2);
                        boolean anyNonZero = false;
                        for (int i = 256 * b; i < 256 * b + 256; i++) {
                            int t = row[i] == s ? 1 : row[i] == -s ? -1 : row[i] == 0 ? 0 : 9;
                            if (t == 9) {
                                fail(e.getKey() + " row " + r + " value " + i + " = " + row[i] + ", not in {-s,0,s}");
                            }
                            counts[t + 1]++;
                            anyNonZero |= t != 0;
                        }
                        assertEquals(anyNonZero ? s : 0f, d, e.getKey() + " block d");
                    }
                }
                long n = (long) m.inFeatures() * m.outFeatures();
                for (long c : counts) {
                    assertTrue(c > n / 5, e.getKey() + " trit counts look uniform: " + java.util.Arrays.toString(counts));
                }
            }
        }
    }

    @Test
    void tq1AndTq2FilesHoldTheSameTernaryWeights() throws Exception {
        Path dir = SharedTestData.require("oracle/llamacpp-tq-tiny");
        try (GgufFile tq1 = GgufFile.open(dir.resolve("tiny-tq1_0.gguf"));
                GgufFile tq2 = GgufFile.open(dir.resolve("tiny-tq2_0.gguf"))) {
            int compared = 0;
            for (TensorInfo a : tq2.tensors().values()) {
                if (a.type() != GgmlType.TQ2_0) {
                    continue;
                }
                TensorInfo b = tq1.tensorInfo(a.name());
                WeightMatrix ma = WeightMatrix.of(a.name(), a.type(), a.shape(), tq2.tensorData(a));
                WeightMatrix mb = WeightMatrix.of(b.name(), b.type(), b.shape(), tq1.tensorData(b));
                assertEquals(java.util.Arrays.toString(a.shape()), java.util.Arrays.toString(b.shape()));
                assertEquals(java.util.Arrays.toString(QuantizeTest.dequantizeAll(ma)),
                        java.util.Arrays.toString(QuantizeTest.dequantizeAll(mb)), a.name());
                compared++;
            }
            assertEquals(14, compared);
        }
    }

    static String sha256(byte[] bytes) throws NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
