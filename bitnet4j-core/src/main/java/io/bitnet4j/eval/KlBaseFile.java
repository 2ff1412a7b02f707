package io.bitnet4j.eval;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * The base run that {@code perplexity --kl-divergence} compares against: the evaluated tokens and, for every scored
 * position, the base model's log-probabilities quantized to 16 bits. All numbers little-endian:
 * <pre>
 *   "B4JKLD01"                                  8-byte magic
 *   int32 vocab, int32 context, int32 chunks
 *   int32 tokens[chunks * context]              each chunk as evaluated (BOS already substituted)
 *   per chunk, per scored position (context - 1 - context/2 of them):
 *     int32   top token (argmax of the exact logits)
 *     float32 min, float32 step                 log p(i) = min + step * q[i]
 *     uint16  q[vocab]
 * </pre>
 * {@code min} is the row's maximum log-probability minus {@value #LOG_RANGE} (lower ones clamp to it: their
 * probabilities are below e^-20 of the top one and do not move the KL divergence), so the step is about 3e-4 nats.
 */
public final class KlBaseFile {
    private static final byte[] MAGIC = "B4JKLD01".getBytes(StandardCharsets.US_ASCII);
    static final double LOG_RANGE = 20;
    private static final int HEADER = MAGIC.length + 12;

    private KlBaseFile() {}

    private static int recordBytes(int vocab) {
        return 12 + 2 * vocab;
    }

    private static int scoredPerChunk(int context) {
        return context - 1 - context / 2;
    }

    /**
     * Writes a base file: the header and the evaluated tokens (from {@link ChunkedEvaluation#prepare}) first, then
     * {@link #write} once per scored position, in order.
     */
    public static final class Writer implements AutoCloseable {
        private final OutputStream out;
        private final ByteBuffer record;
        private final int vocab;

        public Writer(Path path, int vocab, int context, int chunks, int[] tokens) {
            this.vocab = vocab;
            this.record = ByteBuffer.allocate(recordBytes(vocab)).order(ByteOrder.LITTLE_ENDIAN);
            try {
                out = new BufferedOutputStream(Files.newOutputStream(path), 1 << 16);
                ByteBuffer head = ByteBuffer.allocate(HEADER + 4 * chunks * context).order(ByteOrder.LITTLE_ENDIAN);
                head.put(MAGIC).putInt(vocab).putInt(context).putInt(chunks);
                for (int chunk = 0; chunk < chunks; chunk++) {
                    for (int j = 0; j < context; j++) {
                        head.putInt(tokens[chunk * context + j]);
                    }
                }
                out.write(head.array());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the KL base file " + path + ": " + e.getMessage(), e);
            }
        }

        /** Appends one scored position: its log-probabilities and the top token of its exact logits. */
        public void write(double[] logProbs, int top) {
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < vocab; i++) {
                max = Math.max(max, logProbs[i]);
            }
            double min = max - LOG_RANGE;
            float step = (float) (LOG_RANGE / 65535);
            record.clear();
            record.putInt(top).putFloat((float) min).putFloat(step);
            for (int i = 0; i < vocab; i++) {
                long q = Math.round((Math.max(logProbs[i], min) - (float) min) / step);
                record.putShort((short) Math.min(q, 65535));
            }
            try {
                out.write(record.array());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the KL base file: " + e.getMessage(), e);
            }
        }

        @Override
        public void close() {
            try {
                out.close();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the KL base file: " + e.getMessage(), e);
            }
        }
    }

    /** Reads a base file written by {@link Writer}, checking its shape against the model before any use. */
    public static final class Reader implements AutoCloseable {
        private final Path path;
        private final FileChannel channel;
        private final int vocab;
        private final int context;
        private final int chunks;
        private final int[] tokens;
        private final ByteBuffer record;
        private long position;

        public Reader(Path path, int modelVocab) {
            this.path = path;
            try {
                channel = FileChannel.open(path, StandardOpenOption.READ);
                ByteBuffer head = read(HEADER, "header");
                byte[] magic = new byte[MAGIC.length];
                head.get(magic);
                if (!Arrays.equals(magic, MAGIC)) {
                    throw fail("not a bitnet4j KL base file (made with perplexity --kl-divergence-base)");
                }
                vocab = head.getInt();
                context = head.getInt();
                chunks = head.getInt();
                if (vocab != modelVocab) {
                    throw fail("made with a vocabulary of " + vocab + " tokens, this model has " + modelVocab);
                }
                if (context < ChunkedEvaluation.MIN_CONTEXT || context % 2 != 0 || chunks < 1
                        || (long) chunks * context > Integer.MAX_VALUE / 4) {
                    throw fail("corrupt header (context " + context + ", chunks " + chunks + ")");
                }
                long expected = HEADER + 4L * chunks * context
                        + (long) chunks * scoredPerChunk(context) * recordBytes(vocab);
                if (channel.size() != expected) {
                    throw fail("is " + channel.size() + " bytes, its header says " + expected + " (truncated?)");
                }
                ByteBuffer t = read(4 * chunks * context, "tokens");
                tokens = new int[chunks * context];
                t.asIntBuffer().get(tokens);
                record = ByteBuffer.allocate(recordBytes(vocab)).order(ByteOrder.LITTLE_ENDIAN);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the KL base file " + path + ": " + e.getMessage(), e);
            }
        }

        private IllegalArgumentException fail(String what) {
            close();
            return new IllegalArgumentException("KL base file " + path + ": " + what);
        }

        private ByteBuffer read(int bytes, String what) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
            while (b.hasRemaining()) {
                if (channel.read(b, position + b.position()) < 0) {
                    throw fail("ends inside the " + what);
                }
            }
            position += bytes;
            return b.flip();
        }

        public int context() {
            return context;
        }

        public int chunks() {
            return chunks;
        }

        /** The tokens the base run evaluated, chunk after chunk. */
        public int[] tokens() {
            return tokens;
        }

        /** Reads the next scored position: its log-probabilities (renormalized after dequantizing) into dst. */
        public int next(double[] dst) {
            try {
                record.clear();
                while (record.hasRemaining()) {
                    if (channel.read(record, position + record.position()) < 0) {
                        throw fail("ends early");
                    }
                }
                position += record.capacity();
                record.flip();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the KL base file " + path + ": " + e.getMessage(), e);
            }
            int top = record.getInt();
            float min = record.getFloat();
            float step = record.getFloat();
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < vocab; i++) {
                dst[i] = min + step * (double) Short.toUnsignedInt(record.getShort());
                max = Math.max(max, dst[i]);
            }
            double sum = 0;
            for (int i = 0; i < vocab; i++) {
                sum += Math.exp(dst[i] - max);
            }
            double logZ = max + Math.log(sum);
            for (int i = 0; i < vocab; i++) {
                dst[i] -= logZ;
            }
            return top;
        }

        @Override
        public void close() {
            try {
                channel.close();
            } catch (IOException ignored) {
                // closing a read-only channel: nothing to lose
            }
        }
    }
}
