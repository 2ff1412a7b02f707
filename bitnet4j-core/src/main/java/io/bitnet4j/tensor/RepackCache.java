package io.bitnet4j.tensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * A directory of ternary weights repacked for the lookup kernel ({@link TernaryLut}), one file per model file and
 * thread count, so that only the first load of a model repacks it. Repacking is most of what loading a 2B model costs
 * (in a VM, mostly the first touch of fresh memory); a later load maps the file, which the page cache usually still
 * holds, and never reads the I2_S weights at all. The I2_S tensors stay the truth: a cache file records the model
 * file's path, size and modification time and a checksum of each tensor's first and last bytes, and one that does
 * not match in every point, or is cut short, is ignored and written anew.
 *
 * <p>A new file is packed in place: the matrices pack into a mapping of a temporary file, which is flushed and then
 * renamed to its final name, so another process never sees half a file. Files whose model file no longer exists and
 * temporary files more than a day old are removed whenever a file is written.
 *
 * <p>On by default, in {@code $BITNET4J_CACHE/repacked} (or {@code $XDG_CACHE_HOME/bitnet4j/repacked}, or
 * {@code ~/.cache/bitnet4j/repacked}); {@code -Dbitnet4j.repackCache=DIR} picks another directory,
 * {@code -Dbitnet4j.repackCache=false} (or {@code BITNET4J_REPACK_CACHE=off}) switches it off. Models whose repacked
 * weights are smaller than {@link #DEFAULT_MIN_BYTES} repack faster than a file would help, and are not cached.
 */
public final class RepackCache {
    /** Below this many repacked bytes a model is repacked at every load (a few milliseconds). */
    public static final long DEFAULT_MIN_BYTES = 32L << 20;
    private static final long MAGIC = 0x3130_5455_4c4a_3442L; // "B4JLUT01" read as a little-endian long
    private static final int VERSION = 1;
    private static final String SUFFIX = ".b4jlut";
    private static final long ALIGN = 4096;
    private static final int FINGERPRINT_BYTES = 4096;
    /** Space left on the cache's disk after a new file, at least. */
    private static final long MIN_FREE_BYTES = 1L << 30;

    private final Path directory;
    private final long minBytes;

    /** A cache in {@code directory} (created when first written) for models of at least {@code minBytes} repacked. */
    public RepackCache(Path directory, long minBytes) {
        this.directory = directory;
        this.minBytes = minBytes;
    }

    /** The cache the system properties and environment ask for (see the class comment); empty when switched off. */
    public static Optional<RepackCache> fromEnvironment() {
        String prop = System.getProperty("bitnet4j.repackCache");
        String setting = prop != null ? prop : System.getenv("BITNET4J_REPACK_CACHE");
        if ("false".equalsIgnoreCase(setting) || "off".equalsIgnoreCase(setting)) {
            return Optional.empty();
        }
        Path dir;
        if (prop != null && !prop.isBlank()) {
            dir = Path.of(prop);
        } else if (System.getenv("BITNET4J_CACHE") != null) {
            dir = Path.of(System.getenv("BITNET4J_CACHE"), "repacked");
        } else if (System.getenv("XDG_CACHE_HOME") != null) {
            dir = Path.of(System.getenv("XDG_CACHE_HOME"), "bitnet4j", "repacked");
        } else {
            dir = Path.of(System.getProperty("user.home"), ".cache", "bitnet4j", "repacked");
        }
        return Optional.of(new RepackCache(dir, DEFAULT_MIN_BYTES));
    }

    public Path directory() {
        return directory;
    }

    /** Where a load's repacked weights came from: {@code file} was mapped ({@code fromCache}) or written now. */
    public record Result(boolean fromCache, Optional<Path> file) {
        public static final Result NOT_CACHED = new Result(false, Optional.empty());
    }

    /** What {@link #bind} found: whether the weights are ready, and what completes a new file once they are packed. */
    public interface Binding {
        /** Whether the layout came from a cache file: nothing is left to pack. */
        boolean fromCache();

        /**
         * After the matrices were packed ({@link WeightMatrix#prepare}), or at once when they came from the cache:
         * makes a new file visible, and says which file serves the weights, if any.
         */
        Result commit();
    }

    /** A binding with nothing left to do at commit: no cache, or the layout mapped from one. */
    private record Settled(Result result) implements Binding {
        @Override
        public boolean fromCache() {
            return result.fromCache();
        }

        @Override
        public Result commit() {
            return result;
        }
    }

    private static final Binding NONE = new Settled(Result.NOT_CACHED);

    /**
     * Binds the repacked layout of {@code matrices} (the I2_S ones with a lookup form; others are left alone) for
     * {@code threads} compute threads to this cache: maps a valid cache file of {@code source}, or else points the
     * matrices at a new file to pack into. Any trouble with the directory or a file leaves the matrices to pack
     * into memory as without a cache; it never fails a load.
     */
    public Binding bind(Path source, List<WeightMatrix> matrices, int threads) {
        List<TernaryLut> luts = new ArrayList<>();
        long packed = 0;
        for (WeightMatrix m : matrices) {
            if (m instanceof I2sMatrix i && i.lut != null && i.lut.layoutShareBlocks() == 0) {
                luts.add(i.lut);
                packed += i.lut.packedBytes();
            }
        }
        if (source == null || luts.isEmpty() || packed < minBytes) {
            return NONE;
        }
        try {
            Path abs = source.toAbsolutePath().normalize();
            Identity id = new Identity(abs, Files.size(abs), Files.getLastModifiedTime(abs).toMillis(), threads);
            Layout layout = new Layout(luts, id);
            Path file = directory.resolve(fileName(abs, threads));
            if (Files.isRegularFile(file) && adopt(file, layout, luts)) {
                return new Settled(new Result(true, Optional.of(file)));
            }
            return create(file, layout, luts);
        } catch (IOException | RuntimeException e) {
            return NONE;
        }
    }

    /** The model file and the thread count a layout is for. */
    private record Identity(Path source, long size, long modifiedMillis, int threads) {}

    /**
     * Where everything goes in a file: the header (identity, then per matrix its shape, share size, data offset and
     * length, fingerprint and block states), then each matrix's packed bytes at a page boundary.
     */
    private static final class Layout {
        final Identity id;
        final byte[] path;
        final long[] offsets;
        final long headerBytes;
        final long totalBytes;
        final long[] fingerprints;

        Layout(List<TernaryLut> luts, Identity id) {
            this.id = id;
            this.path = id.source().toString().getBytes(StandardCharsets.UTF_8);
            long header = 8 + 4 + 8 + 8 + 4 + 4 + 4 + path.length;
            fingerprints = new long[luts.size()];
            for (int i = 0; i < luts.size(); i++) {
                TernaryLut l = luts.get(i);
                header += 4 * 4 + 8 + 8 + 8 + l.blocks;
                fingerprints[i] = fingerprint(l);
            }
            headerBytes = header;
            offsets = new long[luts.size()];
            long at = align(header);
            for (int i = 0; i < luts.size(); i++) {
                offsets[i] = at;
                at = align(at + luts.get(i).packedBytes());
            }
            totalBytes = at;
        }

        /** The header for the layout as packed now. */
        ByteBuffer header(List<TernaryLut> luts) {
            ByteBuffer b = ByteBuffer.allocate((int) headerBytes).order(ByteOrder.LITTLE_ENDIAN);
            b.putLong(MAGIC).putInt(VERSION).putLong(id.size()).putLong(id.modifiedMillis()).putInt(id.threads())
                    .putInt(luts.size()).putInt(path.length).put(path);
            for (int i = 0; i < luts.size(); i++) {
                TernaryLut l = luts.get(i);
                b.putInt(l.in).putInt(l.out).putInt(l.layoutShareBlocks()).putInt(l.blocks).putLong(offsets[i])
                        .putLong(l.packedBytes()).putLong(fingerprints[i]).put(l.blockStates());
            }
            return b.flip();
        }
    }

    private static long align(long at) {
        return (at + ALIGN - 1) / ALIGN * ALIGN;
    }

    /** The cache file's name: a hash of the model's absolute path, and the thread count. */
    private static String fileName(Path abs, int threads) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(abs.toString().getBytes(StandardCharsets.UTF_8));
            String name = abs.getFileName() == null ? "model" : abs.getFileName().toString();
            name = name.replaceAll("[^A-Za-z0-9._-]", "_");
            return name + "-" + HexFormat.of().formatHex(h, 0, 8) + "-t" + threads + SUFFIX;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    /** CRC-32C of the shape and of the first and last bytes of the I2_S data the layout is packed from. */
    private static long fingerprint(TernaryLut l) {
        CRC32C crc = new CRC32C();
        MemorySegment d = l.source().data;
        long n = Math.min(FINGERPRINT_BYTES, d.byteSize());
        crc.update(d.asSlice(0, n).asByteBuffer());
        crc.update(d.asSlice(d.byteSize() - n, n).asByteBuffer());
        return (long) l.in << 32 ^ (long) l.out << 48 ^ crc.getValue();
    }

    /** Maps {@code file} and hands its layout to the matrices if its header matches in every point. */
    private static boolean adopt(Path file, Layout layout, List<TernaryLut> luts) throws IOException {
        MemorySegment map;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            if (ch.size() != layout.totalBytes) {
                return false;
            }
            map = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), Arena.ofAuto());
        }
        ByteBuffer h = map.asSlice(0, layout.headerBytes).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        Identity id = layout.id;
        if (h.getLong() != MAGIC || h.getInt() != VERSION || h.getLong() != id.size()
                || h.getLong() != id.modifiedMillis() || h.getInt() != id.threads() || h.getInt() != luts.size()) {
            return false;
        }
        if (h.getInt() != layout.path.length) { // compared before anything is sized by it
            return false;
        }
        byte[] path = new byte[layout.path.length];
        h.get(path);
        if (!java.util.Arrays.equals(path, layout.path)) {
            return false;
        }
        byte[][] states = new byte[luts.size()][];
        int[] shares = new int[luts.size()];
        for (int i = 0; i < luts.size(); i++) {
            TernaryLut l = luts.get(i);
            if (h.getInt() != l.in || h.getInt() != l.out) {
                return false;
            }
            shares[i] = h.getInt();
            if (shares[i] != (l.blocks + id.threads() - 1) / id.threads() || h.getInt() != l.blocks
                    || h.getLong() != layout.offsets[i] || h.getLong() != l.packedBytes()
                    || h.getLong() != layout.fingerprints[i]) {
                return false;
            }
            states[i] = new byte[l.blocks];
            h.get(states[i]);
        }
        for (int i = 0; i < luts.size(); i++) {
            luts.get(i).adopt(map.asSlice(layout.offsets[i], luts.get(i).packedBytes()), states[i], shares[i]);
        }
        return true;
    }

    /** A temporary file of the layout's size, mapped, each matrix set to pack into its part of it. */
    private Binding create(Path file, Layout layout, List<TernaryLut> luts) throws IOException {
        Files.createDirectories(directory);
        removeStale();
        // the file is packed through a mapping of a sparse file: a disk that fills up meanwhile would fault the
        // packing threads, so a cache that does not fit with room to spare is not started
        if (Files.getFileStore(directory).getUsableSpace() < layout.totalBytes + MIN_FREE_BYTES) {
            return NONE;
        }
        Path tmp = Files.createTempFile(directory, file.getFileName().toString(), ".tmp");
        MemorySegment map;
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ch.truncate(0);
            ch.write(ByteBuffer.wrap(new byte[1]), layout.totalBytes - 1); // the size, as a sparse file
            map = ch.map(FileChannel.MapMode.READ_WRITE, 0, layout.totalBytes, Arena.ofAuto());
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        for (int i = 0; i < luts.size(); i++) {
            luts.get(i).packInto(map.asSlice(layout.offsets[i], luts.get(i).packedBytes()));
        }
        return new Binding() {
            @Override
            public boolean fromCache() {
                return false;
            }

            @Override
            public Result commit() {
                try {
                    MemorySegment.copy(MemorySegment.ofBuffer(layout.header(luts)), 0, map, 0, layout.headerBytes);
                    map.force();
                    try {
                        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                    } catch (AtomicMoveNotSupportedException e) {
                        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
                    }
                    return new Result(false, Optional.of(file));
                } catch (IOException | RuntimeException e) {
                    // the weights are packed and usable; only the next load will repack again
                    try {
                        Files.deleteIfExists(tmp);
                    } catch (IOException ignored) {
                        // left for removeStale
                    }
                    return Result.NOT_CACHED;
                }
            }
        };
    }

    /** Removes cache files whose model file is gone and temporary files older than a day. */
    private void removeStale() {
        Instant dayAgo = Instant.now().minus(Duration.ofDays(1));
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory)) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                try {
                    if (name.endsWith(".tmp")) {
                        if (Files.getLastModifiedTime(f).compareTo(FileTime.from(dayAgo)) < 0) {
                            Files.deleteIfExists(f);
                        }
                    } else if (name.endsWith(SUFFIX)) {
                        Optional<Path> src = sourceOf(f);
                        if (src.isPresent() && !Files.exists(src.get())) {
                            Files.deleteIfExists(f);
                        }
                    }
                } catch (IOException | RuntimeException ignored) {
                    // another process may be at the same file; it is looked at again next time
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The model file a cache file was made from, read from its header; empty if it is not one of ours. */
    static Optional<Path> sourceOf(Path cacheFile) throws IOException {
        try (FileChannel ch = FileChannel.open(cacheFile, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(8 + 4 + 8 + 8 + 4 + 4 + 4).order(ByteOrder.LITTLE_ENDIAN);
            if (ch.read(b, 0) < b.capacity()) {
                return Optional.empty();
            }
            b.flip();
            if (b.getLong() != MAGIC || b.getInt() != VERSION) {
                return Optional.empty();
            }
            b.position(b.capacity() - 4);
            int len = b.getInt();
            if (len < 1 || len > 1 << 16) {
                return Optional.empty();
            }
            ByteBuffer p = ByteBuffer.allocate(len);
            ch.read(p, b.capacity());
            return Optional.of(Path.of(new String(p.array(), 0, p.position(), StandardCharsets.UTF_8)));
        }
    }
}
