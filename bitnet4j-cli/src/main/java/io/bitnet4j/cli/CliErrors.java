package io.bitnet4j.cli;

import io.bitnet4j.gguf.GgufException;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;

/** Turns the exceptions a command can end with into the one line a user reads. */
final class CliErrors {
    private CliErrors() {}

    static String describe(Throwable ex) {
        if (ex instanceof GgufException || ex instanceof IllegalArgumentException) {
            return ex.getMessage();
        }
        if (ex instanceof UncheckedIOException u) {
            return describe(u.getCause());
        }
        if (ex instanceof NoSuchFileException n) {
            return "no such file: " + n.getFile();
        }
        if (ex instanceof java.io.IOException) {
            return ex.getMessage();
        }
        return ex.getClass().getSimpleName() + ": " + ex.getMessage()
                + " (set BITNET4J_DEBUG=1 for the stack trace)";
    }
}
