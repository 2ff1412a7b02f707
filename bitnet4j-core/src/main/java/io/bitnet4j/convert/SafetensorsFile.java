package io.bitnet4j.convert;

import io.bitnet4j.json.Json;
import io.bitnet4j.json.JsonException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@code .safetensors} file mapped read-only: an 8-byte little-endian header length, a JSON header naming each
 * tensor's dtype, shape and {@code [begin, end)} byte range in the data section, then the data. Tensors are slices of
 * the mapping; nothing is copied to the heap.
 *
 * <p>The file is untrusted input: the header length, every dtype, shape and offset pair is checked against the file
 * before use, and byte ranges may not overlap. Any violation is an {@link IllegalArgumentException} naming the file,
 * the tensor and the problem.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** Far above any real header (a 400-tensor model has ~40 KB); bounds the memory a corrupt length can claim. */
    static final long MAX_HEADER_BYTES = 100L << 20;

    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** The element types bitnet4j converts. */
    public enum Dtype {
        BF16(2), F16(2), F32(4), U8(1), I8(1);

        public final int bytes;

        Dtype(int bytes) {
            this.bytes = bytes;
        }

        /**
         * {@code x} rounded to this type, as PyTorch's {@code tensor.to(dtype)} does for the float types (round to
         * nearest even); {@code x} itself for F32 and the integer types.
         */
        public float round(float x) {
            return switch (this) {
                case BF16 -> {
                    int u = Float.floatToRawIntBits(x);
                    yield Float.isNaN(x) ? x : Float.intBitsToFloat(((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) << 16);
                }
                case F16 -> Float.float16ToFloat(Float.floatToFloat16(x));
                default -> x;
            };
        }
    }

    /** One tensor: its dtype, shape (outermost first, as in PyTorch) and bytes inside the mapping. */
    public record Tensor(String name, Dtype dtype, long[] shape, MemorySegment data) {
        public long elementCount() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }

        /** Element {@code i} (row-major) as a float; U8 and I8 give their integer value. */
        public float get(long i) {
            return switch (dtype) {
                case BF16 -> Float.intBitsToFloat((data.get(LE_SHORT, 2 * i) & 0xffff) << 16);
                case F16 -> Float.float16ToFloat(data.get(LE_SHORT, 2 * i));
                case F32 -> data.get(LE_FLOAT, 4 * i);
                case U8 -> data.get(ValueLayout.JAVA_BYTE, i) & 0xff;
                case I8 -> data.get(ValueLayout.JAVA_BYTE, i);
            };
        }

        public String shapeString() {
            return Arrays.toString(shape);
        }
    }

    private final Path path;
    private final Arena arena;
    private final Map<String, Tensor> tensors;

    private SafetensorsFile(Path path, Arena arena, Map<String, Tensor> tensors) {
        this.path = path;
        this.arena = arena;
        this.tensors = tensors;
    }

    public static SafetensorsFile open(Path path) {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment file = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            return new SafetensorsFile(path, arena, parse(path, file));
        } catch (IOException e) {
            arena.close();
            throw new UncheckedIOException("cannot read " + path + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    /** The tensors in header order. */
    public Map<String, Tensor> tensors() {
        return tensors;
    }

    @Override
    public void close() {
        arena.close();
    }

    private static Map<String, Tensor> parse(Path path, MemorySegment file) {
        long size = file.byteSize();
        if (size < 8) {
            throw bad(path, "file of " + size + " bytes is too short for a safetensors header");
        }
        long headerLength = file.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        if (headerLength < 2 || headerLength > size - 8 || headerLength > MAX_HEADER_BYTES) {
            throw bad(path, "header length " + Long.toUnsignedString(headerLength) + " does not fit the file of "
                    + size + " bytes (or exceeds " + MAX_HEADER_BYTES + ")");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(file.asSlice(8, headerLength).asByteBuffer()).toString();
        } catch (CharacterCodingException e) {
            throw bad(path, "header is not valid UTF-8");
        }
        Object root;
        try {
            root = Json.parse(text.stripTrailing()); // the format allows space padding after the JSON
        } catch (JsonException e) {
            throw bad(path, "header is not valid JSON: " + e.getMessage());
        }
        if (!(root instanceof Map<?, ?> entries)) {
            throw bad(path, "header is not a JSON object");
        }
        long dataStart = 8 + headerLength;
        long dataSize = size - dataStart;
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : entries.entrySet()) {
            String name = (String) e.getKey();
            if (name.equals("__metadata__")) {
                continue; // free-form string map (e.g. {"format": "pt"}); nothing in it changes the tensors
            }
            if (!(e.getValue() instanceof Map<?, ?> info)) {
                throw bad(path, "tensor '" + name + "': entry is not a JSON object");
            }
            Dtype dtype = dtype(path, name, info.get("dtype"));
            long[] shape = shape(path, name, info.get("shape"));
            long[] range = offsets(path, name, info.get("data_offsets"));
            long bytes;
            try {
                bytes = dtype.bytes;
                for (long d : shape) {
                    bytes = Math.multiplyExact(bytes, d);
                }
            } catch (ArithmeticException overflow) {
                throw bad(path, "tensor '" + name + "': shape " + Arrays.toString(shape) + " overflows");
            }
            if (range[1] > dataSize) {
                throw bad(path, "tensor '" + name + "': data_offsets [" + range[0] + ", " + range[1]
                        + "] run past the data section of " + dataSize + " bytes (file truncated?)");
            }
            if (range[1] - range[0] != bytes) {
                throw bad(path, "tensor '" + name + "': data_offsets [" + range[0] + ", " + range[1] + "] hold "
                        + (range[1] - range[0]) + " bytes, but " + dtype + " " + Arrays.toString(shape) + " needs "
                        + bytes);
            }
            out.put(name, new Tensor(name, dtype, shape, file.asSlice(dataStart + range[0], range[1] - range[0])));
        }
        checkNoOverlap(path, out.values());
        return Collections.unmodifiableMap(out);
    }

    private static Dtype dtype(Path path, String name, Object v) {
        if (v instanceof String s) {
            for (Dtype d : Dtype.values()) {
                if (d.name().equals(s)) {
                    return d;
                }
            }
            throw bad(path, "tensor '" + name + "': dtype " + s + " is not supported (bitnet4j converts "
                    + Arrays.toString(Dtype.values()) + ")");
        }
        throw bad(path, "tensor '" + name + "': \"dtype\" is missing or not a string");
    }

    private static long[] shape(Path path, String name, Object v) {
        if (!(v instanceof List<?> list) || list.size() > 8) {
            throw bad(path, "tensor '" + name + "': \"shape\" is missing, not a list or has more than 8 dimensions");
        }
        long[] shape = new long[list.size()];
        for (int i = 0; i < shape.length; i++) {
            if (!(list.get(i) instanceof Long d) || d < 0) {
                throw bad(path, "tensor '" + name + "': dimension " + i + " of \"shape\" is " + list.get(i)
                        + ", expected a non-negative integer");
            }
            shape[i] = d;
        }
        return shape;
    }

    private static long[] offsets(Path path, String name, Object v) {
        if (v instanceof List<?> list && list.size() == 2 && list.get(0) instanceof Long begin
                && list.get(1) instanceof Long end && begin >= 0 && end >= begin) {
            return new long[] {begin, end};
        }
        throw bad(path, "tensor '" + name + "': \"data_offsets\" is " + v + ", expected [begin, end] with "
                + "0 <= begin <= end");
    }

    private static void checkNoOverlap(Path path, Iterable<Tensor> tensors) {
        List<Tensor> sorted = new ArrayList<>();
        tensors.forEach(sorted::add);
        sorted.sort(Comparator.comparingLong(t -> t.data().address()));
        for (int i = 1; i < sorted.size(); i++) {
            Tensor a = sorted.get(i - 1);
            Tensor b = sorted.get(i);
            if (b.data().address() < a.data().address() + a.data().byteSize()) {
                throw bad(path, "tensors '" + a.name() + "' and '" + b.name() + "' overlap in the data section");
            }
        }
    }

    private static IllegalArgumentException bad(Path path, String message) {
        return new IllegalArgumentException(path + ": corrupt or unsupported safetensors file: " + message);
    }
}
