package io.bitnet4j.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bitnet4j.convert.TinyCheckpoint.Kind;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SafetensorsFileTest {
    @TempDir
    Path dir;

    @Test
    void readsEveryDtypeInHeaderOrder() {
        Path f = dir.resolve("m.safetensors");
        SafetensorsWriter.write(f, List.of(
                SafetensorsWriter.bf16("b", new float[] {1.5f, -2f}, 2),
                SafetensorsWriter.f16("h", new float[] {0.25f, 65504f}, 1, 2),
                SafetensorsWriter.f32("f", new float[] {1e-20f}),
                SafetensorsWriter.u8("u", new byte[] {(byte) 200, 3}, 2),
                new SafetensorsWriter.Entry("i", "I8", new long[] {2}, new byte[] {-7, 7})));
        try (SafetensorsFile s = SafetensorsFile.open(f)) {
            assertEquals(List.of("b", "h", "f", "u", "i"), List.copyOf(s.tensors().keySet()));
            assertEquals(-2f, s.tensors().get("b").get(1));
            assertEquals(65504f, s.tensors().get("h").get(1));
            assertArrayEquals(new long[] {1, 2}, s.tensors().get("h").shape());
            assertEquals(1e-20f, s.tensors().get("f").get(0));
            assertEquals(200f, s.tensors().get("u").get(0));
            assertEquals(-7f, s.tensors().get("i").get(0));
        }
    }

    /** Each corrupt header is rejected with a message that names the problem. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"w\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}|dtype F64 is not supported",
        "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}|hold 8 bytes, but F32 [3] needs 12",
        "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}|run past the data section of 8 bytes",
        "{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}|expected a non-negative integer",
        "{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,8]}}|expected a non-negative integer",
        "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}|expected [begin, end]",
        "{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}|\"data_offsets\" is null",
        "{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}|\"dtype\" is missing",
        "{\"w\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}|overflows",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}|overlap",
        "{\"w\":[1,2]}|entry is not a JSON object",
        "[1,2]|header is not a JSON object",
        "{\"w\":|header is not valid JSON",
    })
    void corruptHeaderIsAClearError(String header, String message) {
        Path f = dir.resolve("bad.safetensors");
        SafetensorsWriter.writeRaw(f, header, new byte[8]);
        var e = assertThrows(IllegalArgumentException.class, () -> SafetensorsFile.open(f).close());
        assertTrue(e.getMessage().contains(message), e.getMessage());
        assertTrue(e.getMessage().startsWith(f + ": corrupt or unsupported safetensors file"), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource({"-1", "0", "1000000", "9223372036854775807"})
    void headerLengthThatDoesNotFitIsAClearError(long length) throws IOException {
        Path f = dir.resolve("bad.safetensors");
        Files.write(f, ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN).putLong(length).array());
        var e = assertThrows(IllegalArgumentException.class, () -> SafetensorsFile.open(f).close());
        assertTrue(e.getMessage().contains("header length " + Long.toUnsignedString(length) + " does not fit"),
                e.getMessage());
    }

    @Test
    void fileShorterThanTheLengthFieldIsAClearError() throws IOException {
        Path f = dir.resolve("short.safetensors");
        Files.write(f, new byte[5]);
        var e = assertThrows(IllegalArgumentException.class, () -> SafetensorsFile.open(f).close());
        assertTrue(e.getMessage().contains("too short"), e.getMessage());
    }

    @Test
    void headerThatIsNotUtf8IsAClearError() {
        Path f = dir.resolve("bin.safetensors");
        SafetensorsWriter.writeRaw(f, "{\"\u00ff\":1}", new byte[0]);
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(f);
            bytes[10] = (byte) 0xff; // inside the key: an invalid UTF-8 lead byte
            Files.write(f, bytes);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        var e = assertThrows(IllegalArgumentException.class, () -> SafetensorsFile.open(f).close());
        assertTrue(e.getMessage().contains("not valid UTF-8"), e.getMessage());
    }

    // ---- sharded checkpoints ----

    private Path sharded() {
        return TinyCheckpoint.create(Kind.LLAMA_PACKED_SHARDED, 1).writeHf(dir.resolve("hf"));
    }

    @Test
    void shardedCheckpointHasEveryTensorOnce() {
        try (HfCheckpoint c = HfCheckpoint.open(sharded())) {
            assertTrue(c.tensors().containsKey("model.embed_tokens.weight"));
            assertTrue(c.tensors().containsKey("model.layers.1.mlp.down_proj.weight_scale"));
            assertEquals(HfConfig.Family.LLAMA, c.config().family());
            assertEquals(HfConfig.WeightScale.DIVIDE, c.config().packedWeightScale());
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "model-00002-of-00002.safetensors|../model-00002-of-00002.safetensors|is not a plain file name",
        "model-00002-of-00002.safetensors|model-00003-of-00002.safetensors|which is missing",
    })
    void indexNamingABadShardIsAClearError(String from, String to, String message) throws IOException {
        Path hf = sharded();
        Path index = hf.resolve(HfCheckpoint.INDEX);
        Files.writeString(index, Files.readString(index).replace(from, to));
        var e = assertThrows(IllegalArgumentException.class, () -> HfCheckpoint.open(hf).close());
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @Test
    void indexPlacingATensorInTheWrongShardIsAClearError() throws IOException {
        Path hf = sharded();
        Path index = hf.resolve(HfCheckpoint.INDEX);
        Files.writeString(index, Files.readString(index).replace(
                "\"model.embed_tokens.weight\":\"model-00001-of-00002.safetensors\"",
                "\"model.embed_tokens.weight\":\"model-00002-of-00002.safetensors\""));
        var e = assertThrows(IllegalArgumentException.class, () -> HfCheckpoint.open(hf).close());
        assertTrue(e.getMessage().contains("places tensor 'model.embed_tokens.weight' in model-00002-of-00002"),
                e.getMessage());
    }

    @Test
    void folderWithoutWeightsIsAClearError() throws IOException {
        Path hf = sharded();
        Files.delete(hf.resolve(HfCheckpoint.INDEX));
        var e = assertThrows(IllegalArgumentException.class, () -> HfCheckpoint.open(hf).close());
        assertTrue(e.getMessage().contains("has neither model.safetensors nor model.safetensors.index.json"),
                e.getMessage());
    }
}
