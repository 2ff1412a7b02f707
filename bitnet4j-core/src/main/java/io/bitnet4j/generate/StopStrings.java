package io.bitnet4j.generate;

import java.util.List;

/**
 * Watches streamed text for stop strings. Text that might be the beginning of a stop string is held back until the
 * following text settles it, so a stop string never reaches the caller, not even in part.
 */
final class StopStrings {
    private final List<String> stops;
    private final StringBuilder pending = new StringBuilder();
    private boolean matched;

    StopStrings(List<String> stops) {
        this.stops = stops;
    }

    /** Adds streamed text; returns what can be released now. After a match, returns the text before the stop string. */
    String accept(String piece) {
        if (matched) {
            throw new IllegalStateException("a stop string was already matched");
        }
        pending.append(piece);
        if (stops.isEmpty()) {
            return takeAll();
        }
        int first = -1;
        for (String s : stops) {
            int i = pending.indexOf(s);
            if (i >= 0 && (first < 0 || i < first)) {
                first = i;
            }
        }
        if (first >= 0) {
            matched = true;
            String out = pending.substring(0, first);
            pending.setLength(0);
            return out;
        }
        int hold = 0;
        for (String s : stops) {
            for (int k = Math.min(s.length() - 1, pending.length()); k > hold; k--) {
                if (endsWith(s, k)) {
                    hold = k;
                    break;
                }
            }
        }
        String out = pending.substring(0, pending.length() - hold);
        pending.delete(0, pending.length() - hold);
        return out;
    }

    /** Whether the pending text ends with the first {@code k} chars of {@code s}. */
    private boolean endsWith(String s, int k) {
        int off = pending.length() - k;
        for (int i = 0; i < k; i++) {
            if (pending.charAt(off + i) != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    boolean matched() {
        return matched;
    }

    /** Releases what was held back (the generation ended without completing a stop string). */
    String flush() {
        return matched ? "" : takeAll();
    }

    private String takeAll() {
        String out = pending.toString();
        pending.setLength(0);
        return out;
    }
}
