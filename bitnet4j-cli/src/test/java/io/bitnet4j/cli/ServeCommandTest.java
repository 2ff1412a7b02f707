package io.bitnet4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.bitnet4j.synth.ModelLayout;
import io.bitnet4j.synth.SynthModel;
import io.bitnet4j.synth.SynthOptions;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code bitnet4j serve}: starts on loopback, answers a chat, and stops gracefully, saying so. */
class ServeCommandTest {
    @TempDir
    Path dir;

    @Test
    void servesAChatAndStopsGracefully() throws Exception {
        Path model = dir.resolve("tiny.gguf");
        SynthModel.write(SynthOptions.builder().layout(ModelLayout.TINY).seed(3).build(), model);
        ServeCommand serve = new ServeCommand();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        CommandLine sub = cl.getSubcommands().get("serve");
        // run the same picocli setup, but with our own instance so the test can ask it to stop
        CommandLine own = new CommandLine(serve).setErr(new PrintWriter(err, true));
        own.setExecutionExceptionHandler(sub.getExecutionExceptionHandler());
        CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> own.execute(
                "-m", model.toString(), "-t", "1", "-c", "256", "--port", "0", "-np", "2", "--alias", "tiny"));
        String base = null;
        for (int i = 0; i < 300 && base == null; i++) {
            Matcher m = Pattern.compile("listening on (http://127\\.0\\.0\\.1:\\d+)").matcher(err.toString());
            if (m.find() && err.toString().contains("ready")) {
                base = m.group(1);
            } else {
                Thread.sleep(50);
            }
        }
        assertTrue(base != null, "no ready line: " + err);
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":3}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.body().contains("\"model\":\"tiny\""), r.body());
        serve.stopRequested.countDown(); // what Ctrl-C / SIGTERM does through the shutdown hook
        assertEquals(0, exit.get(30, TimeUnit.SECONDS), err.toString());
        assertTrue(err.toString().contains("stopped: 0 in-flight request(s) finished, 0 cancelled"), err.toString());
    }

    @Test
    void badOptionsFailClearly() {
        CliRun run = CliRun.of("serve", "-m", "/nonexistent.gguf", "--port", "0", "-np", "0");
        assertEquals(1, run.exitCode());
        assertTrue(run.err().contains("parallel slots must be at least 1"), run.err());
    }
}
