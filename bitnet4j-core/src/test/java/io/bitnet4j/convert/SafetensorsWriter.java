package io.bitnet4j.convert;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Writes {@code .safetensors} files for tests: tensors from float values or raw bytes, or a hand-made header. */
public final class SafetensorsWriter {
    private SafetensorsWriter() {}

    /** One tensor: dtype name as in the format ("BF16", "U8", ...), PyTorch-order shape, little-endian bytes. */
    public record Entry(String name, String dtype, long[] shape, byte[] data) {}

    public static Entry f32(String name, float[] v, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) {
            b.putFloat(x);
        }
        return new Entry(name, "F32", shape, b.array());
    }

    public static Entry f16(String name, float[] v, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) {
            b.putShort(exact(Float.floatToFloat16(x), Float.float16ToFloat(Float.floatToFloat16(x)), x, name));
        }
        return new Entry(name, "F16", shape, b.array());
    }

    /** BF16 by truncation; the test values are chosen to be exact in bf16, which this checks. */
    public static Entry bf16(String name, float[] v, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) {
            short bits = (short) (Float.floatToRawIntBits(x) >>> 16);
            b.putShort(exact(bits, Float.intBitsToFloat((bits & 0xffff) << 16), x, name));
        }
        return new Entry(name, "BF16", shape, b.array());
    }

    private static short exact(short bits, float stored, float x, String name) {
        if (stored != x) {
            throw new IllegalArgumentException(name + ": test value " + x + " is not exact in its dtype");
        }
        return bits;
    }

    public static Entry u8(String name, byte[] v, long... shape) {
        return new Entry(name, "U8", shape, v);
    }

    public static void write(Path file, List<Entry> entries) {
        StringBuilder h = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (Entry e : entries) {
            h.append(",\"").append(e.name()).append("\":{\"dtype\":\"").append(e.dtype()).append("\",\"shape\":[");
            for (int i = 0; i < e.shape().length; i++) {
                h.append(i > 0 ? "," : "").append(e.shape()[i]);
            }
            h.append("],\"data_offsets\":[").append(data.size()).append(",").append(data.size() + e.data().length)
                    .append("]}");
            data.writeBytes(e.data());
        }
        writeRaw(file, h.append("}").toString(), data.toByteArray());
    }

    /** A file with exactly this header text (padded with spaces to 8 bytes, as the format's writers do). */
    public static void writeRaw(Path file, String header, byte[] data) {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer b = ByteBuffer.allocate(8 + padded + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(padded).put(json);
        for (int i = json.length; i < padded; i++) {
            b.put((byte) ' ');
        }
        b.put(data);
        try {
            Files.write(file, b.array());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
