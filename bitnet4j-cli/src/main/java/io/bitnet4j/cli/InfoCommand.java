package io.bitnet4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.bitnet4j.gguf.GgufArray;
import io.bitnet4j.gguf.GgufFile;
import io.bitnet4j.gguf.GgufValue;
import io.bitnet4j.gguf.TensorInfo;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code bitnet4j info model.gguf}: metadata (arrays summarised) and the tensor table. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Print a GGUF file's metadata and tensor table.")
final class InfoCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "GGUF file")
    Path model;

    @Option(names = "--json", description = "Print one JSON object (arrays summarised by type and length).")
    boolean json;

    @Option(names = "--full-arrays", description = "With --json, include array elements in full.")
    boolean fullArrays;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        try (GgufFile f = GgufFile.open(model)) {
            if (json) {
                ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
                out.println(mapper.writeValueAsString(toJson(f)));
            } else {
                printText(f, out);
            }
        }
        out.flush();
        return 0;
    }

    private void printText(GgufFile f, PrintWriter out) {
        out.printf("file: %s (%s, GGUF v%d, alignment %d)%n", model, bytes(f.fileSize()), f.version(), f.alignment());
        out.printf("metadata: %d keys%n", f.metadata().asMap().size());
        f.metadata().asMap().forEach((k, v) -> out.printf("  %-44s %s%n", k, v.display()));
        long total = 0;
        long params = 0;
        for (TensorInfo t : f.tensors().values()) {
            total += t.byteSize();
            params += t.elementCount();
        }
        out.printf("tensors: %d, %s of data, %,d parameters%n", f.tensors().size(), bytes(total), params);
        out.printf("  %-36s %-6s %-22s %12s%n", "name", "type", "shape", "bytes");
        for (TensorInfo t : f.tensors().values()) {
            out.printf("  %-36s %-6s %-22s %,12d%n", t.name(), t.type(), t.shapeString(), t.byteSize());
        }
    }

    private Map<String, Object> toJson(GgufFile f) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("file", model.toString());
        root.put("file_size", f.fileSize());
        root.put("version", f.version());
        root.put("alignment", f.alignment());
        Map<String, Object> meta = new LinkedHashMap<>();
        f.metadata().asMap().forEach((k, v) -> meta.put(k, jsonValue(v)));
        root.put("metadata", meta);
        List<Map<String, Object>> tensors = new ArrayList<>();
        for (TensorInfo t : f.tensors().values()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", t.name());
            m.put("type", t.type().name());
            m.put("shape", t.shape());
            m.put("offset", t.offset());
            m.put("bytes", t.byteSize());
            tensors.add(m);
        }
        root.put("tensors", tensors);
        return root;
    }

    private Object jsonValue(GgufValue v) {
        if (v.value() instanceof GgufArray a) {
            if (fullArrays) {
                return a.elements();
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("type", "array");
            m.put("element_type", a.elementType().name().toLowerCase());
            m.put("length", a.length());
            return m;
        }
        return v.value();
    }

    static String bytes(long n) {
        if (n >= 1L << 30) {
            return String.format("%.2f GiB", n / (double) (1L << 30));
        }
        if (n >= 1L << 20) {
            return String.format("%.2f MiB", n / (double) (1L << 20));
        }
        return n + " B";
    }
}
