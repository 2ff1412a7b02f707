package io.bitnet4j.model;

/**
 * {@code sinf} and {@code cosf} as glibc computes them on x86-64 (glibc 2.28 and later, which took the algorithm
 * from ARM's optimized-routines): the float argument is widened to double, reduced to [-pi/4, pi/4] — by one
 * multiply-subtract with pi/2 below 120, by a 4/pi table and integer arithmetic above — and a short double
 * polynomial is rounded to float once. Every multiply-add is fused: on CPUs with FMA (all AVX2 machines) glibc
 * selects its build compiled with {@code -mfma}, whose results differ from the unfused build near zeros of cos. Its
 * worst error is 0.56 ulp, so about 1% of RoPE's cos/sin values differ by one ulp from a correctly rounded {@code
 * (float) Math.cos(x)}; ggml's RoPE calls these functions, and a one-ulp difference in a rotated key can move an
 * int8 code later on. Checked against the platform's libm over every RoPE angle of 4096 positions in {@code
 * GlibcSinCosTest}.
 */
final class GlibcSinCos {
    private GlibcSinCos() {}

    /** Sign of the result per quadrant. */
    private static final double[] SIGN = {1.0, -1.0, -1.0, 1.0};
    /** 2/pi scaled by 2^24, so that the quadrant lands in bits 24..31 of the truncated product. */
    private static final double HALF_PI_INV_2P24 = 0x1.45F306DC9C883p+23;
    private static final double HALF_PI = 0x1.921FB54442D18p0;
    /** 2pi * 2^-64: the weight of the fixed-point remainder of the large-argument reduction. */
    private static final double PI_2M62 = 0x1.921FB54442D18p-62;
    private static final float QUARTER_PI = 0x1.921FB6p-1f;
    /** Cosine polynomial c0..c4, and its negation (used in quadrants 2 and 3). */
    private static final double[] COS = {0x1p0, -0x1.ffffffd0c621cp-2, 0x1.55553e1068f19p-5, -0x1.6c087e89a359dp-10,
        0x1.99343027bf8c3p-16};
    private static final double[] COS_NEGATED = {-0x1p0, 0x1.ffffffd0c621cp-2, -0x1.55553e1068f19p-5,
        0x1.6c087e89a359dp-10, -0x1.99343027bf8c3p-16};
    /** Sine polynomial s1..s3 (s0 = 1). */
    private static final double S1 = -0x1.555545995a603p-3;
    private static final double S2 = 0x1.1107605230bc4p-7;
    private static final double S3 = -0x1.994eb3774cf24p-13;
    /** 4/pi to 192 bits; entry i holds bits 8i..8i+31, so any 96-bit window is three aligned reads. */
    private static final int[] FOUR_OVER_PI = {0xa2, 0xa2f9, 0xa2f983, 0xa2f9836e, 0xf9836e4e, 0x836e4e44, 0x6e4e4415,
        0x4e441529, 0x441529fc, 0x1529fc27, 0x29fc2757, 0xfc2757d1, 0x2757d1f5, 0x57d1f534, 0xd1f534dd, 0xf534ddc0,
        0x34ddc0db, 0xddc0db62, 0xc0db6295, 0xdb629599, 0x6295993c, 0x95993c43, 0x993c4390, 0x3c439041};

    static float sinf(float y) {
        return eval(y, false);
    }

    static float cosf(float y) {
        return eval(y, true);
    }

    /** The float's exponent and top mantissa bits, sign cleared: a cheap magnitude comparison. */
    private static int top12(float x) {
        return (Float.floatToRawIntBits(x) >>> 20) & 0x7ff;
    }

    private static float eval(float y, boolean cos) {
        double x = y;
        if (top12(y) < top12(QUARTER_PI)) {
            if (top12(y) < top12(0x1p-12f)) {
                return cos ? 1.0f : y;
            }
            return poly(x, x * x, COS, cos ? 1 : 0);
        }
        if (!Float.isFinite(y)) {
            return Float.NaN;
        }
        int quadrant;
        int signQuadrant;
        if (top12(y) < top12(120.0f)) {
            quadrant = ((int) (x * HALF_PI_INV_2P24) + 0x800000) >> 24;
            x = Math.fma(-quadrant, HALF_PI, x);
            signQuadrant = quadrant;
        } else {
            // |y| * 4/pi as a 2.62 fixed-point number from a 96-bit window of 4/pi chosen by the exponent
            int bits = Float.floatToRawIntBits(y);
            int window = (bits >>> 26) & 15;
            int m = ((bits & 0xffffff) | 0x800000) << ((bits >>> 23) & 7);
            long um = m & 0xffffffffL;
            long hi = (m * FOUR_OVER_PI[window]) & 0xffffffffL;
            long mid = um * (FOUR_OVER_PI[window + 4] & 0xffffffffL);
            long lo = um * (FOUR_OVER_PI[window + 8] & 0xffffffffL);
            long fixed = ((lo >>> 32) | (hi << 32)) + mid;
            long n = (fixed + (1L << 61)) >>> 62;
            fixed -= n << 62;
            x = (double) fixed * PI_2M62;
            quadrant = (int) n;
            signQuadrant = quadrant + (bits >>> 31);
        }
        double s = SIGN[signQuadrant & 3];
        double[] c = (signQuadrant & 2) != 0 ? COS_NEGATED : COS;
        return poly(x * s, x * x, c, cos ? quadrant ^ 1 : quadrant);
    }

    /** The sine polynomial for an even quadrant, the cosine polynomial {@code c} for an odd one. */
    private static float poly(double x, double x2, double[] c, int quadrant) {
        if ((quadrant & 1) == 0) {
            double x3 = x * x2;
            double s1 = Math.fma(x2, S3, S2);
            double x7 = x3 * x2;
            double s = Math.fma(x3, S1, x);
            return (float) Math.fma(x7, s1, s);
        }
        double x4 = x2 * x2;
        double c2 = Math.fma(x2, c[4], c[3]);
        double c1 = Math.fma(x2, c[1], c[0]);
        double x6 = x4 * x2;
        double cc = Math.fma(x4, c[2], c1);
        return (float) Math.fma(x6, c2, cc);
    }
}
