package io.bitnet4j.json;

/** Malformed or oversized JSON, with a message that says where (line, column, offset) and what is wrong. */
public final class JsonException extends IllegalArgumentException {
    public JsonException(String message) {
        super(message);
    }
}
