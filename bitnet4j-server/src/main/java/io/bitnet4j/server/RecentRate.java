package io.bitnet4j.server;

/** Events per second over the last few seconds, in one-second buckets (for the tokens/s gauge). */
final class RecentRate {
    private final long[] counts;
    private final long[] seconds;

    RecentRate(int windowSeconds) {
        counts = new long[windowSeconds];
        seconds = new long[windowSeconds];
    }

    synchronized void add(long n, long nowNanos) {
        long sec = nowNanos / 1_000_000_000L;
        int i = (int) Math.floorMod(sec, (long) counts.length);
        if (seconds[i] != sec) {
            seconds[i] = sec;
            counts[i] = 0;
        }
        counts[i] += n;
    }

    /** Average rate over the completed seconds of the window (the current, partial second is left out). */
    synchronized double perSecond(long nowNanos) {
        long sec = nowNanos / 1_000_000_000L;
        long sum = 0;
        for (int i = 0; i < counts.length; i++) {
            if (seconds[i] < sec && seconds[i] >= sec - counts.length + 1) {
                sum += counts[i];
            }
        }
        return sum / (double) (counts.length - 1);
    }
}
