package io.bitnet4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bitnet4j.gguf.GgufFile;
import io.bitnet4j.gguf.GgufWriter;
import io.bitnet4j.gguf.TensorInfo;
import io.bitnet4j.synth.ModelLayout;
import io.bitnet4j.synth.SynthModel;
import io.bitnet4j.synth.SynthOptions;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code run} and {@code chat} end to end on a tiny synth model. */
class RunAndChatCommandTest {
    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void makeModel() {
        model = dir.resolve("tiny.gguf");
        SynthModel.write(SynthOptions.builder().layout(ModelLayout.TINY).seed(3).build(), model);
    }

    record Result(int code, String out, String err) {}

    private static Result run(String stdin, String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        if (stdin != null) {
            byte[] bytes = stdin.getBytes(StandardCharsets.UTF_8);
            ((RunCommand) cl.getSubcommands().get("run").getCommand()).stdin = new ByteArrayInputStream(bytes);
            ((ChatCommand) cl.getSubcommands().get("chat").getCommand()).stdin = new ByteArrayInputStream(bytes);
        }
        int code = cl.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void runStreamsPromptAndTextAndPrintsTimings() {
        Result r = run(null, "run", "-m", model.toString(), "-p", "Hello", "-n", "8", "--temp", "0", "-t", "1");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("Hello"), r.out());
        assertTrue(r.err().contains("prompt eval time ="), r.err());
        assertTrue(r.err().contains("eval time ="), r.err());
        assertTrue(r.err().contains("8 tokens generated"), r.err());
    }

    @Test
    void jsonOutputHasIdsTextAndTimings() throws Exception {
        Result r = run(null, "run", "-m", model.toString(), "-p", "Hello", "-n", "5", "--temp", "0", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertEquals(5, j.get("generated_ids").size());
        assertTrue(j.get("prompt_ids").size() >= 1);
        assertTrue(j.get("timings").get("prompt_ms").asDouble() > 0);
        assertEquals("max_tokens", j.get("stop_reason").asText());
        // greedy decoding is deterministic: the same command gives the same ids
        Result again = run(null, "run", "-m", model.toString(), "-p", "Hello", "-n", "5", "--temp", "0", "--json");
        assertEquals(j.get("generated_ids"), new ObjectMapper().readTree(again.out()).get("generated_ids"));
    }

    @Test
    void promptFromStdinAndFromFileEqualsPromptFromFlag() throws Exception {
        Path f = dir.resolve("prompt.txt");
        Files.writeString(f, "Tell me");
        String viaFlag = run(null, "run", "-m", model.toString(), "-p", "Tell me", "-n", "4", "--temp", "0").out();
        String viaFile = run(null, "run", "-m", model.toString(), "-f", f.toString(), "-n", "4", "--temp", "0").out();
        String viaStdin = run("Tell me", "run", "-m", model.toString(), "-n", "4", "--temp", "0").out();
        assertEquals(viaFlag, viaFile);
        assertEquals(viaFlag, viaStdin);
    }

    @Test
    void verbosePromptListsTokenIds() {
        Result r = run(null, "run", "-m", model.toString(), "-p", "Hi", "-n", "1", "--temp", "0", "--verbose-prompt");
        assertTrue(r.err().contains("number of tokens in prompt ="), r.err());
    }

    @Test
    void requestsThatCannotFitAreRefusedClearly() {
        Result r = run(null, "run", "-m", model.toString(), "-p", "Hello there", "-n", "100", "-c", "16");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("exceeds the context size 16"), r.err());
        Result both = run(null, "run", "-m", model.toString(), "-p", "x", "-f", "y");
        assertEquals(1, both.code());
        assertTrue(both.err().contains("not both"), both.err());
        Result missing = run(null, "run", "-m", dir.resolve("nope.gguf").toString(), "-p", "x");
        assertEquals(1, missing.code());
        assertTrue(missing.err().startsWith("error: "), missing.err());
        assertTrue(missing.err().lines().count() == 1, "one line, no stack trace: " + missing.err());
    }

    @Test
    void chatAnswersEachTurnAndLeavesOnExit() {
        Result r = run("hello\nsecond \\\nline\n/exit\n", "chat", "-m", model.toString(), "-s", "Be brief", "-n", "4",
                "--temp", "0");
        assertEquals(0, r.code(), r.err());
        assertEquals(3, r.out().split("> ", -1).length - 1, "a prompt per turn plus the one answered by /exit: " + r.out());
        assertTrue(r.err().contains("chat template"), r.err());
        assertTrue(r.err().contains("prompt eval time ="), r.err());
    }

    @Test
    void chatEndsAtEndOfInput() {
        Result r = run("only turn\n", "chat", "-m", model.toString(), "-n", "3", "--temp", "0");
        assertEquals(0, r.code(), r.err());
    }

    @Test
    void chatTemplateCanBeChosenByName() {
        Result r = run("hi\n", "chat", "-m", model.toString(), "--chat-template", "chatml", "-n", "2", "--temp", "0");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("chat template 'chatml'"), r.err());
        Result bad = run("hi\n", "chat", "-m", model.toString(), "--chat-template", "nope");
        assertEquals(1, bad.code());
        assertTrue(bad.err().contains("nope"), bad.err());
    }

    @Test
    void unrecognisedTemplateInTheFileIsRenderedWithJinja() throws Exception {
        Path custom = dir.resolve("custom-template.gguf");
        try (GgufFile f = GgufFile.open(model)) {
            GgufWriter w = new GgufWriter().putAll(f.metadata()).putString("tokenizer.chat_template",
                    "{% for m in messages %}<<{{ m.role }}>>{{ m.content }}{% endfor %}"
                            + "{% if add_generation_prompt %}<<assistant>>{% endif %}");
            for (TensorInfo t : f.tensors().values()) {
                w.addTensor(t.name(), t.type(), t.shape(), f.tensorData(t));
            }
            w.write(custom);
        }
        Result r = run("hi\n", "chat", "-m", custom.toString(), "-n", "2", "--temp", "0");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("chat template 'jinja'"), r.err());
    }

    @Test
    void multiLineMessagesJoinBackslashContinuedLines() throws Exception {
        var in = new java.io.BufferedReader(new java.io.StringReader("a\\\nb\\\nc\nd\n"));
        assertEquals("a\nb\nc", ChatCommand.readMessage(in));
        assertEquals("d", ChatCommand.readMessage(in));
        assertEquals(null, ChatCommand.readMessage(in));
    }
}
