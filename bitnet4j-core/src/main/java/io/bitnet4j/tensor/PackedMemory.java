package io.bitnet4j.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.ref.WeakReference;
import java.util.Optional;

/**
 * Off-heap memory for weights repacked at load, freed when no longer reachable.
 *
 * <p>Where the C library is reachable through the FFM linker (Linux), the memory comes from {@code malloc} and is
 * advised to the kernel as transparent huge pages ({@code madvise(MADV_HUGEPAGE)}), because the first touch of each
 * page is what loading costs: in a VM, 480 MB of fresh 4 KB pages took 1.4 s to touch, of 2 MB pages 0.6-0.9 s
 * (zeroing, which {@link Arena#allocate} adds, is small beside it; packing writes every byte anyway). Elsewhere, or
 * if a call fails, or without {@code --enable-native-access} (or with {@code -Dbitnet4j.hugePages=false}), the memory
 * comes from {@link Arena#ofAuto()}. Nothing here needs a native build: the calls go to
 * the C library every JDK process already has loaded.
 */
final class PackedMemory {
    private static final long HUGE_PAGE = 2L << 20;
    private static final int MADV_HUGEPAGE = 14;
    /** malloc, free, madvise; null where unavailable. */
    private static final MethodHandle MALLOC;
    private static final MethodHandle FREE;
    private static final MethodHandle MADVISE;

    static {
        MethodHandle malloc = null;
        MethodHandle free = null;
        MethodHandle madvise = null;
        // without native access the linker would print a warning on every JVM that embeds the library
        if (System.getProperty("os.name", "").startsWith("Linux") && PackedMemory.class.getModule()
                .isNativeAccessEnabled() && !"false".equals(System.getProperty("bitnet4j.hugePages"))) {
            try {
                Linker linker = Linker.nativeLinker();
                SymbolLookup libc = linker.defaultLookup();
                Optional<MemorySegment> m = libc.find("malloc");
                Optional<MemorySegment> f = libc.find("free");
                Optional<MemorySegment> a = libc.find("madvise");
                if (m.isPresent() && f.isPresent() && a.isPresent()) {
                    malloc = linker.downcallHandle(m.get(), FunctionDescriptor.of(ValueLayout.ADDRESS,
                            ValueLayout.JAVA_LONG));
                    free = linker.downcallHandle(f.get(), FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
                    madvise = linker.downcallHandle(a.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                            ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
                }
            } catch (RuntimeException e) { // the linker refused: the plain allocation serves
                malloc = free = madvise = null;
            }
        }
        MALLOC = malloc;
        FREE = free;
        MADVISE = madvise;
    }

    private PackedMemory() {}

    /** Allocations are carved from slabs this large, so that small matrices get huge pages too. */
    private static final long SLAB = 64L << 20;
    /**
     * The slab being carved, held weakly: its allocations keep its memory alive, and once none is left (every model
     * using it closed and collected) it is freed rather than kept for allocations that may never come.
     */
    private static WeakReference<MemorySegment> slab = new WeakReference<>(null);
    private static long slabUsed;

    /**
     * {@code bytes} of memory aligned to 64 bytes, contents unspecified (the caller writes all of it), freed once
     * unreachable (a slab once none of its allocations is reachable).
     */
    static synchronized MemorySegment allocate(long bytes) {
        if (MALLOC == null) {
            return Arena.ofAuto().allocate(bytes, 64);
        }
        long size = (bytes + 63) & -64;
        if (size > SLAB / 4) {
            return hugePages(size).asSlice(0, bytes);
        }
        MemorySegment current = slab.get();
        if (current == null || slabUsed + size > current.byteSize()) {
            current = hugePages(SLAB);
            slab = new WeakReference<>(current);
            slabUsed = 0;
        }
        MemorySegment s = current.asSlice(slabUsed, bytes);
        slabUsed += size;
        return s;
    }

    /** {@code bytes} from malloc, aligned to and advised as huge pages; or from an automatic arena. */
    private static MemorySegment hugePages(long bytes) {
        try {
            MemorySegment raw = (MemorySegment) MALLOC.invokeExact(bytes + HUGE_PAGE);
            if (!raw.equals(MemorySegment.NULL)) {
                // free(raw) once every slice of it (each keeps the arena alive) is unreachable
                MemorySegment owned = raw.reinterpret(bytes + HUGE_PAGE, Arena.ofAuto(), PackedMemory::free);
                MemorySegment aligned = owned.asSlice(-raw.address() & (HUGE_PAGE - 1), bytes);
                long whole = bytes & -HUGE_PAGE;
                if (whole > 0) {
                    int ignored = (int) MADVISE.invokeExact(aligned, whole, MADV_HUGEPAGE); // refused: 4 KB pages
                }
                return aligned;
            }
        } catch (Throwable e) {
            // the plain allocation below
        }
        return Arena.ofAuto().allocate(bytes, 64);
    }

    private static void free(MemorySegment raw) {
        try {
            FREE.invokeExact(raw);
        } catch (Throwable e) {
            throw new IllegalStateException("free failed", e);
        }
    }
}
