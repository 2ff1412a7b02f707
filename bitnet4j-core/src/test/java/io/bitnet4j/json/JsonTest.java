package io.bitnet4j.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.bitnet4j.testing.SharedTestData;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class JsonTest {

    @Test
    void parsesEveryKindOfValue() {
        Object v = Json.parse(" {\"a\": [1, -2, 3.5, -0.25e2, 1E3, true, false, null], \"b\": {\"c\": \"d\"}, \"e\": [] ,"
                + "\"f\": {}} ");
        Map<?, ?> m = (Map<?, ?>) v;
        assertEquals(List.of("a", "b", "e", "f"), List.copyOf(m.keySet()), "key order is kept");
        List<?> a = (List<?>) m.get("a");
        assertEquals(1L, a.get(0));
        assertEquals(-2L, a.get(1));
        assertEquals(3.5, a.get(2));
        assertEquals(-25.0, a.get(3));
        assertEquals(1000.0, a.get(4));
        assertEquals(Boolean.TRUE, a.get(5));
        assertEquals(Boolean.FALSE, a.get(6));
        assertNull(a.get(7));
        assertEquals(Map.of("c", "d"), m.get("b"));
        assertEquals(List.of(), m.get("e"));
        assertEquals(Map.of(), m.get("f"));
    }

    @Test
    void integersBeyondLongBecomeBigInteger() {
        assertEquals(Long.MAX_VALUE, Json.parse("9223372036854775807"));
        assertEquals(Long.MIN_VALUE, Json.parse("-9223372036854775808"));
        assertEquals(new BigInteger("1000000000000000019884624838656"), Json.parse("1000000000000000019884624838656"));
    }

    @Test
    void decodesEscapesAndUnicode() {
        assertEquals("q\"b\\s/\b\f\n\r\tÄ€😀", Json.parse("\"q\\\"b\\\\s\\/\\b\\f\\n\\r\\t\\u00c4\\u20AC\\ud83d\\ude00\""));
        assertEquals("Ġhello ▁x 日本", Json.parse("\"Ġhello ▁x 日本\""));
    }

    static Stream<Arguments> malformed() {
        return Stream.of(
            Arguments.of("{\"a\":1,}", "expected a string key"),
            Arguments.of("[1,]", "expected a value"),
            Arguments.of("[1 2]", "expected ',' or ']'"),
            Arguments.of("{\"a\" 1}", "expected ':'"),
            Arguments.of("{\"a\":1 \"b\":2}", "expected ',' or '}'"),
            Arguments.of("01", "leading zero"),
            Arguments.of("1.", "after the decimal point"),
            Arguments.of("1e", "in the exponent"),
            Arguments.of("-", "expected a digit"),
            Arguments.of("NaN", "expected a value"),
            Arguments.of("tru", "expected a value"),
            Arguments.of("\"abc", "unterminated string"),
            Arguments.of("\"a\\x\"", "invalid escape"),
            Arguments.of("\"\\u12G4\"", "invalid hex digit"),
            Arguments.of("\"\\u12", "truncated"),
            Arguments.of("[1] 2", "after the end of the JSON value"),
            Arguments.of("// c\n1", "expected a value"),
            Arguments.of("{\"k\":1,\"k\":2}", "duplicate key \"k\""),
            Arguments.of("", "unexpected end of input"));
    }

    @ParameterizedTest
    @MethodSource("malformed")
    void rejectsMalformedInputWithPosition(String text, String expected) {
        JsonException e = assertThrows(JsonException.class, () -> Json.parse(text));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertTrue(e.getMessage().matches("invalid JSON at line \\d+, column \\d+ \\(offset \\d+\\): .*"), e.getMessage());
    }

    @Test
    void rejectsSingleQuotes() {
        assertThrows(JsonException.class, () -> Json.parse("'x'"));
    }

    @Test
    void errorPositionCountsLinesAndColumns() {
        JsonException e = assertThrows(JsonException.class, () -> Json.parse("{\n  \"a\": 1,\n  \"b\": x\n}"));
        assertTrue(e.getMessage().startsWith("invalid JSON at line 3, column 8 (offset 19)"), e.getMessage());
    }

    @Test
    void rejectsRawControlCharacterInString() {
        JsonException e = assertThrows(JsonException.class, () -> Json.parse("\"a\nb\""));
        assertTrue(e.getMessage().contains("U+000A"), e.getMessage());
    }

    @Test
    void boundsNestingDepthWithoutStackOverflow() {
        String deep = "[".repeat(100_000) + "]".repeat(100_000);
        JsonException e = assertThrows(JsonException.class, () -> Json.parse(deep));
        assertTrue(e.getMessage().contains("nesting deeper than " + Json.DEFAULT_MAX_DEPTH), e.getMessage());
        assertEquals(List.of(List.of()), Json.parse("[[]]", 2, 100));
        assertThrows(JsonException.class, () -> Json.parse("[[[]]]", 2, 100));
    }

    @Test
    void boundsDocumentSize() {
        JsonException e = assertThrows(JsonException.class, () -> Json.parse("[1, 2, 3]", 10, 5));
        assertTrue(e.getMessage().contains("exceeds the limit of 5"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"[", "{", "{\"a\"", "{\"a\":", "[1,", "\"\\", "-0.", "[\"\\u00"})
    void truncatedInputsFailCleanly(String text) {
        assertThrows(JsonException.class, () -> Json.parse(text));
    }

    @Test
    void readsFilesAsStrictUtf8(@TempDir Path dir) throws Exception {
        Path ok = dir.resolve("ok.json");
        Files.write(ok, ("\uFEFF{\"x\": \"é\"}").getBytes(StandardCharsets.UTF_8));
        assertEquals(Map.of("x", "é"), Json.parse(ok));
        Path bad = dir.resolve("bad.json");
        Files.write(bad, new byte[] {'"', (byte) 0xC3, '"'});
        JsonException e = assertThrows(JsonException.class, () -> Json.parse(bad));
        assertTrue(e.getMessage().contains("not valid UTF-8"), e.getMessage());
        Path broken = dir.resolve("broken.json");
        Files.writeString(broken, "{\"a\": }");
        e = assertThrows(JsonException.class, () -> Json.parse(broken));
        assertTrue(e.getMessage().startsWith(broken + ": invalid JSON at line 1, column 7"), e.getMessage());
    }

    /** Independent check: the real Llama-3 tokenizer.json parses to the same tree as Jackson reads, and quickly. */
    @Test
    void agreesWithJacksonOnARealTokenizerJson() throws Exception {
        Path file = SharedTestData.require("llama3-tokenizer/tokenizer.json");
        Object ours = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> Json.parse(file));
        Object jackson = new ObjectMapper().readValue(file.toFile(), Object.class);
        assertEquals(normalize(jackson), normalize(ours));
    }

    /** Jackson reads small integers as Integer; compare numbers by value. */
    private static Object normalize(Object v) {
        if (v instanceof Map<?, ?> m) {
            Map<Object, Object> out = new java.util.LinkedHashMap<>();
            m.forEach((k, x) -> out.put(k, normalize(x)));
            return out;
        }
        if (v instanceof List<?> l) {
            return l.stream().map(JsonTest::normalize).toList();
        }
        if (v instanceof Integer || v instanceof Long || v instanceof BigInteger) {
            return new BigInteger(v.toString());
        }
        return v;
    }
}
