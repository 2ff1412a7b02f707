package io.bitnet4j.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Encoders: float weights to the bytes a GGUF file holds for a type, as the reference tools write them (llama.cpp's
 * {@code quantize_row_*_ref}, bitnet.cpp's {@code quantize_i2_s}). Used to build models and test data.
 */
public final class Quantize {
    private Quantize() {}

    /**
     * Encodes a whole row-major tensor of {@code values.length / rowLength} rows.
     *
     * @return exactly {@code type.byteSize(rowLength, rows)} bytes
     * @throws IllegalArgumentException for a type without an encoder or a shape the type cannot hold
     */
    public static byte[] encode(GgmlType type, float[] values, int rowLength) {
        if (rowLength <= 0 || values.length % rowLength != 0) {
            throw new IllegalArgumentException(values.length + " values do not form rows of " + rowLength);
        }
        if (rowLength % type.blockSize != 0) {
            throw new IllegalArgumentException(type + " needs a row length that is a multiple of " + type.blockSize
                    + ", got " + rowLength);
        }
        int rows = values.length / rowLength;
        byte[] out = new byte[Math.toIntExact(type.byteSize(rowLength, rows))];
        MemorySegment dst = MemorySegment.ofArray(out);
        switch (type) {
            case F32 -> {
                for (int i = 0; i < values.length; i++) {
                    dst.set(Numerics.LE_FLOAT, 4L * i, values[i]);
                }
            }
            case F16 -> {
                for (int i = 0; i < values.length; i++) {
                    dst.set(Numerics.LE_SHORT, 2L * i, Float.floatToFloat16(values[i]));
                }
            }
            case BF16 -> {
                for (int i = 0; i < values.length; i++) {
                    dst.set(Numerics.LE_SHORT, 2L * i, Numerics.toBf16Bits(values[i]));
                }
            }
            case Q8_0 -> forEachBlock(values, type, dst, Quantize::q8_0Block);
            case Q6_K -> forEachBlock(values, type, dst, Quantize::q6KBlock);
            case TQ2_0 -> forEachBlock(values, type, dst, Quantize::tq2Block);
            case TQ1_0 -> forEachBlock(values, type, dst, Quantize::tq1Block);
            case I2_S -> i2s(values, dst);
            default -> throw new IllegalArgumentException("no encoder for " + type);
        }
        return out;
    }

    private interface BlockEncoder {
        void encode(float[] x, int off, MemorySegment dst, long base);
    }

    private static void forEachBlock(float[] values, GgmlType type, MemorySegment dst, BlockEncoder encoder) {
        for (int b = 0; b < values.length / type.blockSize; b++) {
            encoder.encode(values, b * type.blockSize, dst, (long) b * type.blockBytes);
        }
    }

    private static void putByte(MemorySegment dst, long offset, int v) {
        dst.set(ValueLayout.JAVA_BYTE, offset, (byte) v);
    }

    private static void putF16(MemorySegment dst, long offset, float v) {
        dst.set(Numerics.LE_SHORT, offset, Float.floatToFloat16(v));
    }

    /** quantize_row_q8_0_ref: d = amax/127 (fp16), q = roundf(x * 1/d). */
    private static void q8_0Block(float[] x, int off, MemorySegment dst, long base) {
        float amax = 0;
        for (int i = 0; i < 32; i++) {
            amax = Math.max(amax, Math.abs(x[off + i]));
        }
        float d = amax / 127;
        float id = d != 0 ? 1f / d : 0f;
        putF16(dst, base, d);
        for (int i = 0; i < 32; i++) {
            putByte(dst, base + 2 + i, Numerics.roundHalfAway(x[off + i] * id));
        }
    }

    /** quantize_row_tq2_0_ref: d = absmax (fp16), code = lroundf(x/d) + 1 at bits 2n of qs[32g+m]. */
    private static void tq2Block(float[] x, int off, MemorySegment dst, long base) {
        float d = absMax(x, off, 256);
        float id = d != 0 ? 1f / d : 0f;
        for (int e = 0; e < 256; e++) {
            int code = (Numerics.roundHalfAway(x[off + e] * id) + 1) & 3;
            long at = base + 32 * (e >> 7) + (e & 31);
            putByte(dst, at, dst.get(ValueLayout.JAVA_BYTE, at) | code << (2 * ((e >> 5) & 3)));
        }
        putF16(dst, base + Tq2Matrix.D, d);
    }

    /**
     * quantize_row_tq1_0_ref: d = absmax (fp16); trits lroundf(x/d)+1 packed 5 (or 4, then shifted up one trit) to
     * a byte as {@code ceil(256*v/243)} — the value index mapping is in {@link Tq1Matrix}.
     */
    private static void tq1Block(float[] x, int off, MemorySegment dst, long base) {
        float d = absMax(x, off, 256);
        float id = d != 0 ? 1f / d : 0f;
        for (int m = 0; m < 32; m++) {
            putByte(dst, base + m, packTrits(x, off + m, 32, 5, id));
        }
        for (int m = 0; m < 16; m++) {
            putByte(dst, base + 32 + m, packTrits(x, off + 160 + m, 16, 5, id));
        }
        for (int j = 0; j < 4; j++) {
            putByte(dst, base + Tq1Matrix.QH + j, packTrits(x, off + 240 + j, 4, 4, id));
        }
        putF16(dst, base + Tq1Matrix.D, d);
    }

    /** {@code count} trits of x[first], x[first+stride], ... (first most significant) as one TQ1_0 byte. */
    private static int packTrits(float[] x, int first, int stride, int count, float id) {
        int v = 0;
        for (int n = 0; n < 5; n++) {
            int trit = n < count ? Numerics.roundHalfAway(x[first + n * stride] * id) + 1 : 0;
            v = (v * 3 + trit) & 0xff;
        }
        return (v * 256 + 242) / 243;
    }

    private static float absMax(float[] x, int off, int n) {
        float amax = 0;
        for (int i = 0; i < n; i++) {
            amax = Math.max(amax, Math.abs(x[off + i]));
        }
        return amax;
    }

    /**
     * quantize_row_q6_K_ref: each 16 values get a float scale from {@link #makeQxQuants}; those scales are
     * quantized to int8 against the block's largest one ({@code d = fp16(max_scale / -128)}), and the values are
     * re-quantized against the int8 scale they will really be decoded with.
     */
    private static void q6KBlock(float[] x, int off, MemorySegment dst, long base) {
        byte[] codes = new byte[256];
        float[] scales = new float[16];
        float maxScale = 0;
        float maxAbsScale = 0;
        for (int ib = 0; ib < 16; ib++) {
            float scale = makeQxQuants(x, off + 16 * ib, codes, 16 * ib);
            scales[ib] = scale;
            if (Math.abs(scale) > maxAbsScale) {
                maxAbsScale = Math.abs(scale);
                maxScale = scale;
            }
        }
        if (maxAbsScale < 1e-15f) {
            return; // an all-zero block: every byte 0, d = +0
        }
        float iscale = -128f / maxScale;
        putF16(dst, base + Q6KMatrix.D, 1 / iscale);
        float d = Numerics.f16At(dst, base + Q6KMatrix.D);
        for (int ib = 0; ib < 16; ib++) {
            int sc = Math.min(127, Numerics.nearestInt(iscale * scales[ib]));
            putByte(dst, base + Q6KMatrix.SCALES + ib, sc);
            float ds = d * (byte) sc;
            if (ds == 0) {
                continue; // keeps the codes makeQxQuants chose
            }
            for (int i = 16 * ib; i < 16 * ib + 16; i++) {
                codes[i] = (byte) (Math.clamp(Numerics.nearestInt(x[off + i] / ds), -32, 31) + 32);
            }
        }
        for (int half = 0; half < 2; half++) {
            int c = 128 * half;
            for (int l = 0; l < 32; l++) {
                putByte(dst, base + 64 * half + l, (codes[c + l] & 0xf) | (codes[c + l + 64] & 0xf) << 4);
                putByte(dst, base + 64 * half + 32 + l, (codes[c + l + 32] & 0xf) | (codes[c + l + 96] & 0xf) << 4);
                putByte(dst, base + Q6KMatrix.QH + 32 * half + l, (codes[c + l] >> 4) | (codes[c + l + 32] >> 4) << 2
                        | (codes[c + l + 64] >> 4) << 4 | (codes[c + l + 96] >> 4) << 6);
            }
        }
    }

    /**
     * ggml's {@code make_qx_quants(16, 32, x, L, rmse_type=1, NULL)}: codes in [0, 64) for the 16 values at
     * {@code x[off..]} and the scale that minimises the x²-weighted error, searching 19 candidate scales.
     */
    private static float makeQxQuants(float[] x, int off, byte[] codes, int codeOff) {
        final int n = 16;
        final int nmax = 32;
        float max = 0;
        float amax = 0;
        for (int i = 0; i < n; i++) {
            float ax = Math.abs(x[off + i]);
            if (ax > amax) {
                amax = ax;
                max = x[off + i];
            }
        }
        if (amax < 1e-15f) {
            for (int i = 0; i < n; i++) {
                codes[codeOff + i] = 0;
            }
            return 0f;
        }
        float iscale = -nmax / max;
        float sumlx = 0;
        float suml2 = 0;
        for (int i = 0; i < n; i++) {
            int l = Math.clamp(Numerics.nearestInt(iscale * x[off + i]), -nmax, nmax - 1);
            codes[codeOff + i] = (byte) (l + nmax);
            float w = x[off + i] * x[off + i];
            sumlx += w * x[off + i] * l;
            suml2 += w * l * l;
        }
        float scale = suml2 != 0 ? sumlx / suml2 : 0f;
        float best = scale * sumlx;
        for (int is = -9; is <= 9; is++) {
            if (is == 0) {
                continue;
            }
            iscale = -(nmax + 0.1f * is) / max;
            sumlx = 0;
            suml2 = 0;
            for (int i = 0; i < n; i++) {
                int l = Math.clamp(Numerics.nearestInt(iscale * x[off + i]), -nmax, nmax - 1);
                float w = x[off + i] * x[off + i];
                sumlx += w * x[off + i] * l;
                suml2 += w * l * l;
            }
            if (suml2 > 0 && sumlx * sumlx > best * suml2) {
                for (int i = 0; i < n; i++) {
                    int l = Math.clamp(Numerics.nearestInt(iscale * x[off + i]), -nmax, nmax - 1);
                    codes[codeOff + i] = (byte) (l + nmax);
                }
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }

    /**
     * bitnet.cpp's {@code quantize_i2_s}: one scale, max|w|, for the whole tensor; each weight keeps only its sign
     * (|w| < 1e-6 counts as 0). The 128-value block layout is in {@link I2sMatrix}; the scale follows the codes.
     */
    private static void i2s(float[] w, MemorySegment dst) {
        float scale = absMax(w, 0, w.length);
        for (int g = 0; g < w.length; g++) {
            int code = Math.abs((double) w[g]) < 1e-6 ? 1 : (double) w[g] * scale > 0 ? 2 : 0;
            int j = g % I2sMatrix.BLOCK;
            long at = (long) g / I2sMatrix.BLOCK * I2sMatrix.BLOCK_BYTES + (j & 31);
            putByte(dst, at, dst.get(ValueLayout.JAVA_BYTE, at) | code << (6 - 2 * (j >> 5)));
        }
        dst.set(Numerics.LE_FLOAT, w.length / 4, scale);
    }
}
