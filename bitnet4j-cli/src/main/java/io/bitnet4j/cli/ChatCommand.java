package io.bitnet4j.cli;

import io.bitnet4j.chat.ChatMessage;
import io.bitnet4j.generate.BitNetModel;
import io.bitnet4j.generate.GenerationParams;
import io.bitnet4j.generate.GenerationResult;
import io.bitnet4j.generate.Session;
import io.bitnet4j.generate.Timings;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bitnet4j chat}: an interactive conversation using the model's chat template. The session keeps its KV cache
 * between turns, so each turn evaluates only the new text.
 */
@Command(name = "chat", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Chat with a model interactively, using its chat template.",
                "Type a message and press Enter. End a line with \\ to continue on the next line.",
                "/exit or Ctrl-D leaves; /reset starts a new conversation."})
final class ChatCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = {"-s", "--system"}, paramLabel = "TEXT", description = "System prompt.")
    String system;

    @Mixin
    SamplingOptions sampling;

    @Spec
    CommandSpec spec;

    /** The user's input; replaced in tests. */
    InputStream stdin = System.in;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        GenerationParams params = sampling.generationParams();
        BufferedReader in = new BufferedReader(new InputStreamReader(stdin, StandardCharsets.UTF_8));
        try (BitNetModel model = modelOptions.load(err)) {
            Session session = modelOptions.newSession(model);
            err.println("bitnet4j: chat template '" + model.chatTemplate().name() + "', context " + session.contextSize()
                    + " tokens. /exit or Ctrl-D to leave, /reset to start over, end a line with \\ to continue it.");
            err.flush();
            List<ChatMessage> messages = new ArrayList<>();
            if (system != null && !system.isBlank()) {
                messages.add(new ChatMessage("system", system));
            }
            int firstTurn = messages.size();
            Timings total = new Timings(0, 0, 0, 0);
            while (true) {
                out.print("> ");
                out.flush();
                String line = readMessage(in);
                if (line == null || line.strip().equals("/exit")) {
                    break;
                }
                if (line.strip().equals("/reset")) {
                    messages.subList(firstTurn, messages.size()).clear();
                    session.reset();
                    continue;
                }
                if (line.isBlank()) {
                    continue;
                }
                messages.add(new ChatMessage("user", line));
                int[] ids = model.encode(model.chatPrompt(messages));
                if (ids.length >= session.contextSize()) {
                    messages.removeLast();
                    err.println("bitnet4j: the conversation (" + ids.length + " tokens) no longer fits the context of "
                            + session.contextSize() + " tokens; /reset to start over or restart with a larger -c");
                    err.flush();
                    continue;
                }
                GenerationResult r = session.generate(ids, params, (id, piece) -> {
                    out.print(piece);
                    out.flush();
                });
                out.println();
                out.flush();
                messages.add(new ChatMessage("assistant", r.text()));
                total = PerfReport.add(total, r.timings());
            }
            out.println();
            out.flush();
            PerfReport.print(err, model.loadNanos(), total);
        }
        return 0;
    }

    /** One message: a line, or several when each but the last ends with a backslash. Null at end of input. */
    static String readMessage(BufferedReader in) throws IOException {
        StringBuilder sb = new StringBuilder();
        String line;
        while ((line = in.readLine()) != null) {
            if (line.endsWith("\\")) {
                sb.append(line, 0, line.length() - 1).append('\n');
            } else {
                return sb.append(line).toString();
            }
        }
        return sb.isEmpty() ? null : sb.toString();
    }
}
