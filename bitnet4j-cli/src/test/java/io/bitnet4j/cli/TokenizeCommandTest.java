package io.bitnet4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bitnet4j.testing.SharedTestData;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code bitnet4j tokenize} on bitnet.cpp's oracle GGUF (Llama 3 vocabulary). Expected ids are bitnet.cpp's own
 * (shared/testdata/oracle/bitnetcpp-i2s-tiny/cases.jsonl): "The capital of France is" → 128000 791 6864 315 9822 374.
 */
class TokenizeCommandTest {
    private static final String PROMPT = "The capital of France is";
    private static final String ORACLE_IDS = "128000 791 6864 315 9822 374";

    record Result(int exitCode, String out, String err) {}

    private static Result run(String stdin, String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        TokenizeCommand command = cl.getSubcommands().get("tokenize").getCommand();
        command.stdin = new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8));
        int code = cl.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    private static String model() {
        return SharedTestData.require("oracle/bitnetcpp-i2s-tiny/tiny-i2_s.gguf").toString();
    }

    @Test
    void idsOfAPromptMatchBitnetCpp() {
        Result r = run("", "tokenize", "-m", model(), "--ids", PROMPT);
        assertEquals(0, r.exitCode(), r.err());
        assertEquals(ORACLE_IDS, r.out().strip());
        assertEquals(ORACLE_IDS, run("", "tokenize", "-m", model(), "--ids", "-p", PROMPT).out().strip());
        assertEquals(ORACLE_IDS.substring("128000 ".length()),
                run("", "tokenize", "-m", model(), "--ids", "--no-bos", PROMPT).out().strip());
    }

    @Test
    void defaultOutputListsPieces() {
        Result r = run("", "tokenize", "-m", model(), PROMPT);
        assertEquals(0, r.exitCode(), r.err());
        assertEquals(List.of("128000 -> '<|begin_of_text|>'", "   791 -> 'The'", "  6864 -> ' capital'",
                "   315 -> ' of'", "  9822 -> ' France'", "   374 -> ' is'"), r.out().lines().toList());
    }

    @Test
    void promptFromFile(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("prompt.txt");
        Files.writeString(f, PROMPT);
        assertEquals(ORACLE_IDS, run("", "tokenize", "-m", model(), "--ids", "-f", f.toString()).out().strip());
    }

    @Test
    void specialTokenParsingCanBeTurnedOff() {
        String parsed = run("", "tokenize", "-m", model(), "--ids", "--no-bos", "Hi<|eot_id|>").out().strip();
        assertEquals("13347 128009", parsed);
        String plain = run("", "tokenize", "-m", model(), "--ids", "--no-bos", "--no-parse-special",
                "Hi<|eot_id|>").out().strip();
        assertFalse(plain.contains("128009"), plain);
    }

    @Test
    void jsonLinesInOrder() {
        String input = "{\"text\": \"The capital of France is\"}\n\n{\"text\": \"Once upon a time, there was a little\"}\n";
        Result r = run(input, "tokenize", "-m", model(), "--jsonl");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals(List.of("{\"ids\":[128000,791,6864,315,9822,374]}",
                "{\"ids\":[128000,12805,5304,264,892,11,1070,574,264,2697]}"), r.out().lines().toList());
    }

    @Test
    void badJsonLineIsNamed() {
        Result r = run("{\"text\": \"ok\"}\n{\"text\": oops}\n", "tokenize", "-m", model(), "--jsonl");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("stdin line 2: not valid JSON"), r.err());
        Result noText = run("{\"prompt\": \"ok\"}\n", "tokenize", "-m", model(), "--jsonl");
        assertEquals(1, noText.exitCode());
        assertTrue(noText.err().contains("stdin line 1: expected a JSON object with a string field \"text\""),
                noText.err());
    }

    @Test
    void usageErrors() {
        Result none = run("", "tokenize", "-m", model());
        assertEquals(2, none.exitCode());
        assertTrue(none.err().contains("no text"), none.err());
        Result twice = run("", "tokenize", "-m", model(), "-p", "a", "b");
        assertEquals(2, twice.exitCode());
        Result notGguf = run("", "tokenize", "-m", "/no/such/model.gguf", "x");
        assertEquals(1, notGguf.exitCode());
        assertTrue(notGguf.err().startsWith("error: "), notGguf.err());
    }
}
