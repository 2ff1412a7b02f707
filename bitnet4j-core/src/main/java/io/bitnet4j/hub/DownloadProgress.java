package io.bitnet4j.hub;

/** Told about each file's bytes as they arrive; called on the downloading thread. */
@FunctionalInterface
public interface DownloadProgress {
    DownloadProgress NONE = (file, bytesDone, bytesTotal) -> {};

    /**
     * @param bytesDone  bytes of {@code file} now on disk, counting any resumed part
     * @param bytesTotal the file's size, or -1 when the server did not say
     */
    void update(String file, long bytesDone, long bytesTotal);

    /** The file is complete (or came from the cache). */
    default void done(String file) {}
}
