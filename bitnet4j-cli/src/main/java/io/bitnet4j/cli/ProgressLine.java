package io.bitnet4j.cli;

import io.bitnet4j.synth.SynthModel;
import java.io.PrintWriter;
import java.util.Locale;

/** A progress line on stderr, rewritten in place ({@code \r}) for each whole percent of bytes written. */
final class ProgressLine implements SynthModel.Progress {
    private final PrintWriter err;
    private final String label;
    private int shownPercent = -1;

    ProgressLine(PrintWriter err, String label) {
        this.err = err;
        this.label = label;
    }

    @Override
    public void tensorDone(int done, int count, long bytesDone, long bytesTotal, String name) {
        int percent = (int) (100 * bytesDone / Math.max(1, bytesTotal));
        if (percent != shownPercent || done == count) {
            shownPercent = percent;
            err.printf(Locale.ROOT, "\r%s: %3d%%  %d/%d tensors, %s of %s", label, percent, done, count,
                    InfoCommand.bytes(bytesDone), InfoCommand.bytes(bytesTotal));
            err.flush();
        }
    }

    /** Ends the line. */
    void finish() {
        err.println();
        err.flush();
    }
}
