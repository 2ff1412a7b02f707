package io.bitnet4j.generate;

/** Receives each generated token as it is produced. */
@FunctionalInterface
public interface TokenListener {
    /**
     * @param id   the token id
     * @param text the text this token completes, possibly empty: bytes of an unfinished UTF-8 character and text that
     *             may be the start of a stop string are held back until they are settled
     */
    void onToken(int id, String text);
}
