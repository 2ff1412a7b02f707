package io.bitnet4j.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bitnet4j.tensor.GgmlType;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class GgufWriterTest {
    @TempDir
    Path dir;

    private static ByteBuffer bytes(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (seed * 31 + i * 7);
        }
        return ByteBuffer.wrap(b);
    }

    /** Tensor sizes 4, 130, 34*3 and 32+32: none a multiple of the alignment, so every gap needs padding. */
    private static GgufWriter withTensors(GgufWriter w) {
        w.addTensor("one", GgmlType.F32, new long[] {1}, () -> bytes(4, 1));
        w.addTensor("two", GgmlType.F16, new long[] {65, 1}, () -> bytes(130, 2));
        w.addTensor("three", GgmlType.Q8_0, new long[] {32, 3}, () -> bytes(102, 3));
        w.addTensor("four", GgmlType.I2_S, new long[] {128}, () -> bytes(64, 4));
        return w;
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 8, 32, 64, 4096})
    void alignsTheDataSectionAndEveryTensorWithZeroPadding(int alignment) throws Exception {
        GgufWriter w = new GgufWriter().putString("general.architecture", "test");
        if (alignment > 0) {
            w.putUint32("general.alignment", alignment);
        }
        Path p = dir.resolve("a.gguf");
        withTensors(w).write(p);
        int expectedAlignment = alignment > 0 ? alignment : 32;
        byte[] file = Files.readAllBytes(p);
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(expectedAlignment, f.alignment());
            assertEquals(0, f.dataOffset() % expectedAlignment);
            long expectedOffset = 0;
            long end = 0;
            int[] sizes = {4, 130, 102, 64};
            int i = 0;
            for (TensorInfo t : f.tensors().values()) {
                assertEquals(expectedOffset, t.offset(), t.name());
                assertEquals(sizes[i], t.byteSize(), t.name());
                assertEquals(bytes(sizes[i], i + 1), f.tensorData(t).asByteBuffer(), t.name() + " data");
                for (long b = end; b < t.offset(); b++) {
                    assertEquals(0, file[(int) (f.dataOffset() + b)], "padding before " + t.name());
                }
                end = t.offset() + t.byteSize();
                expectedOffset = (end + expectedAlignment - 1) / expectedAlignment * expectedAlignment;
                i++;
            }
            assertEquals(f.dataOffset() + expectedOffset, file.length, "the last tensor is padded too");
            for (long b = end; b < expectedOffset; b++) {
                assertEquals(0, file[(int) (f.dataOffset() + b)], "trailing padding");
            }
        }
    }

    @Test
    void keepsMetadataAndTensorOrder() {
        GgufWriter w = new GgufWriter();
        List<String> keys = List.of("zeta", "general.architecture", "alpha", "m.n.o", "beta", "a");
        for (String k : keys) {
            w.putString(k, k.toUpperCase());
        }
        w.addTensor("z", GgmlType.F32, new long[] {1}, () -> bytes(4, 0));
        w.addTensor("a", GgmlType.F32, new long[] {1}, () -> bytes(4, 0));
        w.addTensor("m", GgmlType.F32, new long[] {1}, () -> bytes(4, 0));
        Path p = dir.resolve("order.gguf");
        w.write(p);
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(keys, List.copyOf(f.metadata().asMap().keySet()));
            assertEquals(List.of("z", "a", "m"), List.copyOf(f.tensors().keySet()));
        }
    }

    @Test
    void everyValueTypeRoundTrips() {
        Map<String, GgufValue> values = new LinkedHashMap<>();
        values.put("u8", new GgufValue(GgufValueType.UINT8, 255));
        values.put("i8", new GgufValue(GgufValueType.INT8, -128));
        values.put("u16", new GgufValue(GgufValueType.UINT16, 65535));
        values.put("i16", new GgufValue(GgufValueType.INT16, -32768));
        values.put("u32", GgufValue.uint32(0xFFFF_FFFFL));
        values.put("i32", GgufValue.int32(Integer.MIN_VALUE));
        values.put("f32", GgufValue.float32(-0.0f));
        values.put("f32nan", GgufValue.float32(Float.NaN));
        values.put("bool0", GgufValue.bool(false));
        values.put("bool1", GgufValue.bool(true));
        values.put("string", GgufValue.string("tab\t, newline\n, ü, 日本, 😀"));
        values.put("empty", GgufValue.string(""));
        values.put("u64", GgufValue.uint64(-1L));
        values.put("i64", new GgufValue(GgufValueType.INT64, Long.MIN_VALUE));
        values.put("f64", new GgufValue(GgufValueType.FLOAT64, -Double.MAX_VALUE));
        values.put("a.u8", GgufValue.array(GgufValueType.UINT8, new int[] {0, 1, 255}));
        values.put("a.i8", GgufValue.array(GgufValueType.INT8, new int[] {-128, 127}));
        values.put("a.u16", GgufValue.array(GgufValueType.UINT16, new int[] {65535}));
        values.put("a.i16", GgufValue.array(GgufValueType.INT16, new int[] {-1, 2}));
        values.put("a.u32", GgufValue.array(GgufValueType.UINT32, new long[] {0xFFFF_FFFFL, 0}));
        values.put("a.i32", GgufValue.array(GgufValueType.INT32, new int[] {Integer.MIN_VALUE, 7}));
        values.put("a.f32", GgufValue.array(GgufValueType.FLOAT32, new float[] {1.5f, Float.NEGATIVE_INFINITY}));
        values.put("a.bool", GgufValue.array(GgufValueType.BOOL, new boolean[] {true, false, true}));
        values.put("a.string", GgufValue.strings("", "x", "Ġthe"));
        values.put("a.u64", GgufValue.array(GgufValueType.UINT64, new long[] {-1L}));
        values.put("a.i64", GgufValue.array(GgufValueType.INT64, new long[] {Long.MIN_VALUE, 3}));
        values.put("a.f64", GgufValue.array(GgufValueType.FLOAT64, new double[] {Math.E}));
        values.put("a.empty", GgufValue.array(GgufValueType.FLOAT32, new float[0]));
        values.put("a.nested", GgufValue.array(GgufValueType.ARRAY, new GgufArray[] {
            new GgufArray(GgufValueType.STRING, new String[] {"a", "b"}),
            new GgufArray(GgufValueType.ARRAY, new GgufArray[] {new GgufArray(GgufValueType.INT8, new int[] {-1})}),
            new GgufArray(GgufValueType.UINT64, new long[0])}));
        GgufWriter w = new GgufWriter();
        values.forEach(w::put);
        Path p = dir.resolve("values.gguf");
        w.write(p);
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(values, f.metadata().asMap());
            assertEquals(0, f.tensors().size());
        }
    }

    @Test
    void version2FilesAreAcceptedAndOthersRefused() throws Exception {
        Path p = dir.resolve("v.gguf");
        withTensors(new GgufWriter().putString("general.architecture", "test")).write(p);
        byte[] v3 = Files.readAllBytes(p);
        for (int version : new int[] {1, 2, 3, 4}) {
            byte[] b = v3.clone();
            ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(4, version);
            Path pv = dir.resolve("v" + version + ".gguf");
            Files.write(pv, b);
            if (version == 2 || version == 3) {
                try (GgufFile f = GgufFile.open(pv)) {
                    assertEquals(version, f.version());
                    assertEquals("test", f.metadata().getString("general.architecture"));
                    assertEquals(4, f.tensors().size());
                    assertArrayEquals(bytes(130, 2).array(), f.tensorData("two").toArray(ValueLayout.JAVA_BYTE));
                }
            } else {
                GgufException e = assertThrows(GgufException.class, () -> GgufFile.open(pv));
                assertEquals("v" + version + ".gguf: unsupported GGUF version " + version
                        + " (bitnet4j reads versions 2 and 3)", e.getMessage());
            }
        }
    }

    @Test
    void aFailedWriteLeavesNoFileBehind() throws Exception {
        Path p = dir.resolve("fail.gguf");
        GgufWriter wrongSize = new GgufWriter();
        wrongSize.addTensor("t", GgmlType.F32, new long[] {4}, () -> bytes(15, 0));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> wrongSize.write(p));
        assertTrue(e.getMessage().contains("supplied 15 bytes, expected 16"), e.getMessage());
        GgufWriter throwing = new GgufWriter();
        throwing.addTensor("t", GgmlType.F32, new long[] {4}, () -> {
            throw new IllegalArgumentException("generator failed");
        });
        assertThrows(IllegalArgumentException.class, () -> throwing.write(p));
        List<String> left = new ArrayList<>();
        try (var s = Files.list(dir)) {
            s.forEach(f -> left.add(f.getFileName().toString()));
        }
        assertEquals(List.of(), left);
        assertFalse(Files.exists(p));
    }

    @Test
    void rejectsBadTensorsAndAlignment() {
        GgufWriter w = new GgufWriter();
        w.addTensor("t", GgmlType.F32, new long[] {4}, () -> bytes(16, 0));
        IllegalArgumentException dup = assertThrows(IllegalArgumentException.class,
                () -> w.addTensor("t", GgmlType.F32, new long[] {4}, () -> bytes(16, 0)));
        assertEquals("duplicate tensor t", dup.getMessage());
        IllegalArgumentException row = assertThrows(IllegalArgumentException.class,
                () -> w.addTensor("q", GgmlType.Q8_0, new long[] {48, 2}, () -> bytes(0, 0)));
        assertEquals("q: row length 48 is not a multiple of 32 for Q8_0", row.getMessage());
        IllegalArgumentException align = assertThrows(IllegalArgumentException.class,
                () -> w.putUint32("general.alignment", 48));
        assertEquals("alignment must be a power of two: 48", align.getMessage());
    }
}
