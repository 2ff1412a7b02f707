package io.bitnet4j.generate;

/** The outcome of one generation: the tokens, the text they decode to (minus a matched stop string) and timings. */
public record GenerationResult(int[] promptIds, int[] generatedIds, String text, StopReason stopReason, Timings timings) {}
