package io.bitnet4j.tensor;

/**
 * How a weight type wants its input vector prepared before the dot products — the reference engines convert the
 * activation row to the weight type's "vec_dot type" first, and matching their output means matching that step.
 */
public enum ActivationFormat {
    /** Plain float (F32 weights). */
    F32,
    /** Rounded to IEEE half (F16 weights; ggml's vec_dot_type F16). */
    F16,
    /** Rounded to bfloat16 (BF16 weights). */
    BF16,
    /** One int8 row per token with absmax scale 127/max and the row's code sum (bitnet.cpp's I2_S). */
    I8_ROW,
    /** Blocks of 32: fp16 scale + 32 int8 (Q8_0 weights). */
    Q8_0,
    /** Blocks of 256: float scale, 256 int8, 16 block sums (TQ1_0, TQ2_0, Q6_K weights; llama.cpp's Q8_K). */
    Q8_K
}
