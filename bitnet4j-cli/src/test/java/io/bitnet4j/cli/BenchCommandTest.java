package io.bitnet4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bitnet4j.synth.ModelLayout;
import io.bitnet4j.synth.SynthModel;
import io.bitnet4j.synth.SynthOptions;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class BenchCommandTest {
    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void makeModel() {
        model = dir.resolve("tiny.gguf");
        SynthModel.write(SynthOptions.builder().layout(ModelLayout.TINY).seed(5).build(), model);
    }

    private static String[] run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new String[] {String.valueOf(code), out.toString(), err.toString()};
    }

    @Test
    void rooflineMeasuresBandwidthBeforeAndAfterEachGenerationTest() throws Exception {
        String[] r = run("bench", "-m", model.toString(), "-p", "0", "-n", "4", "-t", "1", "-r", "1", "--roofline",
                "--json");
        assertEquals("0", r[0], r[2]);
        assertTrue(r[2].contains("memory bandwidth with 1 thread(s):"), r[2]);
        assertTrue(r[2].contains("memory bandwidth with 1 thread(s) after tg4:"), r[2]);
        JsonNode row = new ObjectMapper().readTree(r[1]).get(0);
        double fraction = row.get("roofline_fraction").asDouble();
        assertTrue(fraction > 0 && Double.isFinite(fraction), "roofline fraction " + fraction);
    }

    @Test
    void jsonHasOneObjectPerTestWithLlamaBenchFieldNames() throws Exception {
        String[] r = run("bench", "-m", model.toString(), "-p", "8,16", "-n", "4", "-t", "1,2", "-r", "2", "--json");
        assertEquals("0", r[0], r[2]);
        JsonNode a = new ObjectMapper().readTree(r[1]);
        assertEquals(6, a.size(), "2 thread counts x (2 prompt tests + 1 generation test)");
        JsonNode first = a.get(0);
        for (String f : new String[] {"model_filename", "model_size", "model_n_params", "n_threads", "n_prompt",
                "n_gen", "avg_ts", "stddev_ts"}) {
            assertTrue(first.has(f), f);
        }
        assertEquals("tiny.gguf", first.get("model_filename").asText());
        assertEquals(8, first.get("n_prompt").asInt());
        assertEquals(0, first.get("n_gen").asInt());
        assertEquals(2, a.get(3).get("n_threads").asInt());
        assertEquals(4, a.get(5).get("n_gen").asInt());
        assertEquals(2, first.get("samples_ts").size());
        assertTrue(first.get("avg_ts").asDouble() > 0);
    }

    @Test
    void tableAndCsv() {
        String[] table = run("bench", "-m", model.toString(), "-p", "8", "-n", "4", "-t", "1", "-r", "1");
        assertEquals("0", table[0], table[2]);
        assertTrue(table[1].contains("| pp8 ") || table[1].contains("pp8 |"), table[1]);
        assertTrue(table[1].contains("tg4"), table[1]);
        String[] csv = run("bench", "-m", model.toString(), "-p", "8", "-n", "0", "-t", "1", "-r", "1", "--csv");
        assertEquals("0", csv[0], csv[2]);
        assertEquals(2, csv[1].strip().lines().count(), csv[1]);
        assertTrue(csv[1].startsWith("build_commit,model_filename"), csv[1]);
    }

    @Test
    void poolStatsReportHandOffsAndWaitingPerToken() {
        String[] r = run("bench", "-m", model.toString(), "-p", "0", "-n", "4", "-t", "1,2", "-r", "1", "--pool-stats");
        assertEquals("0", r[0], r[2]);
        java.util.regex.Matcher one = java.util.regex.Pattern.compile(
                "tg4, 1 thread\\(s\\): 0 hand-offs per token").matcher(r[2]);
        assertTrue(one.find(), "one thread never hands off: " + r[2]);
        java.util.regex.Matcher two = java.util.regex.Pattern.compile(
                "tg4, 2 thread\\(s\\): (\\d+) hand-offs per token, the calling thread waited ([0-9.]+) ms of "
                        + "([0-9.]+) ms").matcher(r[2]);
        assertTrue(two.find(), r[2]);
        assertTrue(Integer.parseInt(two.group(1)) > 0, "two threads hand off every matmul: " + r[2]);
        assertTrue(Double.parseDouble(two.group(2)) <= Double.parseDouble(two.group(3)), r[2]);
    }

    @Test
    void badArgumentsAreClearErrors() {
        String[] r = run("bench", "-m", model.toString(), "-r", "0");
        assertEquals("1", r[0]);
        assertTrue(r[2].contains("-r must be at least 1"), r[2]);
    }
}
