package io.bitnet4j.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * Locates the project's shared reference data (tokenizer vectors, oracle models written by bitnet.cpp / llama.cpp).
 * It lives outside the repository: {@code $BITNET4J_SHARED} if set, else the nearest ancestor directory of the
 * working directory that has a {@code shared/testdata} folder. Tests that need it call {@link #require}, which
 * reports the test as skipped, with the reason, on a clone without it.
 */
public final class SharedTestData {
    private SharedTestData() {}

    /** The {@code shared} directory, or null when absent. */
    public static Path root() {
        String env = System.getenv("BITNET4J_SHARED");
        if (env != null && !env.isBlank()) {
            Path p = Path.of(env);
            return Files.isDirectory(p.resolve("testdata")) ? p : null;
        }
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path candidate = d.resolve("shared");
            if (Files.isDirectory(candidate.resolve("testdata"))) {
                return candidate;
            }
        }
        return null;
    }

    /** {@code shared/testdata/<relative>}, or a skipped test saying why it is not there. */
    public static Path require(String relative) {
        Path root = root();
        Assumptions.assumeTrue(root != null,
                "shared test data not found: set BITNET4J_SHARED or place 'shared/testdata' beside the repository");
        Path p = root.resolve("testdata").resolve(relative);
        Assumptions.assumeTrue(Files.exists(p), "shared test data missing: " + p);
        return p;
    }
}
