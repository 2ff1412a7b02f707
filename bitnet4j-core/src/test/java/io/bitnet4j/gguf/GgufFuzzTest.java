package io.bitnet4j.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bitnet4j.tensor.GgmlType;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutates valid GGUF files — truncations, byte flips, absurd lengths and counts, bad offsets, overlapping and
 * misaligned tensors, unknown types — and requires every parse to either succeed (with a consistent result) or fail
 * with a {@link GgufException} that has a message: no other exception, no OutOfMemoryError, no hang.
 */
class GgufFuzzTest {
    @TempDir
    static Path dir;

    /** Two seeds: a file rich in metadata with 64-byte alignment, and a minimal one re-labelled GGUF version 2. */
    static byte[] rich;
    static byte[] minimal;
    static List<Field> richFields;
    static List<Field> minimalFields;
    static long mutated;
    static long accepted;

    @BeforeAll
    static void writeSeeds() throws Exception {
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", "fuzz");
        w.putUint32("general.alignment", 64);
        w.put("u8", new GgufValue(GgufValueType.UINT8, 200));
        w.put("i8", new GgufValue(GgufValueType.INT8, -3));
        w.put("u16", new GgufValue(GgufValueType.UINT16, 65535));
        w.put("i16", new GgufValue(GgufValueType.INT16, -2));
        w.put("u32", GgufValue.uint32(4_000_000_000L));
        w.put("i32", GgufValue.int32(-5));
        w.put("f32", GgufValue.float32(1.5f));
        w.put("bool", GgufValue.bool(true));
        w.put("u64", GgufValue.uint64(-1L));
        w.put("i64", new GgufValue(GgufValueType.INT64, Long.MIN_VALUE));
        w.put("f64", new GgufValue(GgufValueType.FLOAT64, Math.PI));
        w.putString("str", "héllo ✓");
        w.put("strings", GgufValue.strings("a", "", "ü"));
        w.put("ints", GgufValue.array(GgufValueType.INT32, new int[] {1, 2, 3}));
        w.put("bytes", GgufValue.array(GgufValueType.UINT8, new int[] {0, 255}));
        w.put("floats", GgufValue.array(GgufValueType.FLOAT32, new float[] {0.5f, -1f}));
        w.put("doubles", GgufValue.array(GgufValueType.FLOAT64, new double[] {2.5}));
        w.put("bools", GgufValue.array(GgufValueType.BOOL, new boolean[] {true, false}));
        w.put("longs", GgufValue.array(GgufValueType.UINT64, new long[] {1L << 40}));
        w.put("empty", GgufValue.array(GgufValueType.STRING, new String[0]));
        w.put("nested", GgufValue.array(GgufValueType.ARRAY, new GgufArray[] {
            new GgufArray(GgufValueType.INT32, new int[] {1, 2}),
            new GgufArray(GgufValueType.ARRAY, new GgufArray[] {new GgufArray(GgufValueType.STRING, new String[] {"x"})})}));
        addTensors(w);
        rich = write(w, "rich.gguf");

        GgufWriter m = new GgufWriter();
        m.putString("general.architecture", "fuzz");
        m.put("tokens", GgufValue.strings("<s>", "a"));
        addTensors(m);
        minimal = write(m, "minimal.gguf");
        ByteBuffer.wrap(minimal).order(ByteOrder.LITTLE_ENDIAN).putInt(4, 2);

        richFields = Field.scan(rich);
        minimalFields = Field.scan(minimal);
        // the seeds themselves are valid
        parse(rich, "seed rich", true);
        parse(minimal, "seed minimal", true);
    }

    private static void addTensors(GgufWriter w) {
        w.addTensor("a", GgmlType.F32, new long[] {8}, () -> filled(32, 1));
        w.addTensor("b", GgmlType.F16, new long[] {32, 2}, () -> filled(128, 2));
        w.addTensor("c", GgmlType.Q8_0, new long[] {64, 2}, () -> filled(136, 3));
        w.addTensor("d", GgmlType.I2_S, new long[] {128, 2}, () -> filled(96, 4));
        w.addTensor("e", GgmlType.TQ2_0, new long[] {256}, () -> filled(66, 5));
    }

    private static ByteBuffer filled(int n, int v) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) v);
        return ByteBuffer.wrap(b);
    }

    private static byte[] write(GgufWriter w, String name) throws Exception {
        Path p = dir.resolve(name);
        w.write(p);
        return Files.readAllBytes(p);
    }

    @AfterAll
    static void report() {
        System.out.printf("GGUF fuzz: %d mutated files parsed, %d accepted, %d rejected with a GgufException%n",
                mutated, accepted, mutated - accepted);
    }

    @Test
    void truncationAtEveryOffset() {
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            for (byte[] seed : List.of(rich, minimal)) {
                for (int len = 0; len < seed.length; len++) {
                    parse(Arrays.copyOf(seed, len), "truncated to " + len, false);
                }
            }
        });
    }

    /** Truncations through the file path (mmap; includes the empty file). */
    @Test
    void truncatedFilesOnDisk() {
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            Path p = dir.resolve("cut.gguf");
            for (Field f : richFields) {
                Files.write(p, Arrays.copyOf(rich, (int) f.offset()));
                mutated++;
                try (GgufFile g = GgufFile.open(p)) {
                    throw new AssertionError("a file cut at " + f + " was accepted: " + g.tensors().size());
                } catch (GgufException e) {
                    assertTrue(e.getMessage().startsWith("cut.gguf: "), e.getMessage());
                }
            }
        });
    }

    @Test
    void randomByteFlips() {
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            Random random = new Random(20251202);
            for (int i = 0; i < 4000; i++) {
                byte[] seed = i % 2 == 0 ? rich : minimal;
                byte[] b = seed.clone();
                int headerEnd = (int) Field.dataStart(i % 2 == 0 ? richFields : minimalFields);
                int flips = 1 + random.nextInt(8);
                StringBuilder what = new StringBuilder("flips");
                for (int k = 0; k < flips; k++) {
                    // mostly in the header, where a flip changes the structure
                    int at = random.nextInt(10) < 9 ? random.nextInt(headerEnd) : random.nextInt(b.length);
                    int v = random.nextInt(3) == 0 ? 0xff : 1 << random.nextInt(8);
                    b[at] ^= (byte) v;
                    what.append(' ').append(at).append('^').append(v);
                }
                parse(b, what.toString(), false);
            }
        });
    }

    /** Absurd values in every length, count, type, dimension and offset field. */
    @Test
    void hostileValuesInEveryField() {
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            for (byte[] seed : List.of(rich, minimal)) {
                List<Field> fields = seed == rich ? richFields : minimalFields;
                for (Field f : fields) {
                    for (long v : hostileValues(f, seed, fields)) {
                        byte[] b = seed.clone();
                        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
                        if (f.size() == 8) {
                            bb.putLong((int) f.offset(), v);
                        } else {
                            bb.putInt((int) f.offset(), (int) v);
                        }
                        parse(b, f + " := " + Long.toUnsignedString(v), false);
                    }
                }
            }
        });
    }

    private static long[] hostileValues(Field f, byte[] seed, List<Field> fields) {
        long current = f.read(seed);
        return switch (f.kind()) {
            case STRING_LENGTH, ARRAY_COUNT, TENSOR_COUNT, METADATA_COUNT -> new long[] {
                0, current + 1, current - 1, current + 1000, 1L << 30, (1L << 31) + 7, 1L << 32, Long.MAX_VALUE, -1L,
                seed.length, seed.length / 2};
            case N_DIMS -> new long[] {0, current + 1, 5, 0xFFFFFFFFL, 0x80000000L};
            case DIMENSION -> new long[] {0, -1L, 1L << 62, 1L << 40, current * 2, current + 1, 3};
            case TENSOR_TYPE -> new long[] {31, 32, 33, 37, 63, 64, 134, 135, 0xFFFFFFFFL, GgmlType.Q4_K.id,
                GgmlType.F32.id, GgmlType.I2_S.id};
            case VALUE_TYPE, ELEMENT_TYPE -> new long[] {13, 0xFFFFFFFFL, 9, 8, 0, 12};
            case TENSOR_OFFSET -> new long[] {current + 1, current + 32, current - 64, current + 64, 0, seed.length,
                Long.MAX_VALUE, -64L, previousTensorOffset(f, fields, seed)};
            case VERSION -> new long[] {0, 1, 4, 0xFFFFFFFFL};
            case MAGIC -> new long[] {0x46554746L, 0};
            case SCALAR -> new long[] {0, 3, 63, 65, 1L << 21, -1L};
        };
    }

    private static long previousTensorOffset(Field f, List<Field> fields, byte[] seed) {
        long previous = 0;
        for (Field g : fields) {
            if (g == f) {
                return previous;
            }
            if (g.kind() == Field.Kind.TENSOR_OFFSET) {
                previous = g.read(seed);
            }
        }
        return previous;
    }

    /**
     * A huge (sparse) file whose header claims an array of 2^31 + 16 one-byte elements, or a string of almost
     * 1 GiB: each fits in the file, so only an element/length limit stops the reader from a negative array size
     * or an out-of-memory error.
     */
    @Test
    void hugeClaimsInAHugeSparseFile() throws Exception {
        Path p = dir.resolve("sparse.gguf");
        for (int variant = 0; variant < 2; variant++) {
            try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
                f.setLength(0);
                ByteBuffer h = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
                h.putInt(GgufFile.MAGIC).putInt(3).putLong(0).putLong(1);
                h.putLong(1).put((byte) 'k');
                if (variant == 0) {
                    h.putInt(GgufValueType.ARRAY.id).putInt(GgufValueType.UINT8.id).putLong((1L << 31) + 16);
                } else {
                    h.putInt(GgufValueType.STRING.id).putLong((1L << 30) - 1);
                }
                f.write(h.array(), 0, h.position());
                f.setLength(3L << 30);
            }
            int v = variant;
            assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
                mutated++;
                try (GgufFile g = GgufFile.open(p)) {
                    throw new AssertionError("variant " + v + " accepted: " + g.metadata().asMap());
                } catch (GgufException e) {
                    assertTrue(e.getMessage().contains("'k'"), e.getMessage());
                }
            });
        }
        Files.delete(p);
    }

    /**
     * Parses one image. Success must give a consistent index (aligned, in-bounds, non-overlapping tensors whose data
     * and metadata can be read); failure must be a GgufException with a message.
     */
    static void parse(byte[] image, String what, boolean mustSucceed) {
        mutated += mustSucceed ? 0 : 1;
        try (GgufFile f = GgufFile.parse(MemorySegment.ofArray(image))) {
            accepted += mustSucceed ? 0 : 1;
            f.metadata().asMap().values().forEach(GgufValue::display);
            long previousEnd = -1;
            List<TensorInfo> byOffset = new ArrayList<>(f.tensors().values());
            byOffset.sort((x, y) -> Long.compare(x.offset(), y.offset()));
            for (TensorInfo t : byOffset) {
                assertEquals(0, t.offset() % f.alignment(), what + ": misaligned " + t);
                assertTrue(t.offset() >= previousEnd, what + ": overlapping " + t);
                assertEquals(t.byteSize(), f.tensorData(t).byteSize(), what);
                assertTrue(f.dataOffset() + t.offset() + t.byteSize() <= image.length, what + ": out of bounds " + t);
                previousEnd = t.offset() + t.byteSize();
            }
            assertEquals(0, f.dataOffset() % f.alignment(), what + ": data section misaligned");
        } catch (GgufException e) {
            if (mustSucceed) {
                throw new AssertionError(what + " rejected: " + e.getMessage(), e);
            }
            assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), what + ": exception without a message");
        } catch (Throwable t) {
            throw new AssertionError(what + ": " + t, t);
        }
    }

    /** A field of a valid GGUF file, found by walking it the way the format is specified. */
    record Field(long offset, int size, Kind kind, String name) {
        enum Kind {
            MAGIC, VERSION, TENSOR_COUNT, METADATA_COUNT, STRING_LENGTH, VALUE_TYPE, ELEMENT_TYPE, ARRAY_COUNT, SCALAR,
            N_DIMS, DIMENSION, TENSOR_TYPE, TENSOR_OFFSET
        }

        long read(byte[] b) {
            ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
            return size == 8 ? bb.getLong((int) offset) : Integer.toUnsignedLong(bb.getInt((int) offset));
        }

        static long dataStart(List<Field> fields) {
            Field last = fields.get(fields.size() - 1);
            return last.offset + last.size;
        }

        static List<Field> scan(byte[] b) {
            ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
            List<Field> out = new ArrayList<>();
            out.add(new Field(0, 4, Kind.MAGIC, "magic"));
            out.add(new Field(4, 4, Kind.VERSION, "version"));
            out.add(new Field(8, 8, Kind.TENSOR_COUNT, "tensor count"));
            out.add(new Field(16, 8, Kind.METADATA_COUNT, "metadata count"));
            long tensors = bb.getLong(8);
            long kvs = bb.getLong(16);
            bb.position(24);
            for (long i = 0; i < kvs; i++) {
                String key = string(bb, out, "key " + i);
                out.add(new Field(bb.position(), 4, Kind.VALUE_TYPE, key + " type"));
                value(bb, bb.getInt(), out, key);
            }
            for (long i = 0; i < tensors; i++) {
                String name = string(bb, out, "tensor name " + i);
                out.add(new Field(bb.position(), 4, Kind.N_DIMS, name + " n_dims"));
                int n = bb.getInt();
                for (int d = 0; d < n; d++) {
                    out.add(new Field(bb.position(), 8, Kind.DIMENSION, name + " dim " + d));
                    bb.getLong();
                }
                out.add(new Field(bb.position(), 4, Kind.TENSOR_TYPE, name + " type"));
                bb.getInt();
                out.add(new Field(bb.position(), 8, Kind.TENSOR_OFFSET, name + " offset"));
                bb.getLong();
            }
            return out;
        }

        private static String string(ByteBuffer bb, List<Field> out, String what) {
            out.add(new Field(bb.position(), 8, Kind.STRING_LENGTH, what + " length"));
            byte[] s = new byte[(int) bb.getLong()];
            bb.get(s);
            return new String(s, java.nio.charset.StandardCharsets.UTF_8);
        }

        private static void value(ByteBuffer bb, int type, List<Field> out, String key) {
            GgufValueType t = GgufValueType.byId(type);
            switch (t) {
                case STRING -> string(bb, out, key + " value");
                case ARRAY -> {
                    out.add(new Field(bb.position(), 4, Kind.ELEMENT_TYPE, key + " element type"));
                    int et = bb.getInt();
                    out.add(new Field(bb.position(), 8, Kind.ARRAY_COUNT, key + " count"));
                    long n = bb.getLong();
                    for (long i = 0; i < n; i++) {
                        value(bb, et, out, key + "[" + i + "]");
                    }
                }
                default -> {
                    if (t.minBytes >= 4) {
                        out.add(new Field(bb.position(), t.minBytes == 8 ? 8 : 4, Kind.SCALAR, key + " value"));
                    }
                    bb.position(bb.position() + t.minBytes);
                }
            }
        }
    }
}
