package io.bitnet4j.gguf;

import io.bitnet4j.tensor.GgmlType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Writes GGUF version 3 files the way llama.cpp's gguf writer lays them out: header, metadata in insertion order,
 * tensor infos in insertion order, zero padding to {@code general.alignment}, then each tensor's data at an aligned
 * offset. Tensor bytes are produced one tensor at a time by a supplier, so a multi-GB model never sits in memory whole.
 * The file is written to a temporary sibling and moved into place, so a failed write leaves no half file behind.
 */
public final class GgufWriter {
    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final List<Pending> tensors = new ArrayList<>();
    private int alignment = GgufFile.DEFAULT_ALIGNMENT;

    private record Pending(String name, GgmlType type, long[] shape, long byteSize, Supplier<ByteBuffer> data) {}

    public GgufWriter put(String key, GgufValue value) {
        if (key.equals("general.alignment")) {
            long a = ((Number) value.value()).longValue();
            if (a <= 0 || Long.bitCount(a) != 1) {
                throw new IllegalArgumentException("alignment must be a power of two: " + a);
            }
            alignment = (int) a;
        }
        metadata.put(key, value);
        return this;
    }

    public GgufWriter putAll(GgufMetadata source) {
        source.asMap().forEach(this::put);
        return this;
    }

    public GgufWriter putString(String key, String v) {
        return put(key, GgufValue.string(v));
    }

    public GgufWriter putUint32(String key, long v) {
        return put(key, GgufValue.uint32(v));
    }

    public GgufWriter putFloat32(String key, float v) {
        return put(key, GgufValue.float32(v));
    }

    /**
     * Adds a tensor; {@code data} is called once, during {@link #write}, and must return exactly
     * {@code type.byteSize(shape)} bytes (position to limit).
     */
    public GgufWriter addTensor(String name, GgmlType type, long[] shape, Supplier<ByteBuffer> data) {
        long rows = 1;
        for (int i = 1; i < shape.length; i++) {
            rows *= shape[i];
        }
        if (shape[0] % type.blockSize != 0) {
            throw new IllegalArgumentException(name + ": row length " + shape[0] + " is not a multiple of "
                    + type.blockSize + " for " + type);
        }
        for (Pending p : tensors) {
            if (p.name.equals(name)) {
                throw new IllegalArgumentException("duplicate tensor " + name);
            }
        }
        tensors.add(new Pending(name, type, shape.clone(), type.byteSize(shape[0], rows), data));
        return this;
    }

    /** Adds a tensor whose bytes already exist (e.g. copied from another GGUF's mapping). */
    public GgufWriter addTensor(String name, GgmlType type, long[] shape, MemorySegment bytes) {
        return addTensor(name, type, shape, bytes::asByteBuffer);
    }

    public void write(Path out) {
        Path tmp = out.resolveSibling(out.getFileName() + ".part");
        try {
            writeTo(tmp);
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new UncheckedIOException("cannot write " + out + ": " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            deleteQuietly(tmp); // e.g. a tensor supplier that failed or returned the wrong size
            throw e;
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // the original failure is the one worth reporting
        }
    }

    private void writeTo(Path path) throws IOException {
        Header h = new Header();
        h.u32(GgufFile.MAGIC);
        h.u32(3);
        h.u64(tensors.size());
        h.u64(metadata.size());
        for (Map.Entry<String, GgufValue> e : metadata.entrySet()) {
            h.string(e.getKey());
            h.u32(e.getValue().type().id);
            h.value(e.getValue().type(), e.getValue().value());
        }
        long offset = 0;
        for (Pending t : tensors) {
            h.string(t.name);
            h.u32(t.shape.length);
            for (long d : t.shape) {
                h.u64(d);
            }
            h.u32(t.type.id);
            h.u64(offset);
            offset = GgufFile.alignUp(offset + t.byteSize, alignment);
        }
        h.pad(alignment);
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(ch, ByteBuffer.wrap(h.bytes.toByteArray()));
            long written = 0;
            for (Pending t : tensors) {
                ByteBuffer data = t.data.get();
                if (data.remaining() != t.byteSize) {
                    throw new IllegalStateException("tensor " + t.name + " (" + t.type + " " + java.util.Arrays.toString(t.shape)
                            + ") supplied " + data.remaining() + " bytes, expected " + t.byteSize);
                }
                writeFully(ch, data);
                written += t.byteSize;
                long padded = GgufFile.alignUp(written, alignment);
                writeFully(ch, ByteBuffer.allocate((int) (padded - written)));
                written = padded;
            }
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** Little-endian encoder for the header part. */
    private static final class Header {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final ByteBuffer scratch = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);

        void u8(int v) {
            bytes.write(v);
        }

        void u16(int v) {
            scratch.clear();
            scratch.putShort((short) v);
            bytes.write(scratch.array(), 0, 2);
        }

        void u32(long v) {
            scratch.clear();
            scratch.putInt((int) v);
            bytes.write(scratch.array(), 0, 4);
        }

        void u64(long v) {
            scratch.clear();
            scratch.putLong(v);
            bytes.write(scratch.array(), 0, 8);
        }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            bytes.write(b, 0, b.length);
        }

        void pad(int alignment) {
            while (bytes.size() % alignment != 0) {
                bytes.write(0);
            }
        }

        void value(GgufValueType type, Object v) {
            switch (type) {
                case UINT8, INT8 -> u8(((Number) v).intValue());
                case UINT16, INT16 -> u16(((Number) v).intValue());
                case UINT32, INT32 -> u32(((Number) v).longValue());
                case FLOAT32 -> u32(Float.floatToRawIntBits(((Number) v).floatValue()));
                case BOOL -> u8((Boolean) v ? 1 : 0);
                case STRING -> string((String) v);
                case UINT64, INT64 -> u64(((Number) v).longValue());
                case FLOAT64 -> u64(Double.doubleToRawLongBits(((Number) v).doubleValue()));
                case ARRAY -> array((GgufArray) v);
            }
        }

        void array(GgufArray a) {
            u32(a.elementType().id);
            int n = a.length();
            u64(n);
            Object el = a.elements();
            for (int i = 0; i < n; i++) {
                Object e = switch (el) {
                    case int[] x -> x[i];
                    case long[] x -> x[i];
                    case float[] x -> x[i];
                    case double[] x -> x[i];
                    case boolean[] x -> x[i];
                    case Object[] x -> x[i];
                    default -> throw new IllegalStateException("bad array storage " + el.getClass());
                };
                value(a.elementType(), e);
            }
        }
    }
}
