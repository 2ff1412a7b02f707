package io.bitnet4j.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bitnet4j.gguf.GgufFile;
import io.bitnet4j.tokenizer.Tokenizer;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code bitnet4j tokenize -m model.gguf "text"}: the token ids a model's vocabulary gives a text. */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = {"Tokenize text with a model's vocabulary, printing one line per token: id -> 'piece' "
                + "(like llama.cpp's llama-tokenize).",
            "The text comes from the argument, -p or -f; with --jsonl, from {\"text\": ...} lines on stdin."})
final class TokenizeCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "MODEL", description = "GGUF file")
    Path model;

    @Parameters(arity = "0..1", paramLabel = "TEXT", description = "Text to tokenize.")
    String text;

    @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", description = "Text to tokenize.")
    String prompt;

    @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "Tokenize the contents of this UTF-8 file.")
    Path file;

    @Option(names = "--ids", description = "Print only the ids, space-separated on one line.")
    boolean idsOnly;

    @Option(names = "--no-bos", description = "Do not add the BOS token (added by default when the model says so).")
    boolean noBos;

    @Option(names = "--no-parse-special",
            description = "Tokenize control-token texts such as <|eot_id|> as plain text.")
    boolean noParseSpecial;

    @Option(names = "--jsonl",
            description = "Read {\"text\": ...} lines from stdin, write {\"ids\": [...]} lines in the same order.")
    boolean jsonl;

    @Spec
    CommandSpec spec;

    /** Where --jsonl reads from; tests replace it. */
    InputStream stdin = System.in;

    @Override
    public Integer call() throws Exception {
        String input = jsonl ? null : inputText();
        if (jsonl && (text != null || prompt != null || file != null)) {
            throw new ParameterException(spec.commandLine(), "--jsonl reads stdin; give no TEXT, -p or -f");
        }
        Tokenizer tokenizer;
        try (GgufFile f = GgufFile.open(model)) {
            tokenizer = Tokenizer.fromGguf(f.metadata());
        }
        boolean addBos = !noBos && tokenizer.addBosByDefault();
        PrintWriter out = spec.commandLine().getOut();
        if (jsonl) {
            tokenizeLines(tokenizer, addBos, out);
        } else {
            int[] ids = tokenizer.encode(input, addBos, !noParseSpecial);
            if (idsOnly) {
                out.println(Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(" ")));
            } else {
                for (int id : ids) {
                    out.printf("%6d -> '%s'%n", id, new String(tokenizer.tokenBytes(id), StandardCharsets.UTF_8));
                }
            }
        }
        out.flush();
        return 0;
    }

    private String inputText() throws java.io.IOException {
        int sources = (text != null ? 1 : 0) + (prompt != null ? 1 : 0) + (file != null ? 1 : 0);
        if (sources != 1) {
            throw new ParameterException(spec.commandLine(), sources == 0
                    ? "no text: give TEXT, -p TEXT, -f FILE or --jsonl"
                    : "give the text once: TEXT, -p or -f");
        }
        if (file != null) {
            return Files.readString(file, StandardCharsets.UTF_8);
        }
        return text != null ? text : prompt;
    }

    private void tokenizeLines(Tokenizer tokenizer, boolean addBos, PrintWriter out) throws java.io.IOException {
        ObjectMapper json = new ObjectMapper();
        BufferedReader in = new BufferedReader(new InputStreamReader(stdin, StandardCharsets.UTF_8));
        int lineNumber = 0;
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            lineNumber++;
            if (line.isBlank()) {
                continue;
            }
            JsonNode node;
            try {
                node = json.readTree(line);
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException("stdin line " + lineNumber + ": not valid JSON: "
                        + e.getOriginalMessage());
            }
            JsonNode value = node.get("text");
            if (!node.isObject() || value == null || !value.isTextual()) {
                throw new IllegalArgumentException("stdin line " + lineNumber
                        + ": expected a JSON object with a string field \"text\"");
            }
            int[] ids = tokenizer.encode(value.asText(), addBos, !noParseSpecial);
            out.println(json.writeValueAsString(Map.of("ids", ids)));
            out.flush();
        }
    }
}
