package io.bitnet4j.model;

import io.bitnet4j.tensor.GgmlType;

/**
 * The engine whose arithmetic a model's forward pass reproduces. The two differ only in how a prompt evaluated as
 * one batch does attention, because their llamafile tinyBLAS (which ggml uses for matmuls of two or more rows)
 * accepts different input types on x86 with AVX-512:
 * <ul>
 *   <li>bitnet.cpp (its llama.cpp fork, 2024): tinyBLAS takes F16×F32 only. K·Q has Q converted to F16 first, so
 *       tinyBLAS declines and ggml_vec_dot_f16 runs; P·V takes the f32 probabilities directly into tinyBLAS.
 *   <li>llama.cpp (upstream, 2025): tinyBLAS takes F16×F16 only. Both K·Q and P·V first convert the f32 operand
 *       to F16 and then run in tinyBLAS.
 * </ul>
 * (ggml-cpu.c {@code ggml_compute_forward_mul_mat}: tries {@code llamafile_sgemm} with the original operand,
 * converts it to the weight's vec_dot type, tries again, then falls back to {@code vec_dot}.)
 * A file with I2_S weights can only have come from bitnet.cpp; every other file is run as llama.cpp runs it.
 */
enum ReferenceEngine {
    BITNET_CPP(false, false),
    LLAMA_CPP(true, true);

    /** Whether a batch computes K·Q with tinyBLAS (else ggml_vec_dot_f16). */
    final boolean batchScoresTinyBlas;
    /** Whether a batch rounds the softmax probabilities to F16 before P·V. */
    final boolean batchProbsF16;

    ReferenceEngine(boolean batchScoresTinyBlas, boolean batchProbsF16) {
        this.batchScoresTinyBlas = batchScoresTinyBlas;
        this.batchProbsF16 = batchProbsF16;
    }

    static ReferenceEngine of(ModelWeights w) {
        return w.layers()[0].wq().type() == GgmlType.I2_S ? BITNET_CPP : LLAMA_CPP;
    }
}
