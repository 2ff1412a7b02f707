package io.bitnet4j.generate;

/** Why a generation ended. */
public enum StopReason {
    /** The model produced an end-of-generation token (EOS, EOT...). */
    END_OF_GENERATION,
    /** One of the requested stop strings appeared. */
    STOP_STRING,
    /** The requested number of tokens was generated. */
    MAX_TOKENS,
    /** The session's context is full. */
    CONTEXT_FULL,
    /** {@link Session#cancel()} was called. */
    CANCELLED
}
