package io.bitnet4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class RecentRateTest {
    private static final long S = 1_000_000_000L;

    @Test
    void averagesTheCompletedSecondsOfTheWindow() {
        RecentRate r = new RecentRate(11);
        for (int sec = 100; sec < 112; sec++) {
            r.add(7, sec * S);
            r.add(3, sec * S + S / 2);
        }
        r.add(1000, 112 * S); // the current, partial second is left out
        assertEquals(10.0, r.perSecond(112 * S + S / 3), 1e-9);
    }

    @Test
    void oldSecondsFallOutOfTheWindow() {
        RecentRate r = new RecentRate(11);
        r.add(500, 100 * S);
        assertEquals(50.0, r.perSecond(101 * S), 1e-9);
        assertEquals(0.0, r.perSecond(200 * S), 1e-9);
    }
}
