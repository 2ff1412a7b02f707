package io.bitnet4j.hub;

import java.io.IOException;
import java.io.UncheckedIOException;

/** A download from the Hugging Face hub failed; the message says why and, where there is one, what to do. */
public final class HubException extends UncheckedIOException {
    public HubException(String message) {
        super(message, new IOException(message));
    }

    public HubException(String message, Throwable cause) {
        super(message, new IOException(message, cause));
    }
}
