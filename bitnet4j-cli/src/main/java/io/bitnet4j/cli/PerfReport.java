package io.bitnet4j.cli;

import io.bitnet4j.generate.Timings;
import java.io.PrintWriter;
import java.util.Locale;

/** Timing lines in llama.cpp's words (load, prompt eval, eval, total), printed on stderr. */
final class PerfReport {
    private PerfReport() {}

    static void print(PrintWriter err, long loadNanos, Timings t) {
        double load = loadNanos / 1e6;
        err.println(String.format(Locale.ROOT, "bitnet4j:        load time = %10.2f ms", load));
        err.println(String.format(Locale.ROOT,
                "bitnet4j: prompt eval time = %10.2f ms / %5d tokens (%8.2f ms per token, %8.2f tokens per second)",
                t.promptMillis(), t.promptTokens(), perToken(t.promptMillis(), t.promptTokens()),
                t.promptTokensPerSecond()));
        err.println(String.format(Locale.ROOT,
                "bitnet4j:        eval time = %10.2f ms / %5d runs   (%8.2f ms per token, %8.2f tokens per second)",
                t.evalMillis(), t.evalTokens(), perToken(t.evalMillis(), t.evalTokens()), t.evalTokensPerSecond()));
        err.println(String.format(Locale.ROOT, "bitnet4j:       total time = %10.2f ms / %5d tokens",
                load + t.promptMillis() + t.evalMillis(), t.promptTokens() + t.evalTokens()));
        err.flush();
    }

    static Timings add(Timings a, Timings b) {
        return new Timings(a.promptNanos() + b.promptNanos(), a.promptTokens() + b.promptTokens(),
                a.evalNanos() + b.evalNanos(), a.evalTokens() + b.evalTokens());
    }

    private static double perToken(double ms, int n) {
        return n == 0 ? Double.NaN : ms / n;
    }
}
