package io.bitnet4j.gguf;

import io.bitnet4j.tensor.GgmlType;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF file (version 2 or 3) mapped read-only into memory. Metadata and the tensor index are parsed into small
 * Java objects; tensor data stays in the mapping and is handed out as {@link MemorySegment} slices, so weights are
 * never copied onto the heap.
 *
 * <p>The file is untrusted: every count, length, offset and size is checked against the file before it is used, and
 * every problem is reported as a {@link GgufException} naming the key or tensor involved.
 */
public final class GgufFile implements AutoCloseable {
    public static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
    public static final int DEFAULT_ALIGNMENT = 32;
    static final int MAX_DIMS = 4;
    static final int MAX_NESTING = 8;
    /**
     * Longest metadata string accepted. Real ones are at most a few MB (an embedded tokenizer.json); a larger claim
     * in a large file would otherwise cost several times its size in heap while decoding.
     */
    static final long MAX_STRING_BYTES = 64L << 20;
    /** Most elements in one metadata array: far above any vocabulary or merge list, and within Java's array size. */
    static final long MAX_ARRAY_LENGTH = 1L << 26;

    private final Path path;
    private final Arena arena;
    private final MemorySegment file;
    private final int version;
    private final GgufMetadata metadata;
    private final Map<String, TensorInfo> tensors;
    private final int alignment;
    private final long dataOffset;

    private GgufFile(Path path, Arena arena, MemorySegment file, int version, GgufMetadata metadata,
            Map<String, TensorInfo> tensors, int alignment, long dataOffset) {
        this.path = path;
        this.arena = arena;
        this.file = file;
        this.version = version;
        this.metadata = metadata;
        this.tensors = tensors;
        this.alignment = alignment;
        this.dataOffset = dataOffset;
    }

    /** Maps and parses {@code path}. The caller closes the returned file, which unmaps it. */
    public static GgufFile open(Path path) {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            MemorySegment seg = size == 0 ? MemorySegment.ofArray(new byte[0])
                    : ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            return parse(path, arena, seg);
        } catch (NoSuchFileException e) {
            arena.close();
            throw new GgufException(path + ": no such file");
        } catch (IOException e) {
            arena.close();
            throw new GgufException(path + ": cannot read: " + e.getMessage(), e);
        } catch (GgufException e) {
            arena.close();
            throw new GgufException(path.getFileName() + ": " + e.getMessage());
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** Parses a GGUF image already in memory (tests, embedded resources). The segment must outlive the result. */
    public static GgufFile parse(MemorySegment image) {
        return parse(null, null, image);
    }

    private static GgufFile parse(Path path, Arena arena, MemorySegment seg) {
        Cursor c = new Cursor(seg);
        if (seg.byteSize() < 4 || c.u32("magic") != MAGIC) {
            throw new GgufException("not a GGUF file (bad magic; expected the bytes 'GGUF' at offset 0)");
        }
        int version = (int) c.u32("version");
        if (version != 2 && version != 3) {
            throw new GgufException("unsupported GGUF version " + Integer.toUnsignedString(version)
                    + " (bitnet4j reads versions 2 and 3)");
        }
        long tensorCount = c.u64("tensor count");
        long kvCount = c.u64("metadata count");
        // A metadata entry is at least a key length (8) + a type (4) + 1 byte; a tensor info is at least 8+4+8+4+8.
        if (kvCount < 0 || kvCount > c.remaining() / 13) {
            throw new GgufException("metadata count " + Long.toUnsignedString(kvCount) + " is impossible for a file of "
                    + seg.byteSize() + " bytes");
        }
        if (tensorCount < 0 || tensorCount > c.remaining() / 32) {
            throw new GgufException("tensor count " + Long.toUnsignedString(tensorCount)
                    + " is impossible for a file of " + seg.byteSize() + " bytes");
        }

        Map<String, GgufValue> kv = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = c.string("key of metadata entry " + i);
            long typeId = c.u32("type of metadata key '" + key + "'");
            GgufValueType type = GgufValueType.byId(typeId);
            if (type == null) {
                throw new GgufException("metadata key '" + key + "' has unknown value type " + typeId);
            }
            GgufValue value = c.value(type, key, 0);
            if (kv.putIfAbsent(key, value) != null) {
                throw new GgufException("metadata key '" + key + "' appears twice");
            }
        }
        GgufMetadata metadata = new GgufMetadata(kv);

        int alignment = DEFAULT_ALIGNMENT;
        if (metadata.has("general.alignment")) {
            GgufValue a = kv.get("general.alignment");
            if (!a.type().isInteger()) {
                throw new GgufException("general.alignment is " + a.type() + ", expected an integer");
            }
            long al = ((Number) a.value()).longValue();
            if (al <= 0 || al > (1 << 20) || Long.bitCount(al) != 1) {
                throw new GgufException("general.alignment = " + al + " is not a power of two in [1, 1 MiB]");
            }
            alignment = (int) al;
        }

        List<TensorInfo> infos = new ArrayList<>();
        Map<String, TensorInfo> byName = new LinkedHashMap<>();
        for (long i = 0; i < tensorCount; i++) {
            String name = c.string("name of tensor " + i);
            long nDims = c.u32("dimension count of tensor '" + name + "'");
            if (nDims < 1 || nDims > MAX_DIMS) {
                throw new GgufException("tensor '" + name + "' has " + nDims + " dimensions (1.." + MAX_DIMS + " allowed)");
            }
            long[] shape = new long[(int) nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++) {
                shape[d] = c.u64("dimension " + d + " of tensor '" + name + "'");
                if (shape[d] <= 0) {
                    throw new GgufException("tensor '" + name + "' has dimension " + d + " = "
                            + Long.toUnsignedString(shape[d]) + " (must be positive)");
                }
                try {
                    elements = Math.multiplyExact(elements, shape[d]);
                } catch (ArithmeticException e) {
                    throw new GgufException("tensor '" + name + "' has an element count that overflows 64 bits");
                }
            }
            long typeId = c.u32("type of tensor '" + name + "'");
            GgmlType type = GgmlType.byId(typeId);
            if (type == null) {
                throw new GgufException("tensor '" + name + "' has unknown ggml type " + typeId);
            }
            long offset = c.u64("offset of tensor '" + name + "'");
            if (shape[0] % type.blockSize != 0) {
                throw new GgufException("tensor '" + name + "' (" + type + ") has row length " + shape[0]
                        + ", not a multiple of the block size " + type.blockSize);
            }
            long bytes;
            try {
                bytes = type.byteSize(shape[0], elements / shape[0]);
            } catch (ArithmeticException e) {
                throw new GgufException("tensor '" + name + "' has a byte size that overflows 64 bits");
            }
            if (offset < 0 || offset % alignment != 0) {
                throw new GgufException("tensor '" + name + "' has offset " + Long.toUnsignedString(offset)
                        + ", not a multiple of the alignment " + alignment);
            }
            TensorInfo info = new TensorInfo(name, type, shape, offset, bytes);
            if (byName.putIfAbsent(name, info) != null) {
                throw new GgufException("tensor '" + name + "' appears twice in the tensor index");
            }
            infos.add(info);
        }

        long dataOffset = alignUp(c.position(), alignment);
        long dataSize = seg.byteSize() - dataOffset;
        if (tensorCount > 0 && dataSize < 0) {
            throw new GgufException("file is truncated: the tensor data section (at " + dataOffset
                    + ") starts beyond the end of the file (" + seg.byteSize() + " bytes)");
        }
        for (TensorInfo t : infos) {
            if (t.offset() > dataSize || t.byteSize() > dataSize - t.offset()) {
                throw new GgufException("tensor '" + t.name() + "' data [" + t.offset() + ", " + t.offset() + "+"
                        + t.byteSize() + ") extends beyond the end of the file (data section holds " + Math.max(dataSize, 0)
                        + " bytes): the file is truncated or corrupt");
            }
        }
        List<TensorInfo> sorted = new ArrayList<>(infos);
        sorted.sort(Comparator.comparingLong(TensorInfo::offset));
        for (int i = 1; i < sorted.size(); i++) {
            TensorInfo prev = sorted.get(i - 1);
            TensorInfo cur = sorted.get(i);
            if (prev.offset() + prev.byteSize() > cur.offset()) {
                throw new GgufException("tensors '" + prev.name() + "' and '" + cur.name() + "' overlap in the data section");
            }
        }
        return new GgufFile(path, arena, seg, version, metadata, Collections.unmodifiableMap(byName), alignment, dataOffset);
    }

    static long alignUp(long x, long alignment) {
        return (x + alignment - 1) / alignment * alignment;
    }

    public Path path() {
        return path;
    }

    public int version() {
        return version;
    }

    public GgufMetadata metadata() {
        return metadata;
    }

    public int alignment() {
        return alignment;
    }

    /** Absolute file offset where the data section starts. */
    public long dataOffset() {
        return dataOffset;
    }

    public long fileSize() {
        return file.byteSize();
    }

    /** The tensor index in file order. */
    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    public boolean hasTensor(String name) {
        return tensors.containsKey(name);
    }

    public TensorInfo tensorInfo(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new GgufException("tensor '" + name + "' is missing"
                    + (path == null ? "" : " from " + path.getFileName()));
        }
        return t;
    }

    /** The bytes of a tensor: a read-only slice of the mapping, no copy. */
    public MemorySegment tensorData(TensorInfo t) {
        return file.asSlice(dataOffset + t.offset(), t.byteSize());
    }

    public MemorySegment tensorData(String name) {
        return tensorData(tensorInfo(name));
    }

    @Override
    public void close() {
        if (arena != null) {
            arena.close();
        }
    }

    /** Bounds-checked little-endian reader over the header. */
    private static final class Cursor {
        private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

        private final MemorySegment seg;
        private long pos;

        Cursor(MemorySegment seg) {
            this.seg = seg;
        }

        long position() {
            return pos;
        }

        long remaining() {
            return seg.byteSize() - pos;
        }

        private void need(long n, String what) {
            if (n < 0 || n > remaining()) {
                throw new GgufException("file is truncated while reading " + what + " at offset " + pos
                        + " (needs " + Long.toUnsignedString(n) + " bytes, " + remaining() + " left)");
            }
        }

        int u8(String what) {
            need(1, what);
            return Byte.toUnsignedInt(seg.get(ValueLayout.JAVA_BYTE, pos++));
        }

        int u16(String what) {
            need(2, what);
            int v = Short.toUnsignedInt(seg.get(U16, pos));
            pos += 2;
            return v;
        }

        long u32(String what) {
            need(4, what);
            long v = Integer.toUnsignedLong(seg.get(U32, pos));
            pos += 4;
            return v;
        }

        long u64(String what) {
            need(8, what);
            long v = seg.get(U64, pos);
            pos += 8;
            return v;
        }

        String string(String what) {
            long len = u64("length of " + what);
            if (len < 0 || len > MAX_STRING_BYTES) {
                throw new GgufException(what + " has an absurd length " + Long.toUnsignedString(len)
                        + " (bitnet4j accepts strings of up to " + MAX_STRING_BYTES + " bytes)");
            }
            need(len, what);
            byte[] bytes = seg.asSlice(pos, len).toArray(ValueLayout.JAVA_BYTE);
            pos += len;
            try {
                return StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
            } catch (CharacterCodingException e) {
                // Token strings of byte-level vocabularies are valid UTF-8; anything else is replaced, not fatal.
                return new String(bytes, StandardCharsets.UTF_8);
            }
        }

        GgufValue value(GgufValueType type, String key, int depth) {
            String what = "value of metadata key '" + key + "'";
            return switch (type) {
                case UINT8 -> new GgufValue(type, u8(what));
                case INT8 -> new GgufValue(type, (int) (byte) u8(what));
                case UINT16 -> new GgufValue(type, u16(what));
                case INT16 -> new GgufValue(type, (int) (short) u16(what));
                case UINT32 -> new GgufValue(type, u32(what));
                case INT32 -> new GgufValue(type, (int) u32(what));
                case FLOAT32 -> new GgufValue(type, Float.intBitsToFloat((int) u32(what)));
                case BOOL -> {
                    int b = u8(what);
                    if (b > 1) {
                        throw new GgufException("metadata key '" + key + "' is a bool with byte value " + b);
                    }
                    yield new GgufValue(type, b == 1);
                }
                case STRING -> new GgufValue(type, string(what));
                case UINT64, INT64 -> new GgufValue(type, u64(what));
                case FLOAT64 -> new GgufValue(type, Double.longBitsToDouble(u64(what)));
                case ARRAY -> new GgufValue(type, array(key, depth));
            };
        }

        GgufArray array(String key, int depth) {
            if (depth >= MAX_NESTING) {
                throw new GgufException("metadata key '" + key + "' nests arrays deeper than " + MAX_NESTING);
            }
            long typeId = u32("element type of array '" + key + "'");
            GgufValueType et = GgufValueType.byId(typeId);
            if (et == null) {
                throw new GgufException("metadata array '" + key + "' has unknown element type " + typeId);
            }
            long n = u64("length of array '" + key + "'");
            if (n < 0 || n > remaining() / et.minBytes) {
                throw new GgufException("metadata array '" + key + "' claims " + Long.toUnsignedString(n) + " "
                        + et + " elements, more than the " + remaining() + " bytes left in the file can hold");
            }
            if (n > MAX_ARRAY_LENGTH) {
                throw new GgufException("metadata array '" + key + "' claims " + n + " elements, more than the "
                        + MAX_ARRAY_LENGTH + " bitnet4j accepts");
            }
            int len = (int) n;
            String what = "element of array '" + key + "'";
            Object out = switch (et) {
                case UINT8, INT8, UINT16, INT16, INT32 -> {
                    int[] a = new int[len];
                    for (int i = 0; i < len; i++) {
                        a[i] = switch (et) {
                            case UINT8 -> u8(what);
                            case INT8 -> (byte) u8(what);
                            case UINT16 -> u16(what);
                            case INT16 -> (short) u16(what);
                            default -> (int) u32(what);
                        };
                    }
                    yield a;
                }
                case UINT32, INT64, UINT64 -> {
                    long[] a = new long[len];
                    for (int i = 0; i < len; i++) {
                        a[i] = et == GgufValueType.UINT32 ? u32(what) : u64(what);
                    }
                    yield a;
                }
                case FLOAT32 -> {
                    float[] a = new float[len];
                    need(4L * len, what);
                    MemorySegment.copy(seg, F32, pos, a, 0, len);
                    pos += 4L * len;
                    yield a;
                }
                case FLOAT64 -> {
                    double[] a = new double[len];
                    need(8L * len, what);
                    MemorySegment.copy(seg, F64, pos, a, 0, len);
                    pos += 8L * len;
                    yield a;
                }
                case BOOL -> {
                    boolean[] a = new boolean[len];
                    for (int i = 0; i < len; i++) {
                        int b = u8(what);
                        if (b > 1) {
                            throw new GgufException("metadata array '" + key + "' holds a bool with byte value " + b);
                        }
                        a[i] = b == 1;
                    }
                    yield a;
                }
                case STRING -> {
                    String[] a = new String[len];
                    for (int i = 0; i < len; i++) {
                        a[i] = string(what + " [" + i + "]");
                    }
                    yield a;
                }
                case ARRAY -> {
                    GgufArray[] a = new GgufArray[len];
                    for (int i = 0; i < len; i++) {
                        a[i] = array(key + "[" + i + "]", depth + 1);
                    }
                    yield a;
                }
            };
            return new GgufArray(et, out);
        }
    }
}
