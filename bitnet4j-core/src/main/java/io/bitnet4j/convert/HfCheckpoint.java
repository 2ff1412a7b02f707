package io.bitnet4j.convert;

import io.bitnet4j.json.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face model directory: {@code config.json} and the weights, either one {@code model.safetensors} or shards
 * listed by {@code model.safetensors.index.json}. Every shard is mapped, none is read onto the heap.
 */
public final class HfCheckpoint implements AutoCloseable {
    static final String SINGLE = "model.safetensors";
    static final String INDEX = "model.safetensors.index.json";

    private final Path dir;
    private final HfConfig config;
    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsFile.Tensor> tensors;

    private HfCheckpoint(Path dir, HfConfig config, List<SafetensorsFile> files,
            Map<String, SafetensorsFile.Tensor> tensors) {
        this.dir = dir;
        this.config = config;
        this.files = files;
        this.tensors = tensors;
    }

    public static HfCheckpoint open(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(dir + " is not a directory (expected a Hugging Face model folder)");
        }
        Path configFile = dir.resolve("config.json");
        if (!Files.isRegularFile(configFile)) {
            throw new IllegalArgumentException(dir + " has no config.json");
        }
        HfConfig config = HfConfig.parse(Json.parse(configFile), configFile);
        Path index = dir.resolve(INDEX);
        Map<String, String> weightMap = Files.isRegularFile(index) ? weightMap(index) : null;
        List<SafetensorsFile> files = new ArrayList<>();
        try {
            Map<String, SafetensorsFile.Tensor> tensors = new LinkedHashMap<>();
            for (Path shard : shards(dir, weightMap)) {
                SafetensorsFile f = SafetensorsFile.open(shard);
                files.add(f);
                for (SafetensorsFile.Tensor t : f.tensors().values()) {
                    SafetensorsFile.Tensor previous = tensors.put(t.name(), t);
                    if (previous != null) {
                        throw new IllegalArgumentException("tensor '" + t.name() + "' is in two shards: "
                                + shardOf(files, previous).getFileName() + " and " + shard.getFileName());
                    }
                }
            }
            if (weightMap != null) {
                checkIndexMatches(index, weightMap, tensors, files);
            }
            return new HfCheckpoint(dir, config, List.copyOf(files), Collections.unmodifiableMap(tensors));
        } catch (RuntimeException e) {
            files.forEach(SafetensorsFile::close);
            throw e;
        }
    }

    /** The shard files: those the index names (in first-mention order), else the single file. */
    private static List<Path> shards(Path dir, Map<String, String> weightMap) {
        if (weightMap != null) {
            Path index = dir.resolve(INDEX);
            List<Path> out = new ArrayList<>();
            for (String file : weightMap.values()) {
                // the index is untrusted: a shard must be a plain file name inside the model folder
                if (file.isEmpty() || file.contains("/") || file.contains("\\") || file.equals("..") || file.equals(".")) {
                    throw new IllegalArgumentException(index + ": shard name '" + file + "' is not a plain file name");
                }
                Path p = dir.resolve(file);
                if (!out.contains(p)) {
                    if (!Files.isRegularFile(p)) {
                        throw new IllegalArgumentException(index + " names shard " + file + ", which is missing");
                    }
                    out.add(p);
                }
            }
            return out;
        }
        Path single = dir.resolve(SINGLE);
        if (Files.isRegularFile(single)) {
            return List.of(single);
        }
        throw new IllegalArgumentException(dir + " has neither " + SINGLE + " nor " + INDEX
                + " (bitnet4j converts safetensors checkpoints)");
    }

    private static Map<String, String> weightMap(Path index) {
        if (Json.parse(index) instanceof Map<?, ?> root && root.get("weight_map") instanceof Map<?, ?> map) {
            Map<String, String> out = new LinkedHashMap<>();
            map.forEach((k, v) -> {
                if (!(v instanceof String s)) {
                    throw new IllegalArgumentException(index + ": weight_map entry '" + k + "' is not a file name");
                }
                out.put((String) k, s);
            });
            return out;
        }
        throw new IllegalArgumentException(index + " has no \"weight_map\" object");
    }

    /** Every tensor the index lists must be in the shard it names, and every shard tensor must be listed. */
    private static void checkIndexMatches(Path index, Map<String, String> map, Map<String, SafetensorsFile.Tensor> tensors,
            List<SafetensorsFile> files) {
        for (Map.Entry<String, String> e : map.entrySet()) {
            SafetensorsFile.Tensor t = tensors.get(e.getKey());
            if (t == null || !shardOf(files, t).getFileName().toString().equals(e.getValue())) {
                throw new IllegalArgumentException(index + " places tensor '" + e.getKey() + "' in " + e.getValue()
                        + ", but it is " + (t == null ? "in no shard" : "in " + shardOf(files, t).getFileName()));
            }
        }
        for (String name : tensors.keySet()) {
            if (!map.containsKey(name)) {
                throw new IllegalArgumentException("tensor '" + name + "' is in a shard but not in " + index);
            }
        }
    }

    private static Path shardOf(List<SafetensorsFile> files, SafetensorsFile.Tensor t) {
        for (SafetensorsFile f : files) {
            if (f.tensors().get(t.name()) == t) {
                return f.path();
            }
        }
        throw new IllegalStateException("tensor " + t.name() + " belongs to no open shard");
    }

    public Path dir() {
        return dir;
    }

    public HfConfig config() {
        return config;
    }

    /** All tensors of all shards, by name. */
    public Map<String, SafetensorsFile.Tensor> tensors() {
        return tensors;
    }

    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
    }
}
