package io.bitnet4j.model;

/**
 * Keys and values of every layer for up to {@code capacity} positions, layout [position][kvHead][headDim].
 * Entries are stored already rounded to IEEE half precision (held in floats): the reference engines keep an F16
 * KV cache, and rounding on write reproduces their arithmetic while letting the attention kernel use float lanes.
 */
public final class KvCache {
    private final int capacity;
    private final int kvDim;
    final float[][] keys;
    final float[][] values;
    private int length;

    public KvCache(ModelConfig c, int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("context size must be positive, got " + capacity);
        }
        this.capacity = capacity;
        this.kvDim = c.kvDim();
        keys = new float[c.layers()][Math.multiplyExact(capacity, kvDim)];
        values = new float[c.layers()][Math.multiplyExact(capacity, kvDim)];
    }

    public int capacity() {
        return capacity;
    }

    /** Positions [0, length) hold valid entries. */
    public int length() {
        return length;
    }

    /** Forgets positions from {@code newLength} on (e.g. to rewind a chat to a shared prefix). */
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length) {
            throw new IllegalArgumentException("cannot truncate a cache of " + length + " positions to " + newLength);
        }
        length = newLength;
    }

    void setLength(int newLength) {
        length = newLength;
    }

    int kvDim() {
        return kvDim;
    }

    /** Bytes the cache would take in the reference engines' F16 layout (for reporting). */
    public long f16Bytes() {
        return 2L * keys.length * capacity * kvDim * 2;
    }
}
