package io.bitnet4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * {@link GlibcSinCos} against the real glibc (called through FFM) on every angle RoPE uses in 4096 positions for
 * common frequency bases and head sizes, and on a sweep of other floats; and RoPE's theta scale against powf.
 * Skipped where glibc's libm is not there.
 */
class GlibcSinCosTest {
    @Test
    void matchesGlibcOnRopeAngles() throws Throwable {
        MethodHandle cosf = libm("cosf", 1);
        MethodHandle sinf = libm("sinf", 1);
        MethodHandle powf = libm("powf", 2);
        int checked = 0;
        for (float base : new float[] {10000f, 500000f, 1000042f}) {
            for (int dims : new int[] {64, 100, 128, 256}) {
                // Rope's theta scale: StrictMath.pow rounded to float gives powf's value
                float thetaScale = (float) StrictMath.pow(base, -2.0f / dims);
                assertEquals((float) powf.invokeExact(base, -2.0f / dims), thetaScale, "powf(" + base + ", -2/" + dims + ")");
                for (int pos = 0; pos < 4096; pos++) {
                    float theta = pos;
                    for (int i = 0; i < dims / 2; i++, checked++) {
                        assertEquals((float) cosf.invokeExact(theta), GlibcSinCos.cosf(theta), "cosf(" + theta + ")");
                        assertEquals((float) sinf.invokeExact(theta), GlibcSinCos.sinf(theta), "sinf(" + theta + ")");
                        theta *= thetaScale;
                    }
                }
            }
        }
        for (int bits = 0; bits < 0x7f800000; bits += 0x1001, checked++) {
            float x = Float.intBitsToFloat(bits);
            assertEquals((float) cosf.invokeExact(x), GlibcSinCos.cosf(x), "cosf(" + x + ")");
            assertEquals((float) sinf.invokeExact(-x), GlibcSinCos.sinf(-x), "sinf(" + -x + ")");
        }
        assertEquals(true, checked > 1_000_000);
    }

    /** glibc's function of one float, or a skipped test when this is not Linux with glibc's libm on an FMA CPU. */
    private static MethodHandle libm(String name, int floatArgs) throws java.io.IOException {
        assumeTrue(System.getProperty("os.name").startsWith("Linux"), "glibc is only checked on Linux");
        java.nio.file.Path cpuinfo = java.nio.file.Path.of("/proc/cpuinfo");
        assumeTrue(java.nio.file.Files.exists(cpuinfo) && java.nio.file.Files.readString(cpuinfo).contains(" fma "),
                "glibc uses its FMA build only on CPUs with FMA");
        Optional<MemorySegment> symbol;
        try {
            symbol = SymbolLookup.libraryLookup("libm.so.6", Arena.global()).find(name);
        } catch (IllegalArgumentException e) {
            symbol = Optional.empty();
        }
        assumeTrue(symbol.isPresent(), "no libm.so.6 with " + name);
        return Linker.nativeLinker().downcallHandle(symbol.get(),
                floatArgs == 1 ? FunctionDescriptor.of(ValueLayout.JAVA_FLOAT, ValueLayout.JAVA_FLOAT)
                        : FunctionDescriptor.of(ValueLayout.JAVA_FLOAT, ValueLayout.JAVA_FLOAT, ValueLayout.JAVA_FLOAT));
    }
}
