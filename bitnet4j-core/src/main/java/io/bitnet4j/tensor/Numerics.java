package io.bitnet4j.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

/**
 * The scalar rounding and conversion rules of the reference engines (ggml, bitnet.cpp), spelled out once so that
 * every encoder, activation format and reference kernel rounds the same way.
 */
final class Numerics {
    private Numerics() {}

    static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * ggml's {@code nearest_int}: adds 1.5*2^23 in float so the FPU rounds to an integer, ties to even. For the
     * magnitudes it is defined on (below 2^22) that is exactly {@link Math#rint}.
     */
    static int nearestInt(float x) {
        return (int) Math.rint(x);
    }

    /** C's {@code roundf}/{@code lroundf}: ties away from zero (Math.round would send -2.5 to -2). */
    static int roundHalfAway(float x) {
        // in double, |x| + 0.5 is exact, so floor gives the right answer even just below a tie
        double r = Math.floor(Math.abs((double) x) + 0.5);
        return (int) (x < 0 ? -r : r);
    }

    /** The value {@code x} takes once stored as IEEE half (round to nearest even, as F16C and ggml do). */
    static float roundToF16(float x) {
        return Float.float16ToFloat(Float.floatToFloat16(x));
    }

    /** ggml's fp32 to bf16: round to nearest even on the top 16 bits; NaN stays a quiet NaN. */
    static short toBf16Bits(float x) {
        int u = Float.floatToRawIntBits(x);
        if ((u & 0x7fffffff) > 0x7f800000) {
            return (short) ((u >>> 16) | 64);
        }
        return (short) ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16);
    }

    static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    static float roundToBf16(float x) {
        return bf16ToFloat(toBf16Bits(x));
    }

    /** fp16 stored little-endian at {@code offset}, as a float. */
    static float f16At(MemorySegment seg, long offset) {
        return Float.float16ToFloat(seg.get(LE_SHORT, offset));
    }

    /**
     * ggml's {@code hsum_float_8} (x86): the eight lanes of an AVX2 float accumulator added as
     * {@code ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7))}.
     */
    static float hsumFloat8(float[] l) {
        return ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));
    }

    /**
     * The int32 lane (0..7) in which ggml's AVX2 k-quant and TQ dot kernels collect value {@code e} of a 256-value
     * block: {@code maddubs} pairs adjacent bytes of each 32-byte load and {@code madd} pairs adjacent int16s, so
     * lane m holds the values with {@code e % 32} in [4m, 4m+4).
     */
    static int avx2Lane(int e) {
        return (e & 31) >> 2;
    }

    /*
     * The vector kernels of the Q8_K types (TQ1_0, TQ2_0, Q6_K) rebuild avx2Lane's eight int lanes per block from
     * int16 lanes that each hold one value of e % 32: adjacent int16 lanes are added into int32 lanes (e % 32 in
     * {2i, 2i+1}), adjacent int32 lanes into the eight lanes. Integer sums are exact, so only this grouping has to
     * follow ggml; the float epilogue then matches the reference dots bit for bit.
     */

    /**
     * Sums of adjacent int16 lane pairs {2i, 2i+1} as int32 lane i (half as many lanes, same bit size), for sums
     * that fit in int16: adding each int to itself shifted up by 16 bits leaves the pair's sum in its top half.
     */
    static IntVector pairSums(ShortVector v) {
        IntVector pairs = v.reinterpretAsInts();
        return pairs.add(pairs.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
    }

    /**
     * Sums of adjacent int32 lane pairs {2i, 2i+1} of a 512-bit vector as the 8 lanes of a 256-bit one: the low
     * int of {@code x + (x >>> 32)} on each long is the sum of its two ints. Applied to int32 lanes holding the
     * sums over e % 32 in {2i, 2i+1}, this gives the eight {@link #avx2Lane} sums in order.
     */
    static IntVector pairSums(IntVector v) {
        LongVector x = v.reinterpretAsLongs();
        return (IntVector) x.add(x.lanewise(VectorOperators.LSHR, 32))
                .convertShape(VectorOperators.L2I, IntVector.SPECIES_256, 0);
    }

    /**
     * The eight {@link #avx2Lane} sums of a block from two 256-bit vectors of pair sums ({@code low}: e % 32 in
     * [0, 16), {@code high}: [16, 32)), interleaved: lane 2j holds avx2Lane j, lane 2j+1 avx2Lane 4+j. Each long
     * adds its two ints into its low int ({@code low}) or its high int ({@code high}); masks keep those halves.
     */
    static IntVector avx2LanesInterleaved(IntVector low, IntVector high) {
        LongVector l = low.reinterpretAsLongs();
        LongVector h = high.reinterpretAsLongs();
        return l.add(l.lanewise(VectorOperators.LSHR, 32)).and(0xffffffffL)
                .or(h.add(h.lanewise(VectorOperators.LSHL, 32)).and(0xffffffff00000000L)).reinterpretAsInts();
    }

    /** Puts the lanes of {@link #avx2LanesInterleaved}'s order back in avx2Lane order. */
    static final VectorShuffle<Float> INTERLEAVED_TO_AVX2 =
            VectorShuffle.fromValues(FloatVector.SPECIES_256, 0, 2, 4, 6, 1, 3, 5, 7);

    /** {@link #hsumFloat8(float[])} of an 8-lane accumulator in avx2Lane order. */
    static float hsumFloat8(FloatVector l) {
        return ((l.lane(0) + l.lane(4)) + (l.lane(2) + l.lane(6))) + ((l.lane(1) + l.lane(5)) + (l.lane(3) + l.lane(7)));
    }
}
