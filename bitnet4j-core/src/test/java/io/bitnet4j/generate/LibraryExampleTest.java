package io.bitnet4j.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.bitnet4j.chat.ChatMessage;
import io.bitnet4j.sampling.SamplerParams;
import io.bitnet4j.synth.ModelLayout;
import io.bitnet4j.synth.SynthModel;
import io.bitnet4j.synth.SynthOptions;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's library example, as written there, on a tiny synth model. */
class LibraryExampleTest {
    @TempDir
    Path dir;

    @Test
    void readmeExampleRuns() {
        Path path = dir.resolve("model.gguf");
        SynthModel.write(SynthOptions.builder().layout(ModelLayout.TINY).build(), path);
        StringBuilder streamed = new StringBuilder();
        StringBuilder pulled = new StringBuilder();
        GenerationResult[] results = new GenerationResult[2];

        // --- README example begins
        try (BitNetModel model = BitNetModel.load(path)) {
            Session session = model.newSession();                      // its own KV cache
            GenerationParams params = new GenerationParams(64, SamplerParams.defaults().withSeed(42), List.of("\n\n"), false);

            String prompt = model.chatPrompt(List.of(
                    new ChatMessage("system", "You are a helpful assistant."),
                    new ChatMessage("user", "What is a ternary weight?")));
            GenerationResult r = session.generate(prompt, params, (id, text) -> streamed.append(text));
            System.out.printf("%n%d tokens, %.1f tokens/s, stopped by %s%n",
                    r.generatedIds().length, r.timings().evalTokensPerSecond(), r.stopReason());

            Generation g = session.start(model.encode("Once upon a time"), GenerationParams.greedy(16));
            while (g.hasNext()) {                                       // or pull tokens one by one
                pulled.append(g.next().text());
            }
            // --- README example ends
            results[0] = r;
            results[1] = g.result();
        }
        assertFalse(results[0].text().isEmpty());
        assertEquals(results[0].text(), streamed.toString());
        assertEquals(16, results[1].generatedIds().length);
        assertEquals(results[1].text(), pulled.toString());
    }
}
