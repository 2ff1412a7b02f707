package io.bitnet4j.gguf;

/** A GGUF file that cannot be used, with a message that names the problem and where it is. */
public final class GgufException extends RuntimeException {
    public GgufException(String message) {
        super(message);
    }

    public GgufException(String message, Throwable cause) {
        super(message, cause);
    }
}
