package io.bitnet4j.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class StopStringsTest {
    /** Feeds pieces, returns everything released, with "|" marking where the match ended it. */
    private static String stream(List<String> stops, String... pieces) {
        StopStrings s = new StopStrings(stops);
        StringBuilder out = new StringBuilder();
        for (String p : pieces) {
            out.append(s.accept(p));
            if (s.matched()) {
                return out.append('|').toString();
            }
        }
        return out.append(s.flush()).toString();
    }

    @Test
    void withoutStopsEverythingPassesAtOnce() {
        StopStrings s = new StopStrings(List.of());
        assertEquals("Hello", s.accept("Hello"));
        assertEquals("", s.flush());
    }

    @Test
    void stopStringSplitAcrossPiecesIsNeverReleased() {
        assertEquals("The answer|", stream(List.of("\nUser:"), "The answer", "\nUs", "er:", " more"));
    }

    @Test
    void textBeforeTheStopInTheSamePieceIsKept() {
        assertEquals("abc|", stream(List.of("STOP"), "abcSTOPdef"));
    }

    @Test
    void heldBackPrefixIsReleasedWhenItTurnsOutNotToBeAStop() {
        StopStrings s = new StopStrings(List.of("###"));
        assertEquals("a", s.accept("a#"));
        assertEquals("", s.accept("#"));
        assertEquals("##b", s.accept("b"));
        assertFalse(s.matched());
    }

    @Test
    void heldBackTextIsFlushedAtTheEnd() {
        StopStrings s = new StopStrings(List.of("END"));
        assertEquals("x", s.accept("xEN"));
        assertEquals("EN", s.flush());
    }

    @Test
    void earliestOfSeveralStopsWins() {
        assertEquals("a|", stream(List.of("c", "b"), "abc"));
        StopStrings s = new StopStrings(List.of("c", "b"));
        s.accept("abc");
        assertTrue(s.matched());
    }
}
