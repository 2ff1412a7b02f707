package io.bitnet4j.cli;

import io.bitnet4j.hub.DownloadProgress;
import java.io.PrintWriter;
import java.util.Locale;

/** A download's progress on stderr, rewritten in place ({@code \r}) at most ten times a second: bytes, %, MB/s. */
final class DownloadProgressLine implements DownloadProgress {
    private static final long REDRAW_NANOS = 100_000_000;

    private final PrintWriter err;
    private String file;
    private long startNanos;
    private long startBytes;
    private long lastDrawNanos;

    DownloadProgressLine(PrintWriter err) {
        this.err = err;
    }

    @Override
    public void update(String name, long bytesDone, long bytesTotal) {
        long now = System.nanoTime();
        if (!name.equals(file)) {
            file = name;
            startNanos = now;
            startBytes = bytesDone; // a resumed download's speed counts only this run's bytes
            lastDrawNanos = 0;
        }
        boolean complete = bytesTotal >= 0 && bytesDone >= bytesTotal;
        if (!complete && now - lastDrawNanos < REDRAW_NANOS) {
            return;
        }
        lastDrawNanos = now;
        double seconds = Math.max(1e-3, (now - startNanos) / 1e9);
        double mbPerSecond = (bytesDone - startBytes) / 1e6 / seconds;
        String percent = bytesTotal > 0 ? String.format(Locale.ROOT, "%3d%%", 100 * bytesDone / bytesTotal) : "   ?";
        String total = bytesTotal >= 0 ? " of " + InfoCommand.bytes(bytesTotal) : "";
        err.printf(Locale.ROOT, "\rdownload %s: %s  %s%s, %.1f MB/s   ", name, percent, InfoCommand.bytes(bytesDone),
                total, mbPerSecond);
        err.flush();
    }

    @Override
    public void done(String name) {
        if (name.equals(file)) {
            err.println();
            err.flush();
            file = null;
        }
    }
}
