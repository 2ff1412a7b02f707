package io.bitnet4j.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Zeroed off-heap memory for the weights repacked at load (hundreds of MB), on Linux in 2 MB pages where the kernel
 * allows them. {@link Arena#allocate} zero-fills on one thread, faulting in 4 KB pages; a fresh anonymous mapping is
 * already zero and is faulted in by whichever thread writes it first, so the threads repacking their shares of a
 * matrix also share the faults, and {@code madvise(MADV_HUGEPAGE)} makes them 512 times fewer (transparent huge
 * pages in their default "madvise" mode). Measured on the 2-vCPU VM this project benchmarks on: first writes to
 * 520 MB took 1.5-2.0 s in 4 KB pages and 0.96-0.99 s in 2 MB pages, on one thread. The calls go through the FFM
 * linker to the C library already in the process (no native code of ours); anywhere they are not available (other
 * systems, native access not enabled, {@code -Dbitnet4j.largePages=false}), memory comes from {@link Arena#ofAuto()}.
 * With this, repacking the 2B-4T layout's ternary weights at load (on 2 threads) took 1.78-2.02 s instead of
 * 2.45-2.65 s, three runs each alternating.
 */
final class LargePages {
    private static final long HUGE_PAGE = 2L << 20;
    private static final int PROT_READ_WRITE = 0x3;
    private static final int MAP_PRIVATE_ANONYMOUS = 0x22;
    private static final int MADV_HUGEPAGE = 14;
    private static final MethodHandle MMAP;
    private static final MethodHandle MADVISE;
    private static final MethodHandle MUNMAP;

    static {
        MethodHandle mmap = null;
        MethodHandle madvise = null;
        MethodHandle munmap = null;
        // without native access the JDK would warn on the first downcall: stay portable instead
        if (System.getProperty("os.name", "").startsWith("Linux") && LargePages.class.getModule().isNativeAccessEnabled()
                && Boolean.parseBoolean(System.getProperty("bitnet4j.largePages", "true"))) {
            try {
                Linker linker = Linker.nativeLinker();
                SymbolLookup libc = linker.defaultLookup();
                mmap = linker.downcallHandle(libc.find("mmap").orElseThrow(), FunctionDescriptor.of(
                        ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
                madvise = linker.downcallHandle(libc.find("madvise").orElseThrow(), FunctionDescriptor.of(
                        ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
                munmap = linker.downcallHandle(libc.find("munmap").orElseThrow(), FunctionDescriptor.of(
                        ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
            } catch (RuntimeException | LinkageError e) { // IllegalCallerException: native access not enabled
                mmap = madvise = munmap = null;
            }
        }
        MMAP = mmap;
        MADVISE = madvise;
        MUNMAP = munmap;
    }

    private LargePages() {}

    /** Whether {@link #allocate} maps memory itself (else it falls back to {@link Arena#ofAuto()}). */
    static boolean available() {
        return MMAP != null;
    }

    /** {@code bytes} of zeroed memory, aligned to 64 bytes at least, freed once no longer reachable. */
    static MemorySegment allocate(long bytes) {
        if (MMAP != null) {
            try {
                // over-allocate one huge page so the segment can start on a huge-page boundary
                long length = bytes + HUGE_PAGE;
                long base = ((MemorySegment) MMAP.invokeExact(MemorySegment.NULL, length, PROT_READ_WRITE,
                        MAP_PRIVATE_ANONYMOUS, -1, 0L)).address();
                if (base != -1L) { // MAP_FAILED
                    long start = (base + HUGE_PAGE - 1) & -HUGE_PAGE;
                    int ignored = (int) MADVISE.invokeExact(start, bytes, MADV_HUGEPAGE); // a hint: failure is fine
                    MethodHandle munmap = MUNMAP;
                    return MemorySegment.ofAddress(start).reinterpret(bytes, Arena.ofAuto(), unused -> {
                        try {
                            int rc = (int) munmap.invokeExact(base, length);
                        } catch (Throwable e) {
                            throw new IllegalStateException("munmap failed", e);
                        }
                    });
                }
            } catch (Throwable e) {
                // fall through to the portable allocation
            }
        }
        return Arena.ofAuto().allocate(bytes, 64);
    }
}
